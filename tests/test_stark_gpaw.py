"""Stark fits: closed-form recovery, range refusal, and GPAW finite field vs linear response."""
import numpy as np
import pytest

from atomistic.errors import InputError
from atomistic.interface.stark import check_dipole_consistency, fit_stark


def test_stark_fit_recovers_dipole_and_polarizability():
    f = np.linspace(-0.2, 0.2, 9)
    e = -3.0 - 0.25 * f - 0.5 * 0.07 * f ** 2
    fit = fit_stark(f, e)
    # exact quadratic data: only round-off remains
    assert fit.mu == pytest.approx(0.25, rel=1e-10)
    assert fit.alpha == pytest.approx(0.07, rel=1e-8)


def test_stark_covariance_is_calibrated_on_noisy_energies():
    f = np.linspace(-0.3, 0.3, 7)
    rng = np.random.default_rng(0)
    z = []
    for _ in range(60):
        e = 0.1 * f - 0.5 * 0.05 * f ** 2 + rng.normal(0, 2e-4, f.size)
        fit = fit_stark(f, e, stderr=np.full(f.size, 2e-4))
        z.append((fit.alpha - 0.05) / fit.alpha_stderr)
    # 60 draws: rms z of a calibrated covariance lies in 1 +- 0.25 (chi-square, 60 dof)
    assert 0.75 < np.sqrt(np.mean(np.square(z))) < 1.25


def test_fields_too_large_for_the_polynomial_are_refused():
    f = np.linspace(-2.0, 2.0, 9)
    e = -0.1 * f - 0.5 * 0.05 * f ** 2 - 0.05 * f ** 4  # strong hyperpolarizability
    with pytest.raises(InputError, match="too large for the fitted polynomial"):
        fit_stark(f, e)
    fit = fit_stark(f[3:6] / 10, e[3:6])
    with pytest.raises(InputError, match="too large for the fitted polynomial"):
        fit.energy(1.0)


def test_stark_dipole_agrees_with_work_function_shift_of_the_same_layer():
    from atomistic.interface.dipole_layer import helmholtz_shift
    f = np.linspace(-0.1, 0.1, 5)
    fit = fit_stark(f, -0.3 * f - 0.5 * 0.02 * f ** 2 + 1e-6 * np.cos(7 * f))
    assert check_dipole_consistency(fit, 0.01, float(helmholtz_shift(0.01, 0.3))).agree
    assert not check_dipole_consistency(fit, 0.01, float(helmholtz_shift(0.01, 0.6))).agree


def test_gpaw_finite_field_polarizability_of_h2_matches_linear_response():
    pytest.importorskip("gpaw")
    from ase import Atoms

    from atomistic.interface.stark import (gpaw_field_calculator, gpaw_linear_response_polarizability,
                                 stark_scan)
    h2 = Atoms("H2", positions=[(0, 0, 0), (0, 0, 0.74)])
    h2.center(vacuum=3.0)
    settings = dict(h=0.25)
    fields = [-0.1, 0.0, 0.1]
    energies, dipoles = stark_scan(h2, fields, lambda fv: gpaw_field_calculator(fv, **settings))
    fit = fit_stark(fields, energies, dipoles=dipoles)
    alpha_lr = gpaw_linear_response_polarizability(h2, **settings)[2, 2]
    # same basis, same ALDA kernel: both are the static response; the issue asks for 1 %
    assert fit.alpha == pytest.approx(alpha_lr, rel=0.01)
    assert fit.alpha_from_dipoles == pytest.approx(alpha_lr, rel=0.01)
    assert abs(fit.mu) < 1e-4  # H2 has no permanent dipole (e*A; SCF noise ~1e-6)
