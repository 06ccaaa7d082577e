"""Velocity Verlet stability on a harmonic mode, and the estimator that recovers the bound."""
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from atomistic.properties.free_energy import EinsteinCrystal
from atomistic.md.timestep import estimate_timestep, nve_drift, verlet_amplitude


@pytest.mark.parametrize("wdt", [0.5, 1.5, 1.99])
def test_verlet_is_stable_below_two(wdt):
    assert verlet_amplitude(wdt, 5000) < 1 / np.sqrt(1 - wdt ** 2 / 4) + 1e-9  # exact bound of the shadow orbit


@pytest.mark.parametrize("wdt", [2.01, 2.5])
def test_verlet_is_unstable_above_two(wdt):
    assert verlet_amplitude(wdt, 5000) > 1e6


def test_estimator_recovers_einstein_frequency_and_the_bound():
    a = bulk("Al", "fcc", cubic=True)
    k = 2.0  # eV/A^2
    est = estimate_timestep(a, EinsteinCrystal(a.positions, k), min_atoms=1)  # springs know 4 sites only
    omega = np.sqrt(k / a.get_masses()[0] * 9.648533e27) * 1e-15  # eV/(A^2 amu) = 9.6485e27 s^-2; rad/fs
    assert est.omega_max == pytest.approx(omega, rel=1e-6)
    assert est.dt_crit * est.omega_max == pytest.approx(2.0)
    # the estimator's bound is where Verlet turns unstable
    assert verlet_amplitude(0.99 * est.dt_crit * omega, 2000) < 100
    assert verlet_amplitude(1.01 * est.dt_crit * omega, 2000) > 1e6


def test_recommended_step_conserves_energy_for_emt_al():
    a = bulk("Al", "fcc", a=4.05, cubic=True).repeat(2)
    est = estimate_timestep(bulk("Al", "fcc", a=4.05, cubic=True), EMT(), repeat=(2, 2, 2))
    assert 7.5 < est.f_max < 9.5  # EMT Al: highest phonon ~8 THz at a = 4.05 A (LA at X)
    d = nve_drift(a, EMT(), est.dt_recommended, temperature=300, n_steps=200)
    assert abs(d["drift"]) < 1e-3  # eV/atom/ps: well-conserved; at 1.2x dt_crit energy explodes
    bad = nve_drift(a, EMT(), 1.2 * est.dt_crit, temperature=300, n_steps=100)
    assert not np.isfinite(bad["drift"]) or abs(bad["drift"]) > 1.0
