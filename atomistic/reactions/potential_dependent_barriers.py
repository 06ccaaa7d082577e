"""Barriers at several electrode potentials: a potential-dependent calculator per U, one NEB each.

``barriers_vs_potential(initial, final, calc_at, potentials, reference_electrode=...)``
runs :func:`atomistic.reactions.neb.run_neb` once per potential with the calculator
``calc_at(U)`` and returns the barriers (with committee error bars when the
calculator is a committee), ready for
:func:`atomistic.reactions.transfer_coefficient.fit_transfer_coefficient`.

``calc_at`` is the user's potential dependence. Options:

- ``DoubleLayerField(base, charges, potential, ...)`` (here): a model of the
  interfacial field. The electrode at potential U (against the solution,
  which is at 0) drops its potential linearly across a compact layer of
  width ``width`` above ``z_surface``; an atom carrying partial charge q_i
  (units of e) at height z gains q_i * U * s(z), s = 1 at the surface falling
  to 0 at ``z_surface + width``. This is the classic field / electrosorption-
  valency picture: the barrier shifts by q U [s(z_TS) - s(z_IS)].
- GPAW, where a DFT treatment is wanted: the solvated jellium method
  (``gpaw.solvation.sjm.SJM(sj={"target_potential": U, ...})``, grand-canonical
  in electrons, FD mode, with its own constant-potential NEB tutorial), a
  constant-charge variant (SJM with a fixed ``excess_electrons``), and a
  homogeneous external field (``gpaw.external.ConstantElectricField``). Each
  is one calculator per potential: pass ``calc_at=lambda U: SJM(..., sj={
  "target_potential": U + offset})`` where ``offset`` converts the reference
  electrode's scale to SJM's absolute (vacuum-referenced) one. These are
  slow (hours per band on a laptop) and not exercised by the tests.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from ..errors import InputError


class DoubleLayerField(Calculator):
    """``base`` plus the energy of fixed partial charges in a linear compact-layer potential drop.

    Args:
        base: the calculator of the neutral system (EMT, a committee, ...).
        charges: (N,) partial charges in units of e, or {atom index: charge}.
        potential: electrode potential U (V) against the solution beyond the layer.
        z_surface: height of the electrode surface (Angstrom).
        width: compact-layer width (Angstrom); the potential falls linearly from U at
            ``z_surface`` to 0 at ``z_surface + width`` and is flat outside.

    Energy (eV) = E_base + sum_i q_i U s(z_i), forces add -q_i U ds/dz along z.
    Committee members of ``base`` are wrapped the same way (``members``).
    """

    implemented_properties = ("energy", "free_energy", "forces")

    def __init__(self, base, charges, potential: float, z_surface: float, width: float = 3.0,
                 **kwargs):
        super().__init__(**kwargs)
        if width <= 0:
            raise InputError(f"width = {width}; expected a positive layer width in Angstrom")
        self.base = base
        self.charges = charges
        self.potential = float(potential)
        self.z_surface = float(z_surface)
        self.width = float(width)

    @property
    def members(self):
        from ..ensemble import members_of

        ms = members_of(self.base)
        if ms is None:
            return None
        return [DoubleLayerField(m, self.charges, self.potential, self.z_surface, self.width)
                for m in ms]

    def _q(self, n: int) -> np.ndarray:
        if isinstance(self.charges, dict):
            q = np.zeros(n)
            for i, v in self.charges.items():
                q[int(i)] = float(v)
            return q
        q = np.asarray(self.charges, float)
        if q.shape != (n,):
            raise InputError(f"charges: {q.size} values for {n} atoms; expected one per atom "
                             "or a dict {index: charge}")
        return q

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        a = self.atoms.copy()
        a.calc = self.base
        e = a.get_potential_energy()
        f = a.get_forces(apply_constraint=False).copy()
        q = self._q(len(a))
        t = (a.positions[:, 2] - self.z_surface) / self.width
        s = np.clip(1.0 - t, 0.0, 1.0)
        inside = (t > 0) & (t < 1)
        e += float(np.sum(q * self.potential * s))
        # dE/dz = q U ds/dz = -q U / width inside the layer; force = -dE/dz
        f[:, 2] += np.where(inside, q * self.potential / self.width, 0.0)
        self.results = {"energy": e, "free_energy": e, "forces": f}


def barriers_vs_potential(initial, final, calc_at: Callable[[float], Calculator],
                          potentials: Sequence[float], *, reference_electrode: str | None,
                          progress: Callable[[str], None] | None = None, **neb_kwargs) -> dict:
    """One NEB per potential; barriers (eV) with committee errors when there are members.

    Args:
        initial, final: NEB endpoints (see :func:`atomistic.reactions.neb.run_neb`).
        calc_at: U (V vs ``reference_electrode``) -> an ASE calculator at that potential.
        potentials: the potentials (V vs ``reference_electrode``).
        reference_electrode: the electrode the potentials refer to (required).
        neb_kwargs: passed to ``run_neb`` (n_images, fmax, relax_endpoints, ...).

    Returns:
        {"potentials": (n,), "barriers": (n,), "barrier_std": (n,) or None,
         "member_barriers": (M, n) or None (pass to ``fit_transfer_coefficient``),
         "reaction_energies": (n,), "results": [NEBResult, ...], "reference_electrode": str}
    """
    from .neb import run_neb

    if not reference_electrode or not str(reference_electrode).strip():
        raise InputError("reference_electrode: missing; potentials mean nothing without the "
                         "electrode they are measured against: pass e.g. "
                         "reference_electrode='SHE' or 'Li/Li+'")
    U = [float(u) for u in potentials]
    if len(U) < 2:
        raise InputError(f"potentials = {U}; expected at least two potentials")
    say = progress or (lambda _m: None)
    results = []
    for k, u in enumerate(U):
        say(f"NEB {k + 1}/{len(U)} at U = {u:+.3f} V vs {reference_electrode}")
        results.append(run_neb(initial, final, calc_at(u), **neb_kwargs))
    has_std = all(r.member_energies is not None for r in results)
    return {"potentials": np.array(U), "barriers": np.array([r.barrier for r in results]),
            "barrier_std": np.array([r.barrier_std for r in results]) if has_std else None,
            "member_barriers": (np.array([r.member_barriers for r in results]).T if has_std
                                else None),
            "reaction_energies": np.array([r.reaction_energy for r in results]),
            "results": results, "reference_electrode": str(reference_electrode)}
