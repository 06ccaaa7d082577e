"""Append-only starting cells: a Na+ or a Cl- in contact with Cu(111) under a 20 A film.

Run:  .venv/bin/python data/nacl_cu/make_contact_starts.py      (seconds; deterministic)

The interface benchmark's zero-field run (bench/electrolyte_interface.py, BENCHMARKS.md)
left the shipped committee's trust at 11.6 ps when a Na+ came to 2.6-2.8 A of the Cu
surface; over the run the committee's least certain atom was an ion or a first-layer water
O, at a median 2.8 A from the nearest Cu. The campaign's cells had no ion in contact with
the metal: the film walkers (start_films.extxyz) roll back before they get there. These
two cells are make_film_starts.py's 119-atom cell with one ion moved onto an fcc hollow of
the top layer: Na+ 2.3 A above it (2.7 A from its three Cu, as in the benchmark), Cl- 2.0 A
(2.5 A from its three Cu: chemisorbed chloride on Cu(111)), the waters in its way
removed (two in each: 28 H2O, 113 atoms). ``learn.toml`` appends them as a structure:
walkers at 300 and 400 K join at the current round. Committed because the campaign reads
it. The campaign's committee at round 31 puts these cells at max_force_dev 0.70 (Na) and
1.35 eV/A (Cl), inside its trust_hi of 1.5: its walkers can label them.
"""
from pathlib import Path

import numpy as np

from foundation.files import atomic_path

HERE = Path(__file__).resolve().parent
HEIGHT_A = {"Na": 2.3, "Cl": 2.0}


def in_contact(film, ion: str):
    """``film`` (a make_film_starts-style cell) with its first ``ion`` moved onto an fcc
    hollow of the top Cu layer, HEIGHT_A[ion] above it, and the waters in its way removed."""
    atoms = film.copy()
    height = HEIGHT_A[ion]
    sym = np.array(atoms.get_chemical_symbols())
    cu = np.flatnonzero(sym == "Cu")
    z = atoms.positions[cu, 2]
    top = cu[np.isclose(z, z.max(), atol=0.1)]
    below = cu[np.isclose(z, np.sort(np.unique(np.round(z, 1)))[-3], atol=0.1)]
    # an fcc hollow: above an atom of the third layer from the top
    site = atoms.positions[below[0]].copy()
    site[2] = atoms.positions[top, 2].mean() + height
    i = int(np.flatnonzero(sym == ion)[0])
    atoms.positions[i] = site
    # the waters in the ion's way go (any of whose atoms is within 2.2 A of the site):
    # a swapped-in water clashes with the ion's old solvation shell
    d = np.linalg.norm(atoms.get_distances(i, range(len(atoms)), mic=True, vector=True),
                       axis=1)
    gone = {k for k in np.flatnonzero(sym == "O")
            if (d[[k, k + 1, k + 2]] < 2.2).any()}
    del atoms[[j for k in sorted(gone) for j in (k, k + 1, k + 2)]]
    atoms.wrap()
    atoms.info.update(system="interface", start_label=f"20 A film, {ion} in contact")
    return atoms


def contact_starts():
    import sys

    sys.path.insert(0, str(HERE))
    from make_film_starts import film_starts

    return [in_contact(film_starts()[0], ion) for ion in HEIGHT_A]


def intermolecular_distances(atoms):
    """All distances (minimum image), with the diagonal and each water's own O-H and H-H
    pairs at inf: what is left are contacts between molecules, ions and the metal (waters
    are O, H, H triples, as the cell builders write them)."""
    sym = np.array(atoms.get_chemical_symbols())
    d = atoms.get_all_distances(mic=True)
    np.fill_diagonal(d, np.inf)
    for k in np.flatnonzero(sym == "O"):       # O-H bonds are not contacts
        d[k:k + 3, k:k + 3] = np.inf
    return d


def write_starts(cells, name: str):
    """``cells`` written (atomically) to HERE/``name``, the file the campaign reads; returns them."""
    from ase.io import write

    with atomic_path(HERE / name) as tmp:
        write(tmp, cells, format="extxyz")
    return cells


def main():
    for a in write_starts(contact_starts(), "start_contact.extxyz"):
        sym = np.array(a.get_chemical_symbols())
        d = intermolecular_distances(a)
        ion = [s for s in HEIGHT_A if s in sym and a.info["start_label"].endswith(f"{s} in contact")][0]
        i = int(np.flatnonzero(sym == ion)[0])
        print(a.get_chemical_formula(), len(a), a.info["start_label"],
              f"{ion}-Cu {d[i, sym == 'Cu'].min():.2f} A, closest contact {d.min():.2f} A")


if __name__ == "__main__":
    main()
