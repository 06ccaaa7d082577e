"""Gouy-Chapman-Stern from the FEniCSx PB solver: series capacitors, Stern geometry, dipole jump."""
import numpy as np
import pytest

from continuum.double_layer import differential_capacitance, solve_double_layer
from continuum.gouy_chapman import gouy_chapman_stern
from continuum.electrolyte import EPS0

U = np.array([-0.6, -0.2, 0.0, 0.1, 0.4])


@pytest.mark.parametrize("c", [1.0, 100.0, 1000.0])
def test_gcs_capacitance_is_helmholtz_in_series_with_gouy_chapman(c):
    cv = differential_capacitance(U, concentrations=[c, c], valences=[1, -1], stern_capacitance=0.2)
    ref = gouy_chapman_stern(U, c, 0.2)
    # 1e-6: the target is 1e-4; P2 on the default mesh measures ~4e-9 (bench/double_layer.py).
    assert np.max(np.abs(cv.capacitance / ref.capacitance - 1)) < 1e-6
    assert np.max(np.abs(cv.surface_charge - ref.surface_charge)) < 1e-6 * np.max(np.abs(ref.surface_charge))
    assert np.max(np.abs(cv.diffuse_potential - ref.diffuse_potential)) < 1e-6 * np.max(np.abs(U))


def test_stern_thickness_and_permittivity_equal_the_capacitance_they_imply():
    d, eps_s = 0.3e-9, 6.0
    a = solve_double_layer(0.3, concentrations=[100.0, 100.0], valences=[1, -1], stern_thickness=d,
                           stern_permittivity=eps_s)
    b = solve_double_layer(0.3, concentrations=[100.0, 100.0], valences=[1, -1],
                           stern_capacitance=EPS0 * eps_s / d)
    # 1e-12: the same Robin length, so the same discrete problem up to round-off.
    assert abs(a.surface_charge / b.surface_charge - 1) < 1e-12
    # Gauss in the ion-free Stern layer: E = sigma / (eps0 eps_S) = stern drop / d.
    # 1e-7: sigma is the integrated ionic charge, the drop is the Robin flux; they agree to
    # discretisation error (measured 3e-9).
    assert abs(a.surface_field / (a.stern_drop / d) - 1) < 1e-7
    assert abs(a.diffuse_field * 78.5 / (a.surface_field * eps_s) - 1) < 1e-12  # D continuous at the OHP


def test_dipole_jump_shifts_the_whole_curve_and_the_pzc():
    kw = dict(concentrations=[10.0, 10.0], valences=[1, -1], stern_capacitance=0.3)
    chi = 0.12
    shifted = differential_capacitance(U + chi, dipole_jump=chi, **kw)
    plain = differential_capacitance(U, **kw)
    # 1e-12: U - chi is the only thing the layers see; identical solves up to round-off in U + chi - chi.
    assert np.allclose(shifted.surface_charge, plain.surface_charge, rtol=1e-9, atol=1e-12)
    assert np.allclose(shifted.capacitance, plain.capacitance, rtol=1e-9)
    # The potential of zero charge sits at chi, where GC-Stern capacitance has its minimum.
    pzc = solve_double_layer(chi, dipole_jump=chi, **kw)
    assert pzc.surface_charge == 0.0 and pzc.diffuse_potential == 0.0


def test_capacitance_from_tangent_equals_finite_difference_of_charge():
    kw = dict(concentrations=[50.0, 50.0], valences=[1, -1], stern_capacitance=0.25, ion_size=0.6e-9)
    h = 1e-4
    r = differential_capacitance([0.35 - h, 0.35, 0.35 + h], **kw)
    fd = (r.surface_charge[2] - r.surface_charge[0]) / (2 * h)
    # 1e-6: central-difference truncation (h^2 C''/6C ~ 1e-7) plus Newton noise / h (~1e-8).
    assert abs(r.capacitance[1] / fd - 1) < 1e-6


def test_profile_from_electrode_has_the_dipole_step_and_a_linear_stern_drop():
    d, chi = 0.3e-9, 0.05
    r = solve_double_layer(0.3, concentrations=[100.0, 100.0], valences=[1, -1], stern_thickness=d,
                           stern_permittivity=6.0, dipole_jump=chi)
    x, phi = r.profile_from_electrode()
    assert x[0] == x[1] == 0.0 and phi[0] - phi[1] == pytest.approx(chi, abs=1e-15)
    # The OHP sits at x = d with the diffuse potential; the Stern field is the slope across it.
    assert x[2] == pytest.approx(d) and phi[2] == r.diffuse_potential
    assert (phi[1] - phi[2]) / d == pytest.approx(r.surface_field, rel=1e-7)  # 1e-7: see the Robin check above
