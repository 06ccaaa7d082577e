"""Cut the high-level cluster out of a (possibly periodic, possibly triclinic) system.

The cluster is a finite, non-periodic copy of some atoms of the system, unwrapped by the
minimum-image convention around a centre point, optionally with hydrogen caps on the
bonds that the cut breaks. ``Cluster.scatter`` maps forces on the cluster back onto the
system's atoms, passing each cap's force to the two atoms of the bond it replaces (the
cap sits at a fixed fraction of that bond, so this is the exact chain rule).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.data import covalent_radii
from ase.neighborlist import natural_cutoffs, neighbor_list

from .errors import InputError
from .regions import mic_vectors

__all__ = ["Cluster", "cut_cluster", "formal_charge", "whole_molecules", "FORMAL_CHARGES"]

_H = 1  # atomic number of the capping atom

# Formal charges (e) of elements that are monatomic ions in the systems this toolkit
# models: aqueous electrolytes at metal electrodes. Every other element counts as neutral
# (H, O, C, N, S and the metals: a water molecule, a whole organic molecule and a metal
# cluster carry no formal charge). An OH- or H3O+ in the cluster is *not* seen: pass an
# integer or a function as ``cluster_charge`` for such systems.
FORMAL_CHARGES = {"Li": 1, "Na": 1, "K": 1, "Rb": 1, "Cs": 1, "Mg": 2, "Ca": 2, "Sr": 2,
                  "Ba": 2, "F": -1, "Cl": -1, "Br": -1, "I": -1}


@dataclass
class Cluster:
    """A cut-out cluster.

    atoms: the finite cluster (pbc False), real atoms first, then caps.
    indices: system index of each real cluster atom, shape (n,).
    cap_bonds: (i, j) system indices of each capped bond (i inside, j outside), shape (m, 2).
    cap_fraction: g of each cap; cap = r_i + g (r_j - r_i), shape (m,).
    """

    atoms: Atoms
    indices: np.ndarray
    cap_bonds: np.ndarray
    cap_fraction: np.ndarray

    def scatter(self, forces: np.ndarray, natoms: int) -> np.ndarray:
        """Cluster forces (n + m, 3) -> system forces (natoms, 3), eV/Angstrom; zero elsewhere."""
        out = np.zeros((natoms, 3))
        n = len(self.indices)
        np.add.at(out, self.indices, forces[:n])
        if len(self.cap_bonds):
            fc = forces[n:]
            g = self.cap_fraction[:, None]
            np.add.at(out, self.cap_bonds[:, 0], (1.0 - g) * fc)
            np.add.at(out, self.cap_bonds[:, 1], g * fc)
        return out


def whole_molecules(atoms: Atoms, indices, scale: float = 1.2) -> np.ndarray:
    """``indices`` grown to whole molecules, where a molecule is what hydrogen bonds covalently
    hold together: every H within (R_i + R_H) x ``scale`` of an atom (covalent radii) joins
    that atom's group, and groups sharing an atom merge (H2O, OH-, H3O+, CH4, NH4+).

    For aqueous clusters: a cut through a water molecule leaves an O radical or a bare
    proton in the high-level calculation, which no switching can make physical. Bonds
    between heavy atoms do not join groups (a metal stays atom by atom), so molecules with
    heavy-atom backbones need ``hydrogen_caps`` instead. Returns sorted unique indices.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    indices = np.unique(np.asarray(indices, dtype=int))
    i, j = neighbor_list("ij", atoms, natural_cutoffs(atoms, mult=scale))
    z = atoms.numbers
    keep = (z[i] == _H) | (z[j] == _H)
    n = len(atoms)
    graph = coo_matrix((np.ones(int(keep.sum())), (i[keep], j[keep])), shape=(n, n))
    _, group = connected_components(graph, directed=False)
    return np.flatnonzero(np.isin(group, group[indices]))


def formal_charge(atoms: Atoms) -> int:
    """Sum of ``FORMAL_CHARGES`` over the atoms (e): the net charge of a cluster cut from an
    electrolyte along whole molecules, e.g. +1 for Na+ with its water shell, 0 once a Cl-
    joins it. Elements not in the table count as neutral."""
    return int(sum(FORMAL_CHARGES.get(s, 0) for s in atoms.get_chemical_symbols()))


