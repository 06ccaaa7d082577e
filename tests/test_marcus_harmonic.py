"""Marcus theory on displaced harmonic wells: lambda from energy-gap MD, alpha(dG) = 1/2 + dG/(2 lambda)."""
import numpy as np
import pytest
from ase import Atoms

from atomistic.reactions.energy_gap import sample_energy_gap
from atomistic.errors import InputError
from atomistic.reactions.harmonic_well import HarmonicWell
from atomistic.reactions.marcus import marcus_alpha, marcus_barrier, reorganisation_energy


def test_marcus_alpha_is_the_derivative_of_the_marcus_barrier():
    lam, h = 0.7, 1e-5
    for dG in (-0.5, -0.1, 0.0, 0.3):
        fd = (marcus_barrier(dG + h, lam) - marcus_barrier(dG - h, lam)) / (2 * h)
        assert float(marcus_alpha(dG, lam)) == pytest.approx(float(fd), abs=1e-8)  # central FD, h^2
    assert float(marcus_alpha(0.0, lam)) == 0.5  # symmetric reaction


def test_both_estimators_recover_lambda_of_displaced_harmonic_wells():
    rng = np.random.default_rng(3)
    n, k, lam, dG = 4, 2.0, 0.4, -0.15
    atoms = Atoms("H" * n, positions=rng.normal(0, 2, (n, 3)), masses=[10.0] * n)
    d = rng.normal(size=(n, 3))
    d *= np.sqrt(2 * lam / k / (d * d).sum())  # k/2 |d|^2 = lambda
    R = HarmonicWell(atoms.positions, k, 0.0)
    P = HarmonicWell(atoms.positions + d, k, dG)
    omega_fs = np.sqrt(k / 10.0) * 0.09822694788464063  # sqrt(eV/A^2/amu) in 1/fs
    kw = dict(temperature_K=300.0, n_samples=4000, interval=2, timestep_fs=0.5 / omega_fs,
              friction=omega_fs, equilibrate=100)
    res = reorganisation_energy(sample_energy_gap(atoms, R, P, state="reactant", seed=1, **kw),
                                sample_energy_gap(atoms, R, P, state="product", seed=2, **kw), 300.0)
    # 8000 steps per state ~ 1800 gap correlation times: Stokes SE ~0.3 %, variance SE ~2.5 %;
    # tolerances are ~4 standard errors
    assert res.lambda_stokes == pytest.approx(lam, rel=0.015)
    assert res.lambda_variance == pytest.approx(lam, rel=0.10)
    assert res.reaction_free_energy == pytest.approx(dG, abs=0.01)
    a, a_err = res.alpha()
    assert a == pytest.approx(0.5 + dG / (2 * lam), abs=0.02)
    assert 0 < a_err < 0.02


def test_short_series_are_refused():
    with pytest.raises(InputError, match="gap_reactant"):
        reorganisation_energy([0.1, 0.2], np.zeros(100), 300.0)
