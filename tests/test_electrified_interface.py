"""The self-consistent electrified interface: limits, fixed points, refusals, committee bands, handoff."""
import math

import numpy as np
import pytest

from atomistic.interface.dipole_layer import DipoleLayer, helmholtz_shift, lattice_vectors
from couplers.electrified_interface import Adsorbate, smooth_derivative, solve_interface, sweep_interface
from couplers.interface_committee import committee_adsorbates, committee_interface, held_out_calibration
from couplers.interface_report import interface_handoff
from couplers.errors import ConvergenceError, InputError

ELECTROLYTE = dict(concentrations=[100.0, 100.0], valences=[1, -1], stern_thickness=3e-10,
                   stern_permittivity=6.0)
SITES = lattice_vectors("hexagonal", 4.8)
KT = 8.617333262e-5 * 298.15


def adsorbate(**kw):
    args = dict(adsorption_energy=0.05, activity=0.1, electrosorption_valency=0.3, dipole_permittivity=2.0)
    args.update(kw)
    mu0, alpha = args.pop("mu0", -0.05), args.pop("alpha", 2.0)
    return Adsorbate(DipoleLayer(mu0, alpha, SITES), **args)


def test_interface_without_dipoles_is_the_gouy_chapman_stern_double_layer():
    from continuum.double_layer import solve_double_layer
    us = np.linspace(-0.3, 0.3, 9)
    sweep = sweep_interface(us, adsorbate(mu0=0.0, alpha=0.0), ELECTROLYTE)
    assert np.all(sweep.work_function_shift == 0)
    ref = [solve_double_layer(u, **ELECTROLYTE) for u in us]
    assert sweep.surface_charge == pytest.approx([r.surface_charge for r in ref], rel=1e-12, abs=1e-15)
    # cubic-spline derivative on a 0.075 V grid vs the exact tangent: truncation ~h^3, measured 6e-4 at the ends
    assert sweep.capacitance == pytest.approx([r.capacitance for r in ref], rel=1.5e-3)


def test_converged_state_satisfies_isotherm_and_helmholtz_together():
    ads = adsorbate()
    s = solve_interface(0.3, ads, ELECTROLYTE)
    e = s.surface_field * 1e-10
    g = float(ads.free_energy(s.coverage, e, 0.3))
    # tolerances of the loop: 1e-7 in theta and chi; the isotherm residual follows
    assert math.log(s.coverage / (1 - s.coverage)) == pytest.approx(math.log(0.1) - g / KT, abs=1e-5)
    chi = float(helmholtz_shift(s.coverage * ads.layer.site_density, s.dipole, relative_permittivity=2.0))
    assert s.dipole_jump == pytest.approx(chi, abs=2e-7)
    assert s.iterations <= 30


def test_dipole_layer_moves_the_potential_of_zero_charge_by_its_work_function_shift():
    ads = adsorbate(electrosorption_valency=0.0, adsorption_energy=-0.05, mu0=0.2)
    theta0 = ads.coverage(0.0, 0.0, 298.15)
    chi0 = float(ads.layer.work_function_shift(theta0, relative_permittivity=2.0))
    assert chi0 < 0  # outward dipoles lower the work function
    s = solve_interface(chi0, ads, ELECTROLYTE)
    # at U = chi0 the layer sees no potential: zero charge, zero field, same coverage (solver tol ~1e-7 V)
    assert abs(s.surface_charge) < 1e-7 * 0.18
    assert s.coverage == pytest.approx(theta0, abs=1e-6)


def test_sweep_converges_within_thirty_iterations_and_capacitance_dips_where_the_layer_forms():
    us = np.linspace(-0.4, 0.6, 11)
    sweep = sweep_interface(us, adsorbate(), ELECTROLYTE)
    assert sweep.iterations.max() <= 30
    assert np.all(np.diff(sweep.coverage) > 0)  # gamma > 0: adsorption grows with U
    # the forming dipole layer takes up part of U (dchi/dU > 0), so C falls below the frozen-layer value
    i = int(np.argmax(np.gradient(sweep.coverage, us)))
    assert sweep.capacitance[i] < 0.9 * sweep.fixed_layer_capacitance[i]


def test_non_convergence_is_a_convergence_error_with_history():
    with pytest.raises(ConvergenceError, match="did not converge in 1 iterations"):
        solve_interface(0.3, adsorbate(), ELECTROLYTE, max_iterations=1)


