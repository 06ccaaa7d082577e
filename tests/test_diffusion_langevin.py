"""D from exactly integrated Langevin trajectories matches k_B T/(m gamma) within 2.5 standard errors."""
import numpy as np
import pytest

from atomistic.analysis.diffusion import self_diffusion


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_langevin_diffusion_matches_einstein(seed):
    kT, m, g, dt = 1.0, 1.0, 2.0, 0.05
    rng = np.random.default_rng(seed)
    a = np.exp(-g * dt)
    v = rng.normal(0, 1, (40, 3))
    x = np.zeros((40, 3))
    traj = []
    for _ in range(3000):
        # Exact Ornstein-Uhlenbeck velocity update: no time-step bias in D.
        v = a * v + np.sqrt(kT / m * (1 - a * a)) * rng.normal(size=v.shape)
        x = x + v * dt
        traj.append(x.copy())
    r = self_diffusion(np.array(traj), dt, n_blocks=8)
    # 2.5 sigma: 3 seeds, each a ~1% two-sided chance beyond; block errors are themselves noisy.
    assert abs(r.D - kT / (m * g)) < 2.5 * r.stderr
    # Slope t/(t - tau_v) > 1 from the ballistic offset; 15% brackets windows starting at a few tau_v.
    assert 0.85 < r.slope < 1.15
