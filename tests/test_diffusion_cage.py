"""A liquid's MSD is ballistic, then caged, then diffusive. On the way from ballistic to
caged it passes through a log-slope of 1 and looks diffusive; D read there is not a
self-diffusion coefficient. ``self_diffusion`` says whether its window was diffusive."""
import warnings

import numpy as np
import pytest

from atomistic.analysis.diffusion import cage_onset, msd_fft, self_diffusion

D_CAGE = 0.5          # the cages' own diffusion coefficient (length^2 / time, kT = m = 1)


def caged(n_frames, omega=0.3, gamma=0.3, tau=5.0, n=300, sub=4, seed=0):
    """Particles rattling in harmonic cages (underdamped Langevin, BAOAB) whose centres move
    with Ornstein-Uhlenbeck velocities of correlation time tau: D = <u^2> tau = D_CAGE."""
    rng = np.random.default_rng(seed)
    h = 1.0 / sub
    y, v = rng.normal(0, 1 / omega, (n, 3)), rng.normal(0, 1, (n, 3))
    su = np.sqrt(D_CAGE / tau)
    c, u = np.zeros((n, 3)), rng.normal(0, su, (n, 3))
    a, au = np.exp(-gamma * h), np.exp(-h / tau)
    out = np.empty((n_frames, n, 3))
    for k in range(n_frames):
        out[k] = c + y
        for _ in range(sub):
            v -= 0.5 * h * omega ** 2 * y
            y += 0.5 * h * v
            v = a * v + np.sqrt(1 - a * a) * rng.normal(size=v.shape)
            y += 0.5 * h * v
            v -= 0.5 * h * omega ** 2 * y
            c += h * u
            u = au * u + su * np.sqrt(1 - au * au) * rng.normal(size=u.shape)
    return out


def test_a_run_too_short_to_leave_the_cage_is_not_called_diffusion():
    x = caged(400)
    with pytest.warns(UserWarning, match="not a self-diffusion coefficient"):
        r = self_diffusion(x, 1.0, n_blocks=4)
    assert not r.diffusive
    t = np.arange(len(x)) * 1.0
    assert 5 < t[cage_onset(t, msd_fft(x).sum(axis=1))] < 15     # about 1/omega: the ballistic flight ends


@pytest.mark.slow                     # 3200 frames of 300 particles: a few seconds
def test_a_run_long_enough_finds_the_cages_diffusion():
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                 # no warning: it is diffusive
        r = self_diffusion(caged(3200), 1.0, n_blocks=4)
    assert r.diffusive
    # within 5 %: the window starts where the log-slope reaches 0.9, and the cage's slow
    # release still bends the MSD there by a few per cent (the block error is ~1.5 %)
    assert r.D == pytest.approx(D_CAGE, rel=0.05)
