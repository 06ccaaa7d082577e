"""Structures entering the toolkit: one reader boundary and one physical-sense check.

``read_structures(path)`` (every frame) and ``read_structure(path)`` (one) read
any file ``ase.io.read`` reads; an empty file, a folder, bytes ase cannot
parse or an unknown element raise ``atomistic.errors.StructureError`` (an
``InputError``) in one line naming the file, never a traceback from ase.
Every frame read is then checked by :func:`check_atoms`:

- positions and cell finite (a NaN coordinate would give a finite-looking
  energy from some calculators and poison everything after it);
- no two atoms closer than ``CLOSE_CONTACT_FRACTION`` (0.5) x the sum of
  their covalent radii (``ase.data.covalent_radii``, Cordero et al. 2008). A
  bond is ~1.0 x that sum; at half of it the repulsion of any real
  potential is many eV, so the structure is a mistake (atoms doubled,
  wrong units, an overlapping insertion), not a configuration to simulate.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path

import numpy as np

from foundation.reading import reading

from .errors import InputError

__all__ = ["CLOSE_CONTACT_FRACTION", "StructureError", "check_atoms", "check_labels", "checks_atoms",
           "read_structure", "read_structures"]

#: atoms closer than this fraction of the sum of their covalent radii are refused (see above)
CLOSE_CONTACT_FRACTION = 0.5


class StructureError(InputError):
    """A structure (file or ``Atoms``) is unreadable or physically impossible."""


def check_atoms(atoms, where: str = "atoms", min_fraction: float = CLOSE_CONTACT_FRACTION):
    """``atoms`` unchanged, or ``StructureError`` naming ``where`` and the reason: an empty
    structure, a non-finite position or cell, or two atoms closer than ``min_fraction`` x the
    sum of their covalent radii (minimum image under periodic boundaries)."""
    from ase.data import covalent_radii
    from ase.neighborlist import neighbor_list

    if len(atoms) == 0:
        raise StructureError(f"{where}: no atoms")
    pos = atoms.get_positions()
    bad = np.argwhere(~np.isfinite(pos))
    if len(bad):
        i, k = bad[0]
        raise StructureError(f"{where}: position of atom {i} ({atoms[i].symbol}) is {pos[i, k]} "
                             f"along {'xyz'[k]}; expected finite coordinates")
    cell = atoms.cell.array
    if not np.all(np.isfinite(cell)):
        raise StructureError(f"{where}: cell {cell.tolist()} is not finite")
    if min_fraction <= 0 or len(atoms) < 2:
        return atoms
    if any(atoms.pbc) and abs(atoms.cell.volume) < 1e-12:
        raise StructureError(f"{where}: periodic along {atoms.pbc.tolist()} but the cell has no "
                             "volume; give a cell or set pbc=False")
    radii = covalent_radii[atoms.numbers]
    cutoff = min_fraction * 2 * float(radii.max())
    i, j, d = neighbor_list("ijd", atoms, cutoff, self_interaction=False)
    limit = min_fraction * (radii[i] + radii[j])
    close = np.nonzero(d < limit)[0]
    if len(close):
        n = close[np.argmin(d[close] / limit[close])]
        a, b = int(i[n]), int(j[n])
        raise StructureError(
            f"{where}: atoms {a} ({atoms[a].symbol}) and {b} ({atoms[b].symbol}) are {d[n]:.3g} Å "
            f"apart, under {min_fraction:g} x the sum of their covalent radii ({limit[n]:.3g} Å); "
            "overlapping atoms (doubled atoms or wrong units?)")
    return atoms


def checks_atoms(*names: str) -> Callable:
    """Decorator for a public function that computes with ``Atoms``: every call first runs
    :func:`check_atoms` on each argument in ``names`` (default ``"atoms"``), naming the
    function and the argument, so an API user gets the same refusal of a NaN position or of
    overlapping atoms as a CLI user whose file was read (``estimate_timestep: atoms: atoms 0
    (Cu) and 1 (Cu) are 0.1 Å apart, ...``) rather than a 4 eV/atom/ps "drift"."""
    names = names or ("atoms",)

    def decorate(func: Callable) -> Callable:
        signature = inspect.signature(func)
        missing = [n for n in names if n not in signature.parameters]
        if missing:   # a programming error of the toolkit itself, caught at import
            raise TypeError(f"checks_atoms: {func.__qualname__} has no argument {missing[0]!r}")

        @functools.wraps(func)
        def checked(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            for name in names:
                if name in bound.arguments:
                    check_atoms(bound.arguments[name], f"{func.__name__}: {name}")
            return func(*args, **kwargs)

        return checked

    return decorate


def check_labels(atoms, where: str = "frame"):
    """``atoms`` unchanged, or ``StructureError`` when its positions or its stored labels (energy,
    forces, stress of an attached single-point result) are not finite: a frame is never written
    with a NaN in it (the next training stage would hang in the neighbour list)."""
    check_atoms(atoms, where, min_fraction=0)
    return _finite_results(atoms, where)


def _finite_results(atoms, where: str):
    results = getattr(atoms.calc, "results", None) or {}
    for key in ("energy", "free_energy", "forces", "stress"):
        if key in results and not np.all(np.isfinite(np.asarray(results[key], dtype=float))):
            raise StructureError(f"{where}: {key} is not finite; a frame with NaN or infinite "
                                 "labels is not written")
    return atoms


def read_structures(path: str | Path, index: str = ":", fmt: str | None = None,
                    min_fraction: float = CLOSE_CONTACT_FRACTION, allow_empty: bool = False) -> list:
    """Every frame of the structure or trajectory file ``path`` (``ase.io.read``), each checked
    by :func:`check_atoms` (and its stored labels by :func:`check_labels`). ``StructureError``
    (one line naming the file) when the file is missing, a folder, empty (unless
    ``allow_empty``: then ``[]``), unreadable or holds an impossible frame."""
    import ase.io

    with reading(path, "structure file", StructureError, key="element") as p:
        if p.stat().st_size == 0:
            if allow_empty:
                return []
            raise StructureError(f"{p}: empty structure file")
        frames = ase.io.read(p, index=index, format=fmt)
    frames = list(frames) if isinstance(frames, list) else [frames]
    if not frames and not allow_empty:
        raise StructureError(f"{path}: no frames in the structure file")
    for k, atoms in enumerate(frames):
        where = f"{path}" + (f" frame {k}" if len(frames) > 1 else "")
        _finite_results(check_atoms(atoms, where, min_fraction), where)
    return frames


def read_structure(path: str | Path, fmt: str | None = None,
                   min_fraction: float = CLOSE_CONTACT_FRACTION):
    """The last frame of ``path`` (as ``ase.io.read(path)`` gives), checked; see
    :func:`read_structures`."""
    return read_structures(path, index="-1", fmt=fmt, min_fraction=min_fraction)[0]
