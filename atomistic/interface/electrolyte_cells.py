"""Starting cells for electrolytes: water with ions, in bulk and against a metal electrode.

- ``water_box(n_water, ions, density_g_cm3, seed)``: a cubic periodic box of
  ``n_water`` H2O molecules plus monatomic ions (e.g. ``("Na", "Cl")``) at the
  given mass density.
- ``electrode_water_cell(metal, size, n_water, ions, gap_A, seed)``: an fcc(111)
  slab whose periodic images are separated by a water film (no vacuum, so no
  dipole correction is needed), with the ions in the film.

Both place molecules by random sequential insertion with a minimum heavy-atom
distance (``MIN_HEAVY_A``) and a random orientation, so a seed fixes the cell.
They are *starting* points: the hydrogen-bond network is random, not
equilibrated. The active-learning loop's MD (``atomistic.learning``) relaxes and
samples them, labelling with DFT where the committee is unsure.

Geometry of a water molecule: O-H 0.9572 A, H-O-H 104.52 deg (the experimental
gas-phase values, as in TIP3P). A neutral cell with one Na (or Cl) against a
metal is the DFT picture of an ion and its image charge: the metal takes the
electron Na gives up (or gives the one Cl takes).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError

#: no two heavy atoms (O or ion) closer than this when inserting (A); water's O-O
#: first g(r) peak is at 2.8 A, ion-O at 2.4 (Na) to 3.2 (Cl)
MIN_HEAVY_A = 2.5
#: no O or ion closer than this to a metal atom (A); O-Cu on Cu(111) is ~2.2-3 A
MIN_METAL_A = 2.3
#: no hydrogen closer than this to an atom of another molecule (A); the H...O
#: hydrogen bond is ~1.8 A
MIN_H_A = 1.6

_OH = 0.9572
_HOH = np.radians(104.52)


def _water(rng) -> np.ndarray:
    """O, H, H positions (A) of one randomly oriented molecule, O at the origin."""
    half = _HOH / 2
    local = np.array([[0.0, 0.0, 0.0],
                      [_OH * np.sin(half), 0.0, _OH * np.cos(half)],
                      [-_OH * np.sin(half), 0.0, _OH * np.cos(half)]])
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))          # a uniformly random rotation (Haar)
    return local @ q.T


def _mic(d, cell):
    """Minimum-image displacement for a general periodic cell (rows are vectors)."""
    frac = np.linalg.solve(cell.T, d.T).T
    frac -= np.round(frac)
    return frac @ cell


def _insert(cell, fixed, n_water, ions, z_range, rng, max_tries=400_000):
    """Symbols and positions of the inserted molecules, in random order.

    A candidate is accepted when its heavy atom is ``MIN_HEAVY_A`` from every
    other heavy atom and ``MIN_METAL_A`` from every metal atom, and each of its
    hydrogens is ``MIN_H_A`` from every atom placed before (so no hydrogen
    starts inside another molecule).
    """
    symbols, positions = [], []
    heavy, light = [], []
    metal = np.asarray(fixed, float).reshape(-1, 3)
    species = ["H2O"] * n_water + list(ions)
    rng.shuffle(species)

    def far(points, p, limit):
        return not len(points) or np.min(np.linalg.norm(
            _mic(np.asarray(points) - p, cell), axis=-1)) >= limit

    tries = 0
    for sp in species:
        while True:
            tries += 1
            if tries > max_tries:
                raise InputError(f"could not insert {n_water} H2O + {list(ions)} with "
                                 f"{MIN_HEAVY_A} A between heavy atoms: the cell is too small "
                                 "for them (lower n_water or enlarge the cell)")
            p = rng.random(3) @ cell
            if z_range is not None:
                p[2] = rng.uniform(*z_range)
            if not (far(heavy, p, MIN_HEAVY_A) and far(metal, p, MIN_METAL_A)
                    and far(light, p, MIN_H_A)):
                continue
            if sp != "H2O":
                break
            mol = p + _water(rng)
            if all(far(heavy + light, h, MIN_H_A) and far(metal, h, MIN_H_A) for h in mol[1:]):
                break
        heavy.append(p)
        if sp == "H2O":
            light += list(mol[1:])
            symbols += ["O", "H", "H"]
            positions += list(mol)
        else:
            symbols.append(sp)
            positions.append(p)
    return symbols, np.array(positions)


def _check_ions(ions):
    from ase.data import atomic_numbers

    for s in ions:
        if s not in atomic_numbers:
            raise InputError(f"ions: {s!r} is not an element symbol")
    return tuple(ions)


def water_box(n_water: int = 32, ions=("Na", "Cl"), density_g_cm3: float = 1.0,
              seed: int = 0):
    """A cubic periodic box of ``n_water`` H2O and ``ions`` at ``density_g_cm3``."""
    from ase import Atoms
    from ase.data import atomic_masses, atomic_numbers
    from ase.units import _amu

    if n_water < 1:
        raise InputError(f"n_water: {n_water}: expected >= 1")
    if not 0.3 <= density_g_cm3 <= 2.0:
        raise InputError(f"density_g_cm3: {density_g_cm3}: expected 0.3-2.0 (liquid water is 1.0)")
    ions = _check_ions(ions)
    mass_amu = n_water * (atomic_masses[8] + 2 * atomic_masses[1]) + sum(
        atomic_masses[atomic_numbers[s]] for s in ions)
    volume_A3 = mass_amu * _amu * 1e3 / density_g_cm3 * 1e24
    side = volume_A3 ** (1 / 3)
    cell = np.eye(3) * side
    rng = np.random.default_rng(seed)
    symbols, positions = _insert(cell, [], n_water, ions, None, rng)
    atoms = Atoms(symbols, positions=positions, cell=cell, pbc=True)
    atoms.wrap()
    atoms.info["built_by"] = f"water_box(n_water={n_water}, ions={list(ions)}, " \
                             f"density_g_cm3={density_g_cm3}, seed={seed})"
    return atoms


def electrode_water_cell(metal: str = "Cu", size=(3, 3, 3), n_water: int = 14,
                         ions=("Na",), gap_A: float = 10.0, seed: int = 0,
                         lattice_A: float | None = None):
    """An fcc(111) slab of ``size`` (a, b, layers) and a water film of ``gap_A`` between
    its periodic images (top layer to the next slab's bottom layer), with ``ions`` in it.

    ``lattice_A``: the cubic lattice constant (default: ASE's reference value, 3.61 A
    for Cu; PBE gives ~3.63). The bottom layer is tagged 3 ... top layer 1 (ASE's
    convention), so a caller can fix the bottom layers.
    """
    from ase.build import fcc111

    if n_water < 0:
        raise InputError(f"n_water: {n_water}: expected >= 0")
    if gap_A < 2 * MIN_METAL_A + 1.0:
        raise InputError(f"gap_A: {gap_A}: expected >= {2 * MIN_METAL_A + 1.0} A "
                         "(the film must fit between the two metal surfaces)")
    ions = _check_ions(ions)
    slab = fcc111(metal, size=tuple(size), a=lattice_A, vacuum=None, periodic=True)
    slab.info.pop("adsorbate_info", None)  # a dict of numpy arrays extxyz cannot store
    slab.positions[:, 2] -= slab.positions[:, 2].min()
    top = slab.positions[:, 2].max()
    layer = top / max(size[2] - 1, 1)
    cell = slab.cell.array.copy()
    cell[2] = [0.0, 0.0, top + gap_A]
    slab.set_cell(cell)
    rng = np.random.default_rng(seed)
    z_range = (top + MIN_METAL_A, top + gap_A - MIN_METAL_A)
    symbols, positions = _insert(cell, slab.positions, n_water, ions, z_range, rng)
    from ase import Atoms

    film = Atoms(symbols, positions=positions, cell=cell, pbc=True)
    atoms = slab + film
    atoms.wrap()
    atoms.info["built_by"] = (f"electrode_water_cell(metal={metal!r}, size={list(size)}, "
                              f"n_water={n_water}, ions={list(ions)}, gap_A={gap_A}, "
                              f"seed={seed})")
    atoms.info["layer_spacing_A"] = float(layer)
    return atoms
