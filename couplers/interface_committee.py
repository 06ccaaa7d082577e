"""A committee of electrified interfaces: one sweep per potential member, and the C(U) band.

``committee_adsorbates`` gives each member of a committee calculator its own
adsorption energy; ``committee_interface`` sweeps the interface once per member
(``couplers.electrified_interface.sweep_interface``) and bands the differential
capacitance; ``held_out_calibration`` checks that band by predicting each member
from the others. Units as in ``couplers.electrified_interface``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .electrified_interface import Adsorbate, sweep_interface
from .errors import InputError


@dataclass(frozen=True)
class HeldOutCalibration:
    """Leave-one-member-out check of the committee band.

    z: (members, n) standardised errors (C_held_out - mean_others) / predictive
    std of the others (std * sqrt(1 + 1/(M-1))); rms_z (1 when calibrated);
    within_1sigma / within_2sigma: fractions of |z| <= 1, 2 (0.68 / 0.95 for
    Gaussian members; with few members expect Student-t widths).
    """

    z: np.ndarray
    rms_z: float
    within_1sigma: float
    within_2sigma: float


def held_out_calibration(member_curves) -> HeldOutCalibration:
    """Predict each member's curve from the others' mean and spread; shape (members >= 3, n)."""
    c = np.asarray(member_curves, dtype=float)
    if c.ndim != 2 or c.shape[0] < 3:
        raise InputError(f"member_curves: shape {c.shape}; expected (members >= 3, n)")
    m = c.shape[0]
    z = np.empty_like(c)
    for k in range(m):
        others = np.delete(c, k, axis=0)
        sd = others.std(axis=0, ddof=1) * math.sqrt(1 + 1 / (m - 1))
        z[k] = (c[k] - others.mean(axis=0)) / np.where(sd > 0, sd, np.inf)
    return HeldOutCalibration(z=z, rms_z=float(np.sqrt(np.mean(z ** 2))),
                              within_1sigma=float(np.mean(np.abs(z) <= 1)),
                              within_2sigma=float(np.mean(np.abs(z) <= 2)))


@dataclass(frozen=True)
class CommitteeInterface:
    """Per-member sweeps and the C(U) band.

    potential (n,), capacitance_mean / capacitance_std (n,) F/m^2 over members,
    sweeps: one InterfaceSweep per member; calibration: HeldOutCalibration of C(U)
    (None with fewer than 3 members).
    """

    potential: np.ndarray
    capacitance_mean: np.ndarray
    capacitance_std: np.ndarray
    sweeps: tuple
    calibration: HeldOutCalibration | None

    @property
    def member_capacitance(self) -> np.ndarray:
        return np.array([s.capacitance for s in self.sweeps])


def committee_interface(potentials, adsorbates: Sequence[Adsorbate], electrolyte: dict, *, progress=None,
                        **solve_options) -> CommitteeInterface:
    """Sweep the interface once per committee member (one Adsorbate each) and band C(U)."""
    if len(adsorbates) < 2:
        raise InputError(f"adsorbates: {len(adsorbates)} members; expected >= 2 for a band")
    sweeps = []
    for k, ads in enumerate(adsorbates):
        member_progress = (lambda msg, k=k: progress(f"member {k + 1}/{len(adsorbates)}: {msg}")) \
            if progress else None
        sweeps.append(sweep_interface(potentials, ads, electrolyte, progress=member_progress, **solve_options))
    caps = np.array([s.capacitance for s in sweeps])
    return CommitteeInterface(potential=sweeps[0].potential, capacitance_mean=caps.mean(axis=0),
                              capacitance_std=caps.std(axis=0, ddof=1), sweeps=tuple(sweeps),
                              calibration=held_out_calibration(caps) if len(sweeps) >= 3 else None)


def committee_adsorbates(calc, covered, clean, adsorbate_atoms, base: Adsorbate, *,
                         reference_shift: float = 0.0) -> list[Adsorbate]:
    """One Adsorbate per committee member, each with its own adsorption energy.

    calc: a committee calculator (``atomistic.ensemble.members_of`` finds its
    members); covered / clean / adsorbate_atoms: ASE Atoms of the slab with
    adsorbate, the clean slab and the free adsorbate; G0 of member k =
    E_k(covered) - E_k(clean) - E_k(adsorbate) + reference_shift (eV; e.g. the
    solvation and entropy terms the calculator does not know).
    """
    from atomistic.ensemble import members_of

    members = members_of(calc)
    if members is None:
        raise InputError("calc: not a committee (no members); pass a committee calculator or a list of "
                         "Adsorbate parameter sets")
    out = []
    for m in members:
        energies = []
        for atoms in (covered, clean, adsorbate_atoms):
            a = atoms.copy()
            a.calc = m
            energies.append(a.get_potential_energy())
        out.append(replace(base, adsorption_energy=energies[0] - energies[1] - energies[2] + reference_shift))
    return out
