"""Capacitance from electrode-charge fluctuations: C = <dQ^2>/(kT A) with calibrated block errors."""
import numpy as np
import pytest

from atomistic.analysis.charge_fluctuations import ANGSTROM2, E_CHARGE, K_B, fluctuation_capacitance
from atomistic.errors import InputError


def _ou(n, tau, sigma, rng):
    """Ornstein-Uhlenbeck charge series (e): variance sigma^2, correlation time tau (frames)."""
    from scipy.signal import lfilter
    a = np.exp(-1.0 / tau)
    noise = rng.normal(0.0, sigma * np.sqrt(1 - a * a), n)
    noise[0] = rng.normal(0.0, sigma)  # start in the stationary distribution
    return lfilter([1.0], [1.0, -a], noise) + 3.0  # AR(1) = sampled OU; a mean charge must not matter


def test_capacitance_recovers_the_variance_it_was_generated_with():
    T, A, sigma = 300.0, 500.0, 0.8
    r = fluctuation_capacitance(_ou(200_000, 20.0, sigma, np.random.default_rng(1)), A, T)
    exact = sigma ** 2 * E_CHARGE ** 2 / (K_B * T * A * ANGSTROM2)
    assert abs(r.capacitance - exact) < 4 * r.stderr  # 4 sigma: fails by chance ~1e-4
    assert r.stderr < 0.03 * exact  # 200k frames / tau 20: ~1.5% expected
    assert abs(r.block_correlation) < 0.5  # blocks of 20k frames >> tau: nearly independent


def test_block_error_bars_are_calibrated():
    # 200 independent runs: the stated stderr must cover the truth ~68% of the time.
    rng = np.random.default_rng(7)
    T, A, sigma = 300.0, 100.0, 1.0
    exact = sigma ** 2 * E_CHARGE ** 2 / (K_B * T * A * ANGSTROM2)
    z = []
    for _ in range(200):
        r = fluctuation_capacitance(_ou(20_000, 5.0, sigma, rng), A, T, n_blocks=10)
        z.append((r.capacitance - exact) / r.stderr)
    cover = np.mean(np.abs(z) < 1)
    # 0.55-0.82: 68% nominal; with 10 blocks the t-distribution lowers it to ~0.65, and 200 runs
    # add a binomial +-0.033 (1 sigma), so this band is ~3 sigma wide.
    assert 0.55 < cover < 0.82


@pytest.mark.parametrize("kw, field", [(dict(area=-1.0), "area"), (dict(temperature=0.0), "temperature"),
                                       (dict(n_blocks=2), "n_blocks"), (dict(discard=10**6), "discard")])
def test_bad_input_names_the_field(kw, field):
    args = dict(charges=np.zeros(1000) + np.arange(1000) % 3, area=100.0, temperature=300.0)
    with pytest.raises(InputError, match=field):
        fluctuation_capacitance(**{**args, **kw})
