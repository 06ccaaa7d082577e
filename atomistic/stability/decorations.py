"""Candidate structures for screening: decorations and substitutions of prototypes.

- ``decorations(prototype, elements)``: every way to put ``elements`` on the
  prototype's sites (at least two species, at most ``max_species``), one
  representative per symmetry class. Two decorations are the same candidate
  when a symmetry operation of the undecorated prototype (from spglib) maps
  one onto the other, so e.g. the six ways to half-fill the 4-site fcc cube
  all become the single L1_0 candidate. A supercell's own symmetry misses
  copies that differ by a rotation of the parent lattice (L1_0 layered along
  or across the doubled axis of a 2x1x1 cell), so the survivors are matched
  once more with pymatgen's ``StructureMatcher`` within each composition.
- ``substitutions(structure, {"Cu": ["Au", "Pt"]})``: the structure with each
  listed species swapped for each alternative.

Cells are scaled to Vegard's law (mean of the elements' reference lattice
constants, ``ase.data.reference_states``) unless ``vegard=False``, so a cheap
unrelaxed evaluation starts near the right volume. Each candidate carries its
name in ``atoms.info["name"]`` (``<prefix>:<symbols in site order>``).
"""
from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from ase import Atoms

from ..errors import InputError


def _site_permutations(prototype: Atoms, symprec: float = 1e-4) -> np.ndarray:
    """(n_ops, n_sites) site permutations of the prototype's space group (all sites one species)."""
    import spglib

    cell = (np.array(prototype.cell), prototype.get_scaled_positions(), np.ones(len(prototype), int))
    with warnings.catch_warnings():  # spglib 2.x warns about its own error-handling switch
        warnings.simplefilter("ignore", DeprecationWarning)
        sym = spglib.get_symmetry(cell, symprec=symprec)
    if sym is None:
        return np.arange(len(prototype))[None, :]
    frac = prototype.get_scaled_positions()
    perms = []
    for rot, trans in zip(sym["rotations"], sym["translations"]):
        new = frac @ rot.T + trans
        d = new[:, None, :] - frac[None, :, :]
        d -= np.round(d)
        match = np.argmin(np.linalg.norm(d, axis=2), axis=1)
        perms.append(match)  # site i goes to site match[i]
    return np.unique(np.array(perms), axis=0)


def _vegard_a(symbols: Sequence[str]) -> float | None:
    from ase.data import atomic_numbers, reference_states

    a = []
    for s in symbols:
        ref = reference_states[atomic_numbers[s]]
        if not ref or "a" not in ref or ref.get("symmetry") not in ("fcc", "bcc", "sc", "diamond"):
            return None
        a.append(ref["a"])
    return float(np.mean(a))


def _scaled(atoms: Atoms, proto_symbols: Sequence[str]) -> Atoms:
    a_proto, a_new = _vegard_a(proto_symbols), _vegard_a(atoms.get_chemical_symbols())
    if a_proto and a_new:
        atoms.set_cell(atoms.cell * (a_new / a_proto), scale_atoms=True)
    return atoms


def decorations(prototype: Atoms, elements: Sequence[str], max_species: int = 2,
                prefix: str | None = None, vegard: bool = True, symprec: float = 1e-4) -> list[Atoms]:
    """Symmetry-distinct decorations of ``prototype``'s sites by ``elements`` (see module doc).

    Args:
        prototype: the parent lattice (e.g. ``bulk('Cu', 'fcc', cubic=True)``); its
            own species are ignored.
        elements: chemical symbols to place.
        max_species: most distinct species in one candidate (>= 2).
        prefix: name prefix (default: the prototype's formula).
        vegard: scale each candidate's cell to Vegard's law.
    """
    from ase.data import atomic_numbers

    elements = list(dict.fromkeys(elements))
    bad = [e for e in elements if e not in atomic_numbers]
    if bad or len(elements) < 2:
        raise InputError(f"elements = {elements}: expected at least two chemical symbols")
    if max_species < 2:
        raise InputError(f"max_species = {max_species}: expected >= 2")
    n = len(prototype)
    if len(elements) ** n > 2_000_000:
        raise InputError(f"{len(elements)} elements on {n} sites: {len(elements) ** n} decorations; "
                         "use a smaller cell or fewer elements")
    perms = _site_permutations(prototype, symprec)
    prefix = prefix or prototype.get_chemical_formula()
    proto_symbols = prototype.get_chemical_symbols()
    seen: set[tuple] = set()
    out = []
    for labels in itertools.product(range(len(elements)), repeat=n):
        k = len(set(labels))
        if k < 2 or k > max_species:
            continue
        lab = np.array(labels)
        # canonical form: the smallest relabelled tuple over the prototype's symmetry
        variants = np.empty_like(perms)
        variants[np.arange(len(perms))[:, None], perms] = lab[None, :]
        key = min(map(tuple, variants))
        if key in seen:
            continue
        seen.add(key)
        atoms = prototype.copy()
        atoms.set_chemical_symbols([elements[i] for i in labels])
        if vegard:
            _scaled(atoms, proto_symbols)
        atoms.info["name"] = f"{prefix}:{''.join(elements[i] for i in labels)}"
        out.append(atoms)
    return _drop_equivalent(out)


def _drop_equivalent(structures: list[Atoms]) -> list[Atoms]:
    """The first of each group of structures that StructureMatcher finds equivalent."""
    from .._engines import import_engine

    matcher = import_engine("pymatgen.analysis.structure_matcher").StructureMatcher(
        primitive_cell=True, scale=True, attempt_supercell=True)
    adaptor = import_engine("pymatgen.io.ase").AseAtomsAdaptor
    kept: dict[str, list] = {}
    out = []
    for atoms in structures:
        s = adaptor.get_structure(atoms)
        group = kept.setdefault(s.composition.reduced_formula, [])
        if any(matcher.fit(s, other) for other in group):
            continue
        group.append(s)
        out.append(atoms)
    return out


def substitutions(structure: Atoms, swaps: Mapping[str, Sequence[str]], prefix: str | None = None,
                  vegard: bool = True) -> list[Atoms]:
    """``structure`` with each species in ``swaps`` replaced by each of its alternatives (all combinations)."""
    symbols = structure.get_chemical_symbols()
    missing = [s for s in swaps if s not in symbols]
    if missing:
        raise InputError(f"swaps: {missing} not in the structure ({structure.get_chemical_formula()})")
    keys = list(swaps)
    prefix = prefix or structure.get_chemical_formula()
    out = []
    for choice in itertools.product(*[list(swaps[k]) for k in keys]):
        mapping = dict(zip(keys, choice))
        atoms = structure.copy()
        atoms.set_chemical_symbols([mapping.get(s, s) for s in symbols])
        if vegard:
            _scaled(atoms, symbols)
        atoms.info["name"] = f"{prefix}:{'-'.join(f'{k}>{v}' for k, v in mapping.items())}"
        out.append(atoms)
    return out
