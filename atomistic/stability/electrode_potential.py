"""Stability versus electrode potential: grand-potential hulls and voltage profiles.

A mobile ion (Li, Na, Mg, ...) exchanged with an electrode at potential U has
the chemical potential

    mu_ion(U) = mu_metal - z e U

where mu_metal (eV/atom) is the ion's metal, the reference electrode
(U = 0 V vs Li/Li+ is lithium metal), and z the charge transferred per ion
(1 for Li+, Na+, K+; 2 for Mg2+ ...). A potential means nothing without its
reference, so every function that takes a potential takes ``reference`` as
well: ``"Li/Li+"`` (the ion's own elemental entry on the hull) or a number,
mu_metal in eV/atom on the same energy scale as the hull's energies.

- ``phases_at_potential(hull, "Li", U, reference)``: the phases stable at U,
  from pymatgen's ``GrandPotentialPhaseDiagram`` open to the ion.
- ``voltage_profile(hull, "Li", "CoO2")``: the equilibrium voltage along
  host + x Li: plateaus between the two-phase regions of the hull, each
  V = -[dE_hull/dx - mu_metal] / (z e). Average voltages between any x1 < x2
  follow from the hull energies (the same formula over the whole interval).
  With a committee hull the profile is rebuilt per member: ``voltage_band``
  gives V(x) +- sigma on any grid, ``average_voltage`` its spread.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .hull import HullResult


def _ion(hull: HullResult, ion: str):
    from pymatgen.core import Element

    try:
        el = Element(ion)
    except ValueError:
        raise InputError(f"ion = {ion!r}: not a chemical element") from None
    if el not in hull.phase_diagram.elements:
        raise InputError(f"ion = {ion!r}: not an element of this hull "
                         f"(elements: {', '.join(hull.elements)})")
    return el


def reference_potential(hull: HullResult, ion: str, reference) -> float:
    """mu_metal (eV/atom) of the reference electrode ``reference`` for ``ion``.

    reference: ``"<ion>/<ion>+"`` style text (e.g. "Li/Li+", "Mg/Mg2+") for
    the ion's own elemental hull entry, or a number (mu_metal in eV/atom).
    """
    el = _ion(hull, ion)
    if reference is None:
        raise InputError(
            f"reference: a potential was given without a reference electrode; pass "
            f"reference='{ion}/{ion}+' (U vs the {ion} metal entry of this hull) or "
            f"reference=<mu_{ion} of the reference electrode in eV/atom>")
    if isinstance(reference, (int, float, np.floating)) and not isinstance(reference, bool):
        if not np.isfinite(reference):
            raise InputError(f"reference = {reference}: expected a finite mu in eV/atom")
        return float(reference)
    if isinstance(reference, str) and reference.replace(" ", "").split("/")[0] == ion \
            and "/" in reference:
        return float(hull.phase_diagram.el_refs[el].energy_per_atom)
    raise InputError(f"reference = {reference!r}: expected '{ion}/{ion}+' (the {ion} metal "
                     f"entry of this hull) or a number (mu_{ion} in eV/atom)")


def grand_potential_diagram(hull: HullResult, ion: str, U: float, reference, z: int = 1):
    """pymatgen ``GrandPotentialPhaseDiagram`` open to ``ion`` at potential U (V vs ``reference``)."""
    from pymatgen.analysis.phase_diagram import GrandPotentialPhaseDiagram

    mu = reference_potential(hull, ion, reference) - z * float(U)
    entries = list(hull.phase_diagram.all_entries)
    return GrandPotentialPhaseDiagram(entries, {_ion(hull, ion): mu})


def phases_at_potential(hull: HullResult, ion: str, U: float, reference, z: int = 1) -> list[str]:
    """Names of the entries stable at electrode potential U (V vs ``reference``), ion open."""
    gpd = grand_potential_diagram(hull, ion, U, reference, z)
    return sorted(e.original_entry.name for e in gpd.stable_entries)


@dataclass
class VoltageProfile:
    """Equilibrium voltage along host + x ion (x: ions per host formula unit).

    ``x`` (k+1,) plateau boundaries, ``voltage`` (k,) plateau voltages (V vs
    ``reference``), ``phases`` (k+1,) the hull phases at each boundary,
    ``hull_energy`` (k+1,) hull energy of host + x ion (eV per host formula).
    ``member_profiles`` holds one profile per committee member.
    """

    ion: str
    host: str
    reference: str
    mu_reference: float
    x: np.ndarray
    voltage: np.ndarray
    phases: list[list[str]]
    hull_energy: np.ndarray
    z: int = 1
    member_profiles: list[VoltageProfile] | None = field(default=None, repr=False)

    def voltage_at(self, x) -> np.ndarray:
        """V(x) (V) on the plateaus; at a boundary, the plateau to its right (lower V)."""
        x = np.atleast_1d(np.asarray(x, dtype=float))
        if np.any(x < self.x[0] - 1e-12) or np.any(x > self.x[-1] + 1e-12):
            raise InputError(f"x: values outside the profile's range [{self.x[0]}, {self.x[-1]}]")
        i = np.clip(np.searchsorted(self.x, x, side="right") - 1, 0, len(self.voltage) - 1)
        return self.voltage[i]

    def average_voltage(self, x1: float | None = None, x2: float | None = None) -> float:
        """Mean voltage (V) between x1 and x2 (default: the whole profile), charge-weighted."""
        x1 = self.x[0] if x1 is None else float(x1)
        x2 = self.x[-1] if x2 is None else float(x2)
        if not (self.x[0] - 1e-12 <= x1 < x2 <= self.x[-1] + 1e-12):
            raise InputError(f"x1 = {x1}, x2 = {x2}: expected {self.x[0]} <= x1 < x2 <= {self.x[-1]}")
        e1, e2 = np.interp([x1, x2], self.x, self.hull_energy)
        return float(-((e2 - e1) / (x2 - x1) - self.mu_reference) / self.z)

    def voltage_band(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) of V(x) (V) over committee members; std is zero without a committee."""
        if not self.member_profiles:
            return self.voltage_at(x), np.zeros(np.size(x))
        v = np.array([m.voltage_at(x) for m in self.member_profiles])
        return v.mean(axis=0), v.std(axis=0)

    def average_voltage_std(self, x1: float | None = None, x2: float | None = None) -> float:
        """Committee spread (V) of ``average_voltage(x1, x2)``; 0 without a committee."""
        if not self.member_profiles:
            return 0.0
        return float(np.std([m.average_voltage(x1, x2) for m in self.member_profiles]))

    def to_dict(self) -> dict:
        out = {"ion": self.ion, "host": self.host, "reference": self.reference,
               "mu_reference_eV": self.mu_reference, "z": self.z, "x": self.x.tolist(),
               "voltage_V": self.voltage.tolist(), "phases": self.phases,
               "hull_energy_eV": self.hull_energy.tolist(),
               "average_voltage_V": self.average_voltage()}
        if self.member_profiles:
            out["average_voltage_std_V"] = self.average_voltage_std()
            out["member_voltages_V"] = [m.voltage.tolist() for m in self.member_profiles]
            out["member_x"] = [m.x.tolist() for m in self.member_profiles]
        return out


