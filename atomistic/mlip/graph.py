"""The adapter between ``ase.Atoms`` and the tensor dicts the potential reads.

``atoms_to_graph`` builds the neighbour list (matscipy's C list for fully
periodic cells; ASE's ``primitive_neighbor_list`` otherwise, which also
handles isolated molecules with a zero cell) and returns numpy arrays;
``collate`` stacks several graphs into one batch of torch tensors. Units are
ASE's (Angstrom). Unknown elements raise ``UnknownElementError``, which is
both our ``InputError`` and ASE's calculator ``InputError``.
"""
from __future__ import annotations

import numpy as np
from ase.calculators.calculator import InputError as AseInputError

from ..errors import InputError


class UnknownElementError(InputError, AseInputError):
    """A structure contains an element the potential was not trained on."""


def neighbour_pairs(atoms, cutoff: float):
    """Directed pairs (i, j) and integer image shifts S (E, 3) within ``cutoff`` Angstrom."""
    pbc = np.asarray(atoms.pbc, dtype=bool)
    if pbc.all():
        from matscipy.neighbours import neighbour_list

        i, j, S = neighbour_list("ijS", atoms, float(cutoff))
    else:
        from ase.neighborlist import primitive_neighbor_list

        i, j, S = primitive_neighbor_list("ijS", pbc, atoms.cell.array, atoms.positions,
                                          float(cutoff), self_interaction=False)
    return i.astype(np.int64), j.astype(np.int64), S.astype(np.float64)


def species_of(numbers, elements: list[int]) -> np.ndarray:
    """Species indices (N,) for atomic numbers; raises UnknownElementError on a stranger."""
    lookup = {z: s for s, z in enumerate(elements)}
    try:
        return np.array([lookup[int(z)] for z in numbers], dtype=np.int64)
    except KeyError as exc:
        from ase.data import chemical_symbols

        known = ", ".join(chemical_symbols[z] for z in elements)
        bad = chemical_symbols[int(exc.args[0])]
        raise UnknownElementError(
            f"atoms.numbers: element {bad!r} is not one this potential was trained on "
            f"(known: {known})") from None


class VerletPairs:
    """``neighbour_pairs`` for a structure that moves a little between calls (MD).

    Pairs are listed out to cutoff + ``skin`` and kept until an atom has moved more than
    skin / 2 since (or the cell, periodicity or atom count changed), so no pair can enter
    the cutoff unseen; each call keeps the listed pairs within the cutoff: the pair set a
    fresh list gives. Pairs come in one canonical order (by i, then j, then image shift),
    whenever the list was built, so the sums do not depend on the list's history: an MD
    resumed from a checkpoint gives the uninterrupted run's numbers bit for bit, and
    ``skin`` = 0 (a fresh list every call) gives the skinned list's. ``rebuilds`` counts
    the lists built.
    """

    def __init__(self, cutoff: float, skin: float = 0.0):
        if not skin >= 0:
            raise InputError(f"skin: {skin!r}; expected a length >= 0 Angstrom")
        self.cutoff, self.skin = float(cutoff), float(skin)
        self.rebuilds = 0
        self.listed = 0     # pairs in the current list (out to cutoff + skin)
        self._key = self._listed = None

    def __call__(self, atoms):
        """(i, j, S) within the cutoff, in the canonical order."""
        pos = np.asarray(atoms.positions, dtype=np.float64)
        key = (len(atoms), atoms.cell.array.tobytes(), tuple(bool(p) for p in atoms.pbc))
        if (self.skin == 0 or self._key != key
                or ((pos - self._built_at) ** 2).sum(axis=1).max(initial=0.0)
                > (0.5 * self.skin) ** 2):
            i, j, S = neighbour_pairs(atoms, self.cutoff + self.skin)
            order = np.lexsort((S[:, 2], S[:, 1], S[:, 0], j, i))   # i first: canonical
            self._listed = (i[order], j[order], S[order])
            self._key, self._built_at = key, pos.copy()
            self.rebuilds += 1
            self.listed = len(i)
            if self.skin == 0:
                return self._listed
        i, j, S = self._listed
        vec = pos[j] - pos[i] + S @ atoms.cell.array
        keep = np.einsum("ea,ea->e", vec, vec) < self.cutoff ** 2
        return i[keep], j[keep], S[keep]


def atoms_to_graph(atoms, elements: list[int], cutoff: float, pairs=None) -> dict:
    """One structure as numpy arrays: positions, species, cell, edge_index, shifts.
    ``pairs``: a ``VerletPairs`` to take the pairs from (default: a fresh list)."""
    i, j, S = pairs(atoms) if pairs is not None else neighbour_pairs(atoms, cutoff)
    order = np.argsort(i, kind="stable")  # the model's padded layout needs pairs grouped by i
    i, j, S = i[order], j[order], S[order]
    counts = np.bincount(i, minlength=len(atoms))
    slots = np.arange(len(i)) - (np.cumsum(counts) - counts)[i]
    return {
        "positions": np.asarray(atoms.positions, dtype=np.float64),
        "species": species_of(atoms.numbers, elements),
        "cell": np.asarray(atoms.cell.array, dtype=np.float64)[None],
        "edge_index": np.stack([i, j]),
        "shifts": S,
        "slots": slots.astype(np.int64),
    }


def collate(graphs: list[dict], dtype=None) -> dict:
    """Concatenate graphs into one batch dict of torch tensors (indices offset per frame)."""
    import torch

    dtype = dtype or torch.get_default_dtype()
    offsets = np.cumsum([0] + [len(g["species"]) for g in graphs[:-1]])
    out = {
        "positions": torch.as_tensor(np.concatenate([g["positions"] for g in graphs]), dtype=dtype),
        "species": torch.as_tensor(np.concatenate([g["species"] for g in graphs])),
        "cell": torch.as_tensor(np.concatenate([g["cell"] for g in graphs]), dtype=dtype),
        "edge_index": torch.as_tensor(np.concatenate(
            [g["edge_index"] + o for g, o in zip(graphs, offsets)], axis=1)),
        "shifts": torch.as_tensor(np.concatenate([g["shifts"] for g in graphs]), dtype=dtype),
        "slots": torch.as_tensor(np.concatenate([g["slots"] for g in graphs])),
        "batch": torch.as_tensor(np.concatenate(
            [np.full(len(g["species"]), k, dtype=np.int64) for k, g in enumerate(graphs)])),
    }
    for key in ("energy", "forces", "stress", "weight", "charges", "total_charge"):
        if all(key in g for g in graphs):
            out[key] = torch.as_tensor(np.concatenate([np.atleast_1d(g[key]) if key != "stress"
                                                       else g[key][None] for g in graphs]),
                                       dtype=dtype)
    out["n_atoms"] = torch.as_tensor([len(g["species"]) for g in graphs], dtype=dtype)
    return out
