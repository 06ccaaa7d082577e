"""Thermodynamic integration: switching between two harmonic crystals reproduces the analytic dF."""
import numpy as np
import pytest
from ase import units
from ase.build import bulk, molecule
from ase.calculators.emt import EMT

from atomistic.errors import InputError
from atomistic.properties.free_energy import EinsteinCrystal, frenkel_ladd, switch_free_energy


def test_switching_between_spring_models_matches_analytic():
    a = bulk("Al", "fcc", cubic=True).repeat((2, 1, 1))
    k0, k1, T = 1.0, 3.0, 300.0
    r = switch_free_energy(a, EinsteinCrystal(a.positions, k0), EinsteinCrystal(a.positions, k1), T,
                           n_switch=600, n_eq=200, n_repeats=4, seed=1)
    exact = 1.5 * units.kB * T * np.log(k1 / k0)  # eV/atom, classical: 3 kT/2 ln(k1/k0)
    assert r.dF_per_atom == pytest.approx(exact, abs=1e-3)  # the 1 meV/atom target
    assert r.W_forward.mean() >= r.dF - 1e-9 * 0 - 5 * r.dF_err  # second law, up to noise


def test_einstein_free_energy_is_analytic():
    a = bulk("Al", "fcc", cubic=True)
    e = EinsteinCrystal(a.positions, 2.0)
    kT = units.kB * 100
    omega = np.sqrt(2.0 / a.get_masses()[0] * units._e / units._amu * 1e20)  # rad/s
    expected = 3 * 4 * kT * np.log(units._hbar * omega / (kT * units._e))
    assert e.free_energy(a.get_masses(), 100) == pytest.approx(expected, rel=1e-9)


def test_frenkel_ladd_needs_a_relaxed_periodic_solid():
    with pytest.raises(InputError, match="periodic"):
        frenkel_ladd(molecule("H2O"), EMT(), 100)
    a = bulk("Al", "fcc", cubic=True)
    a.positions[0] += 0.1
    with pytest.raises(InputError, match="relax"):
        frenkel_ladd(a, EMT(), 100)


def test_too_few_repeats_is_an_input_error():
    a = bulk("Al", "fcc", cubic=True)
    e = EinsteinCrystal(a.positions, 1.0)
    with pytest.raises(InputError, match="n_repeats"):
        switch_free_energy(a, e, e, 100, n_repeats=1)


def test_frenkel_ladd_on_a_unit_cell_is_an_input_error():
    with pytest.raises(InputError, match="supercell"):
        frenkel_ladd(bulk("Al", "fcc", a=4.05), EMT(), 100)  # one atom: nothing left once the COM is fixed
