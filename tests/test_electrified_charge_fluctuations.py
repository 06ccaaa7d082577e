"""Capacitance from constant-potential charge fluctuations: C = beta <dQ^2> / A with block errors."""
import numpy as np
import pytest

from atomistic.charge_fluctuations import capacitance_from_charge_fluctuations
from atomistic.errors import InputError

E, KB = 1.602176634e-19, 1.380649e-23


def ar1(n, rho, sd, rng):
    """Stationary AR(1) series, variance sd^2, correlation time -1/ln(rho) frames."""
    from scipy.signal import lfilter
    noise = rng.normal(0, sd * np.sqrt(1 - rho ** 2), n)
    noise[0] = rng.normal(0, sd)
    return lfilter([1.0], [1.0, -rho], noise)


def test_gaussian_charges_give_the_capacitance_of_their_variance():
    area, temperature = 400.0, 300.0  # A^2, K
    c_true = 0.1  # F/m^2
    sd = np.sqrt(c_true * KB * temperature * area * 1e-20) / E  # e
    rng = np.random.default_rng(0)
    res = capacitance_from_charge_fluctuations(5.0 + rng.normal(0, sd, 200000), area, temperature)
    # 2e5 independent frames: relative error of a variance sqrt(2/n) = 3e-3
    assert res.capacitance == pytest.approx(c_true, rel=1.2e-2)
    assert res.mean_charge == pytest.approx(5.0, abs=5 * sd / np.sqrt(2e5))


def test_block_errors_cover_the_truth_for_correlated_frames():
    area, temperature, c_true = 400.0, 300.0, 0.1
    sd = np.sqrt(c_true * KB * temperature * area * 1e-20) / E
    rng = np.random.default_rng(1)
    z = [(r.capacitance - c_true) / r.stderr for r in
         (capacitance_from_charge_fluctuations(ar1(20000, 0.9, sd, rng), area, temperature, n_blocks=20)
          for _ in range(30))]
    # correlation time ~10 frames << 1000-frame blocks: z ~ N(0, 1); 30 draws put rms z in 1 +- 0.3
    assert 0.65 < np.sqrt(np.mean(np.square(z))) < 1.4


def test_bad_trajectories_are_refused():
    with pytest.raises(InputError, match="frames"):
        capacitance_from_charge_fluctuations(np.zeros(20), 100.0, 300.0)
    with pytest.raises(InputError, match="area"):
        capacitance_from_charge_fluctuations(np.zeros(2000), -1.0, 300.0)