def test_window_crossing_a_phase_transition_is_refused():
    ads = adsorbate(frumkin=-10 * KT, adsorption_energy=0.3)
    with pytest.raises(InputError, match="isotherm undefined"):
        sweep_interface(np.linspace(-0.2, 1.4, 9), ads, ELECTROLYTE)


def test_fields_outside_the_stark_fit_are_refused():
    ads = adsorbate(max_field=0.01)
    with pytest.raises(InputError, match="too large for the fitted"):
        solve_interface(0.5, ads, ELECTROLYTE)


def test_unphysical_electrolyte_is_refused_by_name():
    with pytest.raises(InputError, match="permittivity"):
        solve_interface(0.1, adsorbate(), {**ELECTROLYTE, "permittivity": -3.0})


def test_smooth_derivative_of_noisy_data_is_close_to_the_true_slope():
    x = np.linspace(0, 1, 41)
    y = np.sin(3 * x) + np.random.default_rng(0).normal(0, 1e-4, x.size)
    # noise 1e-4 on 0.025 spacing: raw differences err by ~6e-3; the smoothing spline stays well inside
    assert smooth_derivative(x, y)[5:-5] == pytest.approx(3 * np.cos(3 * x[5:-5]), abs=5e-3)


def test_held_out_calibration_of_gaussian_members_is_unity():
    rng = np.random.default_rng(3)
    curves = 1.0 + rng.normal(0, 0.1, (8, 200))
    cal = held_out_calibration(curves)
    # 1600 z-values from a Student-t with 6 dof (predictive law of the held-out member): rms ~ 1.22
    assert 1.0 < cal.rms_z < 1.45
    assert 0.6 < cal.within_1sigma < 0.8


def test_committee_band_and_handoff_for_pybamm(tmp_path):
    from ase.build import add_adsorbate, fcc111
    from ase import Atoms

    from atomistic.emt_committee import EMTCommittee
    from couplers.handoff import Handoff

    clean = fcc111("Cu", (1, 1, 3), vacuum=6.0)
    covered = clean.copy()
    add_adsorbate(covered, "O", 1.2, "fcc")
    members = committee_adsorbates(EMTCommittee(3, 0.02), covered, clean, Atoms("O"), adsorbate(),
                                   reference_shift=0.0)
    energies = [m.adsorption_energy for m in members]
    assert np.std(energies) > 0  # members disagree: that is the uncertainty to propagate
    # shift the committee to a physically relevant G0 window, keeping its spread
    members = [m.with_parameters(adsorption_energy=0.05 + m.adsorption_energy - np.mean(energies)) for m in members]
    us = np.linspace(-0.1, 0.5, 6)
    com = committee_interface(us, members, ELECTROLYTE)
    assert np.all(com.capacitance_std >= 0) and com.capacitance_std.max() > 0
    assert com.calibration is not None and math.isfinite(com.calibration.rms_z)
    h = interface_handoff(com, ELECTROLYTE, species=["Na+", "Cl-"], reference_potential=0.0)
    path = h.save(tmp_path / "dl.toml")
    back = Handoff.load(path)
    key = "Negative electrode double-layer capacity [F.m-2]"
    assert back.double_layer.pybamm_parameters[key] == pytest.approx(np.interp(0.0, us, com.capacitance_mean))
    pybamm = pytest.importorskip("pybamm")
    values = pybamm.ParameterValues("Marquis2019")
    values.update(back.double_layer.pybamm_parameters)  # raises if PyBaMM does not know the name
    assert values[key] == pytest.approx(back.double_layer.pybamm_parameters[key])


def test_pipeline_stage_writes_a_handoff_pybamm_can_read_and_a_plot(tmp_path):
    from couplers.handoff import Handoff
    from multiscale.config import parse_config
    from multiscale.pipeline import run_pipeline

    cfg = parse_config({"run": {"name": "t"}, "stage": {"interface": {
        "kind": "electrified_interface", "points": 5, "potential_min": -0.2, "potential_max": 0.4,
        "committee_members": 3}}})
    [res] = run_pipeline(cfg, tmp_path)
    assert res.status == "ran"
    assert max(res.results["iterations"]) <= 30
    stage_dir = next(p for p in tmp_path.rglob("handoff.toml")).parent
    h = Handoff.load(stage_dir / "handoff.toml")
    assert h.double_layer.committee_members == 3
    assert "Negative electrode double-layer capacity [F.m-2]" in h.double_layer.pybamm_parameters
    assert (stage_dir / "electrified_interface.png").stat().st_size > 0
