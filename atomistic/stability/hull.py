"""Formation energies and convex hulls, with pymatgen's ``PhaseDiagram`` as the engine.

Two ways in:

- ``formation_hull(structures, calc)``: relax every structure with any ASE
  calculator (``atomistic.stability.relaxation.relax``; a structure that fails is named
  with the fix), then build the hull of their total energies.
- ``hull_from_energies(entries)``: the hull of energies you already have,
  ``[(name, formula, total_energy_eV), ...]``.

Both return a ``HullResult``: per entry the formation energy and the energy
above the hull (eV/atom), whether it is on the hull, and the phases it
decomposes into (name -> atom fraction). Every element present needs an
elemental reference (a structure of the pure element); a missing one is an
``InputError`` naming the element.

With a committee calculator (anything ``atomistic.ensemble.members_of``
recognises) each structure is relaxed once with the committee mean, and every
member's energy is evaluated at that geometry (the energy is stationary in the
geometry, so member-specific relaxation changes it only to second order).
The hull is then rebuilt per member, so errors that are correlated across
phases (a member that over-binds every Cu-Au bond) cancel as they do in the
physics; ``p_stable`` is the fraction of members whose hull has the entry on
it, ``e_above_hull_std`` the member spread (eV/atom).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError


@dataclass
class HullResult:
    """A convex hull of formation energies; arrays have shape (n_entries,), energies eV/atom.

    ``member_energies`` (M, n) total energies (eV) and the ``p_stable``/``*_std``
    fields are present only for committees. ``phase_diagram`` is the pymatgen
    ``PhaseDiagram`` of the central energies; ``members`` the per-member hulls.
    """

    names: list[str]
    formulas: list[str]
    n_atoms: np.ndarray
    energies: np.ndarray  # total energy per structure, eV
    formation_energy: np.ndarray  # eV/atom
    e_above_hull: np.ndarray  # eV/atom, >= 0
    stable: np.ndarray  # bool: a vertex of the hull
    decomposition: list[dict[str, float]]  # name -> atom fraction of the products
    phase_diagram: Any = field(repr=False, default=None)
    member_energies: np.ndarray | None = None
    members: list[HullResult] | None = field(repr=False, default=None)
    p_stable: np.ndarray | None = None
    e_above_hull_std: np.ndarray | None = None
    formation_energy_std: np.ndarray | None = None

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise InputError(f"name = {name!r}: not an entry of this hull "
                             f"(entries: {', '.join(self.names)})") from None

    @property
    def stable_names(self) -> list[str]:
        return [n for n, s in zip(self.names, self.stable) if s]

    @property
    def elements(self) -> list[str]:
        return sorted(str(e) for e in self.phase_diagram.elements)

    def to_dict(self) -> dict:
        rows = []
        for i, name in enumerate(self.names):
            row = {"name": name, "formula": self.formulas[i], "n_atoms": int(self.n_atoms[i]),
                   "energy_eV": float(self.energies[i]),
                   "formation_energy_eV_per_atom": float(self.formation_energy[i]),
                   "e_above_hull_eV_per_atom": float(self.e_above_hull[i]),
                   "stable": bool(self.stable[i]), "decomposition": self.decomposition[i]}
            if self.p_stable is not None:
                row["p_stable"] = float(self.p_stable[i])
                row["e_above_hull_std_eV_per_atom"] = float(self.e_above_hull_std[i])
                row["formation_energy_std_eV_per_atom"] = float(self.formation_energy_std[i])
            rows.append(row)
        return {"elements": self.elements, "entries": rows,
                "n_members": None if self.member_energies is None else len(self.member_energies)}


def _composition(formula):
    from .._engines import import_engine

    Composition = import_engine("pymatgen.core").Composition

    try:
        return Composition(formula)
    except Exception as exc:  # pymatgen raises several types for a bad formula
        raise InputError(f"formula = {formula!r}: not a chemical formula ({exc})") from None


def check_references(formulas: Sequence) -> None:
    """InputError naming every element of ``formulas`` that has no pure-element entry."""
    comps = [_composition(f) for f in formulas]
    present = sorted({str(el) for c in comps for el in c.elements})
    have = {str(c.elements[0]) for c in comps if len(c.elements) == 1}
    missing = [el for el in present if el not in have]
    if missing:
        raise InputError(
            f"hull: no elemental reference for {', '.join(missing)}: formation energies are "
            f"measured from the pure elements, so add a structure of pure "
            f"{' and pure '.join(missing)} (e.g. ase.build.bulk({missing[0]!r})) computed with "
            "the same calculator")


def phase_diagram(names: Sequence[str], formulas: Sequence, energies: Sequence[float]):
    """pymatgen ``PhaseDiagram`` of total ``energies`` (eV); checks the elemental references first."""
    from .._engines import import_engine

    pdm = import_engine("pymatgen.analysis.phase_diagram")
    PDEntry, PhaseDiagram = pdm.PDEntry, pdm.PhaseDiagram
    comps = [_composition(f) for f in formulas]
    energies = np.asarray(energies, dtype=float)
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if list(names).count(n) > 1})
        raise InputError(f"names: {dup} appear more than once; every entry needs its own name")
    bad = [n for n, e in zip(names, energies) if not np.isfinite(e)]
    if bad:
        raise InputError(f"energies of {bad}: not finite; expected total energies in eV")
    check_references(comps)
    entries = [PDEntry(c, float(e), name=n) for n, c, e in zip(names, comps, energies)]
    return PhaseDiagram(entries), entries


def stable_mask(names: Sequence[str], formulas: Sequence, energies: Sequence[float]) -> np.ndarray:
    """(n,) bool: on the hull of these energies (the hull alone, no per-entry analysis: fast)."""
    pd, entries = phase_diagram(names, formulas, energies)
    on = {id(e) for e in pd.stable_entries}
    return np.array([id(e) in on for e in entries])


def _analyse(names, formulas, energies) -> HullResult:
    pd, entries = phase_diagram(names, formulas, energies)
    stable_ids = {id(e) for e in pd.stable_entries}
    form, ehull, decomp = [], [], []
    for e in entries:
        form.append(pd.get_form_energy_per_atom(e))
        d, eh = pd.get_decomp_and_e_above_hull(e, allow_negative=True)
        ehull.append(max(float(eh), 0.0))
        decomp.append({p.name: float(frac) for p, frac in d.items()})
    return HullResult(
        names=list(names), formulas=[f if isinstance(f, str) else str(_composition(f).formula).replace(" ", "")
                                     for f in formulas],
        n_atoms=np.array([e.composition.num_atoms for e in entries]),
        energies=np.asarray(energies, dtype=float), formation_energy=np.array(form),
        e_above_hull=np.array(ehull), stable=np.array([id(e) in stable_ids for e in entries]),
        decomposition=decomp, phase_diagram=pd)


def hull_from_energies(entries: Sequence[tuple[str, Any, float]],
                       member_energies: np.ndarray | None = None) -> HullResult:
    """The hull of ``entries`` = [(name, formula or composition, total energy eV), ...].

    member_energies: optional (M, n) total energies of M committee members for
    the same entries; the hull is rebuilt per member (see module doc).
    """
    if not entries:
        raise InputError("entries: empty; expected [(name, formula, energy_eV), ...]")
    try:
        names, formulas, energies = (list(col) for col in zip(*entries))
    except (TypeError, ValueError):
        raise InputError("entries: expected (name, formula, energy_eV) triples") from None
    result = _analyse(names, formulas, energies)
    if member_energies is not None:
        member_energies = np.asarray(member_energies, dtype=float)
        if member_energies.ndim != 2 or member_energies.shape[1] != len(names):
            raise InputError(f"member_energies: shape {member_energies.shape}; expected "
                             f"(n_members, {len(names)})")
        members = [_analyse(names, formulas, em) for em in member_energies]
        result.member_energies = member_energies
        result.members = members
        result.p_stable = np.mean([m.stable for m in members], axis=0)
        result.e_above_hull_std = np.std([m.e_above_hull for m in members], axis=0)
        result.formation_energy_std = np.std([m.formation_energy for m in members], axis=0)
    return result


def structure_energies(structures: Sequence, calc, names: Sequence[str] | None = None,
                       relax: bool = True, fmax: float = 0.02, steps: int = 300, cell: bool = True,
                       progress: Callable[[str], None] | None = None):
    """Relaxed structures and energies with ``calc``: (names, atoms list, energies (n,), member energies (M, n) | None)."""
    from ..ensemble import members_of
    from .relaxation import relax as relax_one
    from .relaxation import single_point

    say = progress or (lambda _msg: None)
    if names is None:
        names = [a.info.get("name") or f"{a.get_chemical_formula()}-{i}" for i, a in enumerate(structures)]
    names = list(names)
    if len(names) != len(structures):
        raise InputError(f"names: {len(names)} names for {len(structures)} structures")
    members = members_of(calc)
    relaxed, energies, member_e = [], [], []
    for i, (name, atoms) in enumerate(zip(names, structures)):
        say(f"{'relaxing' if relax else 'evaluating'} {name} ({i + 1}/{len(names)})")
        if relax:
            r = relax_one(atoms, calc, name=name, fmax=fmax, steps=steps, cell=cell)
            a, e = r.atoms, r.energy
        else:
            a, e = atoms.copy(), single_point(atoms, calc, name=name)
        relaxed.append(a)
        energies.append(e)
        if members:
            member_e.append([single_point(a, m, name=name) for m in members])
    return names, relaxed, np.array(energies), (np.array(member_e).T if members else None)


def formation_hull(structures: Sequence, calc, names: Sequence[str] | None = None,
                   relax: bool = True, fmax: float = 0.02, steps: int = 300, cell: bool = True,
                   progress: Callable[[str], None] | None = None) -> HullResult:
    """Relax ``structures`` with ``calc`` and build their convex hull (see module doc).

    Args:
        structures: ase.Atoms, including one structure of every pure element present.
        calc: any ASE calculator; a committee gives ``p_stable`` and error bars.
        names: one name per structure (default ``atoms.info['name']`` or formula-index).
        relax, fmax, steps, cell: see ``atomistic.stability.relaxation.relax``.
        progress: called with one-line status messages.
    """
    # a missing reference is found before any relaxation is paid for
    check_references([a.get_chemical_formula() for a in structures])
    names, relaxed, energies, member_e = structure_energies(
        structures, calc, names=names, relax=relax, fmax=fmax, steps=steps, cell=cell,
        progress=progress)
    formulas = [a.get_chemical_formula() for a in relaxed]
    return hull_from_energies(list(zip(names, formulas, energies)), member_energies=member_e)
