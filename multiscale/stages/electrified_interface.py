"""Stage ``electrified_interface``: adsorbate dipole layer + Poisson-Boltzmann, solved self-consistently.

Sweeps the electrode potential, converges coverage, work-function shift and
double layer at each point (``couplers.electrified_interface``), and writes
C(U) -- with a committee band when ``committee_members`` >= 3 parameter sets
are drawn from the stated standard errors -- to a handoff file whose
``double_layer.pybamm_parameters`` PyBaMM's double-layer option takes.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from ..config import Quantity, StageParams, stage_kind


class ElectrifiedInterfaceParams(StageParams):
    concentration: Quantity("mol/m^3", gt=0) = 100.0
    valence: int = Field(1, ge=1, le=3, description="z of the symmetric z:z salt")
    temperature: Quantity("K", gt=0) = 298.15
    epsilon_r: float = Field(78.5, ge=1)
    stern_thickness: Quantity("m", gt=0) = 3e-10
    stern_permittivity: float = Field(6.0, ge=1)
    mu0: float = Field(-0.05, description="adsorbate dipole at zero field and coverage, e*Angstrom, outward > 0")
    alpha: float = Field(2.0, ge=0, description="adsorbate polarizability volume, Angstrom^3")
    lattice: Literal["square", "hexagonal"] = "hexagonal"
    site_spacing: float = Field(4.8, gt=0, description="adsorption-site spacing, Angstrom")
    adsorption_energy: float = Field(0.05, description="G0 at zero field and coverage, eV")
    activity: float = Field(0.1, gt=0)
    frumkin: float = Field(0.0, description="extra lateral interaction, eV per coverage")
    electrosorption_valency: float = 0.3
    dipole_permittivity: float = Field(2.0, ge=1)
    max_field: Optional[float] = Field(None, gt=0, description="Stark-fit range, V/Angstrom")
    potential_min: float = -0.6
    potential_max: float = 0.8
    points: int = Field(29, ge=5, le=100_000)
    committee_members: int = Field(0, ge=0, le=10_000, description="0: no band; else >= 3 members drawn from the stderrs")
    adsorption_energy_stderr: float = Field(0.03, ge=0)
    mu0_stderr: float = Field(0.005, ge=0)
    alpha_stderr: float = Field(0.3, ge=0)
    electrode: Literal["negative", "positive"] = "negative"
    reference_potential: float = 0.0


@stage_kind("electrified_interface", ElectrifiedInterfaceParams)
def electrified_interface(ctx) -> dict:
    import numpy as np

    from atomistic.interface.dipole_layer import DipoleLayer, lattice_vectors
    from couplers.electrified_interface import Adsorbate, solve_interface, sweep_interface
    from couplers.interface_committee import committee_interface
    from couplers.interface_report import interface_handoff, plot_interface

    p = ctx.params
    if p.potential_max <= p.potential_min:
        from couplers.errors import InputError
        raise InputError(f"potential_max = {p.potential_max}; expected > potential_min = {p.potential_min}")
    if 0 < p.committee_members < 3:
        from couplers.errors import InputError
        raise InputError(f"committee_members = {p.committee_members}; expected 0 or >= 3")
    electrolyte = dict(concentrations=[p.concentration, p.concentration], valences=[p.valence, -p.valence],
                       permittivity=p.epsilon_r, temperature=p.temperature, stern_thickness=p.stern_thickness,
                       stern_permittivity=p.stern_permittivity)
    base = Adsorbate(DipoleLayer(p.mu0, p.alpha, lattice_vectors(p.lattice, p.site_spacing)),
                     p.adsorption_energy, activity=p.activity, frumkin=p.frumkin,
                     electrosorption_valency=p.electrosorption_valency, max_field=p.max_field,
                     dipole_permittivity=p.dipole_permittivity)
    us = np.linspace(p.potential_min, p.potential_max, p.points)
    sweep = sweep_interface(us, base, electrolyte, progress=ctx.progress)
    com = None
    if p.committee_members:
        rng = np.random.default_rng(ctx.seed)
        members = [base.with_parameters(mu0=p.mu0 + p.mu0_stderr * rng.normal(),
                                        alpha=max(0.0, p.alpha + p.alpha_stderr * rng.normal()),
                                        adsorption_energy=p.adsorption_energy
                                        + p.adsorption_energy_stderr * rng.normal())
                   for _ in range(p.committee_members)]
        com = committee_interface(us, members, electrolyte, progress=ctx.progress)
    species = [f"cation{p.valence}+", f"anion{p.valence}-"]
    h = interface_handoff(com or sweep, electrolyte, species=species, electrode=p.electrode,
                          reference_potential=p.reference_potential, notes=f"stage {ctx.name}")
    h.save(ctx.dir / "handoff.toml")
    worst = solve_interface(float(us[int(np.argmax(sweep.iterations))]), base, electrolyte)
    plot_interface(ctx.dir / "electrified_interface.png", sweep=sweep, committee=com, iterations_of=worst)
    key = next(iter(h.double_layer.pybamm_parameters))
    headline = {"iterations per potential": f"max {sweep.iterations.max()}, mean {sweep.iterations.mean():.1f}",
                key: f"{h.double_layer.pybamm_parameters[key]:.4g} at U = {p.reference_potential:+.2f} V",
                "coverage range": f"{sweep.coverage.min():.3g}..{sweep.coverage.max():.3g}",
                "work-function shift range": f"{sweep.work_function_shift.min():+.3f}.."
                                             f"{sweep.work_function_shift.max():+.3f} eV"}
    if com is not None and com.calibration is not None:
        headline["C(U) band, held-out rms z"] = f"{com.calibration.rms_z:.2f}"
    return {"handoff": "handoff.toml", "figures": ["electrified_interface.png"], "headline": headline,
            "potential": us.tolist(), "capacitance": sweep.capacitance.tolist(),
            "coverage": sweep.coverage.tolist(), "work_function_shift": sweep.work_function_shift.tolist(),
            "iterations": sweep.iterations.tolist(),
            "capacitance_std": None if com is None else com.capacitance_std.tolist()}
