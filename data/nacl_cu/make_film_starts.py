"""Append-only starting cells: a Cu(111) slab under a film thick enough to have a middle.

Run:  .venv/bin/python data/nacl_cu/make_film_starts.py      (seconds; deterministic)

The campaign's interface cells hold 14 H2O in a 10 A film: two first layers and nothing
between them. The interface benchmark (bench/electrolyte_interface.py) runs a 25 A film
of 70 H2O and 2 NaCl on a 4x4 slab, and the shipped committee left its trust there
within 0.2 ps (max_force_dev 1.4-2.7 eV/A on every element). A 262-atom cell is too
large to label in minutes, so this start is its smallest relative: the campaign's 3x3,
three-layer slab (a = 3.63 A, PBE) under a 20 A film of 30 H2O with a Na+ and a Cl-
(119 atoms; about 1.7 mol/kg, as the benchmark). ``learn.toml`` appends it as a
structure: walkers at 300 and 400 K join at the current round. Committed because the
campaign reads it.
"""
from pathlib import Path

from atomistic.interface.electrolyte_cells import electrode_water_cell
from foundation.files import atomic_path

HERE = Path(__file__).resolve().parent
CU_PBE_A = 3.63


def film_starts():
    atoms = electrode_water_cell("Cu", (3, 3, 3), 30, ("Na", "Cl"), gap_A=20.0, seed=7,
                                 lattice_A=CU_PBE_A)
    atoms.info.update(system="interface", start_label="20 A film")
    return [atoms]


def main():
    from ase.io import write

    cells = film_starts()
    with atomic_path(HERE / "start_films.extxyz") as tmp:
        write(tmp, cells, format="extxyz")
    for a in cells:
        print(a.get_chemical_formula(), len(a), a.info["start_label"])


if __name__ == "__main__":
    main()
