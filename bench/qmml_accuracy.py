"""Accuracy of HybridCalculator against the full high-level calculation, vs buffer width.

Run:  .venv/bin/python bench/qmml_accuracy.py      (about 2-3 minutes on one core)

Part 1 (EMT high, Lennard-Jones low): Cu fcc 8x8x8 cubic cell (2048 atoms, rattled
0.05 A, periodic), region: sphere 1.0 -> 2.0 A around atom 0. Core = atoms with weight 1.
Error = max |F_hybrid - F_EMT(full system)| over core force components. EMT's forces
reach 2 x its cutoff, so a buffer of 2 x cutoff should make the error vanish.

Part 2 (GPAW LCAO high, EMT low): a 55-atom Al fcc nanoparticle (rattled 0.05 A);
core = the central atom (sphere 0.5 -> 1.0 A); the full-GPAW
reference is the whole particle. Error = RMS over core force components.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._record import markdown_table, record  # noqa: E402
from couplers import HybridCalculator  # noqa: E402
from couplers.regions import SphereRegion  # noqa: E402

FAST = os.environ.get("MULTISCALE_FAST") == "1"


def emt_part():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(8)
    atoms.rattle(0.05, seed=6)
    ref = atoms.copy()
    ref.calc = EMT()
    f_ref = ref.get_forces()
    cutoff = ref.calc.rc_list
    core = SphereRegion(1.0, 2.0, atoms=[0]).distances(atoms) < 1.0
    rows, errors = [], []
    for buffer in sorted((1.0, 2.0, 4.0, cutoff, 8.0, 10.0, 2 * cutoff)):
        atoms.calc = HybridCalculator(EMT(), LennardJones(epsilon=0.4093, sigma=2.338, rc=5.5,
                                                          ro=4.5, smooth=True),
                                      SphereRegion(1.0, 2.0, atoms=[0]), buffer=buffer)
        err = np.max(np.abs(atoms.get_forces()[core] - f_ref[core]))
        errors.append(err)
        rows.append([f"{buffer:.2f}", f"{buffer / cutoff:.2f}", atoms.calc.step_info["n_cluster"],
                     f"{err:.2e}"])
        print(rows[-1], flush=True)
    # below 1e-12 eV/A the error is summation rounding, not buffer truncation
    mono = all(b < a or max(a, b) < 1e-12 for a, b in zip(errors, errors[1:]))
    return rows, errors, mono, cutoff


def gpaw_part():
    from gpaw import GPAW

    bulk_al = bulk("Al", "fcc", a=4.05, cubic=True).repeat(5)
    centre = bulk_al.positions[np.argmin(np.linalg.norm(bulk_al.positions - bulk_al.cell.sum(0) / 2,
                                                        axis=1))]
    keep = np.linalg.norm(bulk_al.positions - centre, axis=1) < 6.0
    particle = bulk_al[keep]
    particle.pbc = False
    particle.rattle(0.05, seed=9)
    particle.center(vacuum=3.0)
    mid = int(np.argmin(np.linalg.norm(particle.positions - particle.positions.mean(0), axis=1)))

    def dft():
        return GPAW(mode="lcao", basis="sz(dzp)", h=0.3, xc="LDA", txt=None,
                    occupations={"name": "fermi-dirac", "width": 0.1})

    t0 = time.perf_counter()
    ref = particle.copy()
    ref.calc = dft()
    f_ref = ref.get_forces()
    t_full = time.perf_counter() - t0
    core = SphereRegion(0.5, 1.0, atoms=[mid]).distances(particle) < 0.5
    rows = [["full GPAW", len(particle), "0", f"{t_full:.1f}"]]
    rms = {}
    for buffer in ((3.0,) if FAST else (3.0, 4.5)):
        a = particle.copy()
        a.calc = HybridCalculator(dft(), EMT(), SphereRegion(0.5, 1.0, atoms=[mid]), buffer=buffer,
                                  vacuum=3.0)
        t0 = time.perf_counter()
        f = a.get_forces()
        rms[buffer] = float(np.sqrt(np.mean((f[core] - f_ref[core]) ** 2)))
        rows.append([f"buffer {buffer} A", a.calc.step_info["n_cluster"], f"{rms[buffer]:.3f}",
                     f"{time.perf_counter() - t0:.1f}"])
        print(rows[-1], flush=True)
    return rows, rms, int(core.sum()), len(particle)


def main():
    rows, errors, mono, cutoff = emt_part()
    t1 = markdown_table(["buffer (A)", "buffer / EMT cutoff", "cluster atoms",
                         "max core force error (eV/A)"], rows)
    s1 = (f"\nEMT cutoff {cutoff:.3f} A. Error falls monotonically: {'yes (met)' if mono else 'no (missed)'}; "
          f"at buffer = 2 x cutoff: {errors[-1]:.1e} eV/A vs target < 1e-6 "
          f"({'met' if errors[-1] < 1e-6 else 'missed'}).\n")
    print(t1 + s1)
    g_rows, rms, ncore, npart = gpaw_part()
    t2 = markdown_table(["calculation", "atoms in DFT", "core force RMS error vs full GPAW (eV/A)",
                         "wall time (s)"], g_rows)
    best = min(rms.values())
    s2 = (f"\n{npart}-atom Al particle, {ncore} core atoms, GPAW LCAO sz(dzp) LDA h=0.3, low = EMT. "
          f"Best core RMS error {best:.3f} eV/A vs target < 0.05 ({'met' if best < 0.05 else 'missed'}).\n")
    print(t2 + s2)
    if not FAST:
        record("qmml_accuracy", "python bench/qmml_accuracy.py",
               "### EMT high, Lennard-Jones low\n\n" + t1 + "\n" + s1 +
               "\n### GPAW high, EMT low\n\n" + t2 + "\n" + s2)


if __name__ == "__main__":
    main()