def _profile(hull: HullResult, ion: str, host, reference, x_max, z) -> VoltageProfile:
    from pymatgen.core import Composition

    el = _ion(hull, ion)
    pd = hull.phase_diagram
    host_comp = Composition({e: a for e, a in host.items() if e != el})
    mu = reference_potential(hull, ion, reference)
    anchor = host_comp.elements[0]
    xs = []
    for cc in pd.get_critical_compositions(host_comp, Composition(ion)):
        if cc[anchor] > 1e-12:
            xs.append(cc[el] / (cc[anchor] / host_comp[anchor]))
    xs = sorted(set(np.round(xs, 12)))
    if x_max is not None:
        xs = [x for x in xs if x < x_max - 1e-12] + [float(x_max)]
    if len(xs) < 2:
        raise InputError(f"host = {host.reduced_formula!r}: no {ion}-richer phase on the hull "
                         f"along {host_comp.reduced_formula} + x {ion}; pass x_max or add the "
                         f"{ion}-containing phases")
    x = np.array(xs, dtype=float)
    comps = [host_comp + Composition({el: xi}) if xi > 0 else host_comp for xi in x]
    energy = np.array([pd.get_hull_energy(c) for c in comps])
    voltage = -(np.diff(energy) / np.diff(x) - mu) / z
    phases = [sorted(e.name for e in pd.get_decomposition(c)) for c in comps]
    ref = reference if isinstance(reference, str) else f"mu_{ion} = {mu:.6f} eV"
    return VoltageProfile(ion=ion, host=host_comp.reduced_formula, reference=ref, mu_reference=mu,
                          x=x, voltage=voltage, phases=phases, hull_energy=energy, z=z)


def voltage_profile(hull: HullResult, ion: str, host: str, reference="default",
                    x_max: float | None = None, z: int = 1) -> VoltageProfile:
    """Equilibrium voltage profile of inserting ``ion`` into ``host`` (see module doc).

    Args:
        hull: a ``HullResult`` holding the ion's metal, the host and the inserted phases.
        ion: the mobile ion's element, e.g. "Li".
        host: the ion-free host formula, e.g. "CoO2" (any ion in it is ignored).
        reference: reference electrode, as in ``reference_potential``; the
            default is the ion's own metal ("Li/Li+").
        x_max: end of the profile (ions per host formula); default: the most
            ion-rich phase on the hull along the line.
        z: charge transferred per ion (1 for Li+).
    """
    from pymatgen.core import Composition

    if reference == "default":
        reference = f"{ion}/{ion}+"
    comp = Composition(host) if isinstance(host, str) else host
    prof = _profile(hull, ion, comp, reference, x_max, z)
    if hull.members:
        # members share the central profile's end so their V(x) can be compared point by point
        prof.member_profiles = [_profile(m, ion, comp, reference, float(prof.x[-1]), z)
                                for m in hull.members]
    return prof


def average_voltage(hull: HullResult, ion: str, host: str, x1: float, x2: float,
                    reference="default", z: int = 1) -> float:
    """Average voltage (V) of host + x1 ion -> host + x2 ion from the hull energies."""
    return voltage_profile(hull, ion, host, reference, x_max=max(x2, x1), z=z).average_voltage(x1, x2)
