"""Build the starting cells of the NaCl(aq) | Cu(111) dataset: start.extxyz.

Run:  .venv/bin/python data/nacl_cu/make_start.py      (a few seconds; deterministic)

Six cells, each a walker start of the active-learning campaign (learn.toml):
bulk 32 H2O + NaCl, bulk 32 H2O + LiCl, bulk 32 H2O (98/98/96 atoms, 1.0 g/cm3),
and a Cu(111) 3x3 three-layer slab under a 10 A water film of 14 H2O with a
Na, with a Cl, and with no ion (70/70/69 atoms). Cu at a = 3.63 A (PBE).
"""
from pathlib import Path

from atomistic.interface.electrolyte_cells import electrode_water_cell, water_box
from foundation.files import atomic_path

HERE = Path(__file__).resolve().parent
CU_PBE_A = 3.63   # PBE lattice constant of Cu (expt. 3.61 A)


def start_cells():
    cells = [water_box(32, ("Na", "Cl"), seed=1), water_box(32, ("Li", "Cl"), seed=2),
             water_box(32, (), seed=3)]
    for seed, ions in ((4, ("Na",)), (5, ("Cl",)), (6, ())):
        cells.append(electrode_water_cell("Cu", (3, 3, 3), 14, ions, gap_A=10.0, seed=seed,
                                          lattice_A=CU_PBE_A))
    for k, atoms in enumerate(cells):
        atoms.info["system"] = "bulk" if k < 3 else "interface"
    return cells


def main():
    from ase.io import write

    cells = start_cells()
    with atomic_path(HERE / "start.extxyz") as tmp:
        write(tmp, cells, format="extxyz")
    for atoms in cells:
        print(f"{atoms.info['system']:9s} {atoms.get_chemical_formula():14s} {len(atoms):3d} atoms")


if __name__ == "__main__":
    main()