def _plane_spacings(atoms: Atoms) -> np.ndarray:
    """Distances between lattice planes (Angstrom, (3,)); inf along non-periodic axes."""
    spacing = np.full(3, np.inf)
    if atoms.pbc.any():
        recip = np.linalg.norm(atoms.cell.reciprocal(), axis=1)
        spacing[atoms.pbc] = 1.0 / recip[atoms.pbc]
    return spacing


def cut_cluster(atoms: Atoms, indices: np.ndarray, centre: np.ndarray, vacuum: float = 4.0,
                hydrogen_caps: bool = False, cap_scale: float = 1.2,
                grid_spacing: float | None = None) -> Cluster:
    """Cut atoms ``indices`` out of ``atoms`` as a finite cluster around ``centre``.

    Each atom is placed at its minimum-image position relative to ``centre`` (correct for
    any cell shape). If the cluster is so large that an atom and one of its own periodic
    images could both belong to it, the cut is ambiguous and an InputError says so.
    With ``hydrogen_caps``, every bond (covalent radii x ``cap_scale``) from a cluster atom
    to an atom outside it is replaced by an H atom along the bond, at the fraction (R_i + R_H) / (R_i + R_j) of the bond (R = covalent radius).

    ``grid_spacing`` (Angstrom): for real-space codes (GPAW) run with that grid spacing.
    The box is then a multiple of 4 spacings in each direction and is shifted only by
    whole spacings, so every atom keeps its position relative to the grid points of a
    grid anchored at the system's origin. Without it, the box follows the cluster's extent
    continuously and the atoms slide across the grid from one step to the next (the
    egg-box effect then adds position-dependent noise to the high-level forces, and the
    cluster sees a different grid than a full-system calculation of the same atoms).
    """
    indices = np.asarray(indices, dtype=int)
    rel = mic_vectors(atoms.positions[indices] - centre, atoms)
    spacing = _plane_spacings(atoms).min()
    radius = np.linalg.norm(rel, axis=1).max() if len(rel) else 0.0
    if 2.0 * radius >= spacing:
        raise InputError(
            f"cluster radius {radius:.3f} A is at least half the smallest periodic plane "
            f"spacing {spacing:.3f} A: the cluster would meet its own periodic image. "
            "Expected a larger cell, or a smaller region/buffer")
    pos = centre + rel
    symbols = list(atoms.symbols[indices])
    cap_bonds = np.zeros((0, 2), int)
    cap_fraction = np.zeros(0)
    if hydrogen_caps:
        i, j, D = neighbor_list("ijD", atoms, natural_cutoffs(atoms, mult=cap_scale))
        inside = np.zeros(len(atoms), bool)
        inside[indices] = True
        cut = inside[i] & ~inside[j]
        i, j, D = i[cut], j[cut], D[cut]
        if len(i):
            z = atoms.numbers
            # A fixed fraction of the bond (ratio of covalent-radius sums), not a fixed
            # length: then the cap is linear in r_i, r_j and its force splits exactly.
            g = (covalent_radii[z[i]] + covalent_radii[_H]) / (covalent_radii[z[i]]
                                                               + covalent_radii[z[j]])
            where = np.searchsorted(indices, i) if np.all(np.diff(indices) > 0) else \
                np.array([np.flatnonzero(indices == k)[0] for k in i])
            caps = pos[where] + g[:, None] * D
            pos = np.vstack([pos, caps])
            symbols += ["H"] * len(i)
            cap_bonds = np.stack([i, j], axis=1)
            cap_fraction = g
    cluster = Atoms(symbols, positions=pos, pbc=False)
    for name in ("initial_magmoms", "initial_charges"):
        if name in atoms.arrays:
            values = np.zeros(len(cluster))
            values[:len(indices)] = atoms.arrays[name][indices]
            cluster.set_array(name, values)
    lo, hi = pos.min(axis=0) - vacuum, pos.max(axis=0) + vacuum
    if grid_spacing is not None:
        if not np.isfinite(grid_spacing) or grid_spacing <= 0:
            raise InputError(f"grid_spacing={grid_spacing!r}: expected a grid spacing > 0 Angstrom")
        lo = np.floor(lo / grid_spacing) * grid_spacing
        # multiples of 4 points: real-space codes (GPAW's multigrid) round up to those
        cells = np.ceil((hi - lo) / (4 * grid_spacing)) * 4
        hi = lo + cells * grid_spacing
    cluster.cell = np.diag(hi - lo)
    cluster.positions -= lo
    return Cluster(cluster, indices, cap_bonds, cap_fraction)
