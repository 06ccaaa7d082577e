"""Append-only starting cells where production MD left the committee's trust.

Run:  .venv/bin/python data/nacl_cu/make_production_starts.py
      (reads bench/out/electrolyte_bulk/98.npz, the 98-atom production of
      bench/electrolyte_bulk.py; writes start_production.extxyz)

The bulk benchmark's 98-atom NaCl(aq) production with the shipped committee left
trust (max force deviation > 0.8 eV/A for 50 fs) after 0.365 ps. The campaign's own
walkers restart from their last trusted state whenever they reach such frames, so
they never label where a long run goes. This script takes three snapshots of that run:
its first frame (after 1 ps of Langevin equilibration), the recorded frame of largest
deviation, and the last one. ``learn.toml`` appends them as structures, so each gets
walkers at 300 and 400 K that explore from there (atomistic.learning.loop: appended
structures join at the current round). The file is committed because bench/out is not.
"""
from pathlib import Path

import numpy as np

from foundation.files import atomic_path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def production_starts(path=ROOT / "bench" / "out" / "electrolyte_bulk" / "98.npz"):
    from ase import Atoms

    from atomistic.md.production import read_production

    prod = read_production(path)
    picks = {"first": 0, "most_uncertain": int(np.argmax(prod.max_force_dev)),
             "last": len(prod.max_force_dev) - 1}
    cells = []
    for label, k in picks.items():
        a = Atoms(prod.symbols, positions=prod.positions[k], cell=prod.cell, pbc=True)
        a.wrap()
        a.info.update(system="bulk", origin=f"electrolyte_bulk 98-atom production, {label} "
                      f"frame at {prod.time_fs[k]:.0f} fs (max_force_dev "
                      f"{prod.max_force_dev[k]:.2f} eV/A)")
        cells.append(a)
    return cells


def main():
    from ase.io import write

    cells = production_starts()
    with atomic_path(HERE / "start_production.extxyz") as tmp:
        write(tmp, cells, format="extxyz")
    for a in cells:
        print(a.get_chemical_formula(), a.info["origin"])


if __name__ == "__main__":
    main()
