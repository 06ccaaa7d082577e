"""Solvation shells: membership by minimum image, the IMM residence time of a process whose
stays are known exactly, and the Yeh-Hummer 1/L extrapolation of D over box sizes."""
import numpy as np
import pytest

from atomistic.analysis.diffusion import K_B, YH_XI, finite_size_extrapolation
from atomistic.analysis.solvation import (coordination_series, residence_time,
                                          shell_membership, survival)
from atomistic.errors import InputError


def telegraph(n_pairs, n_frames, p_leave, p_enter, seed):
    """In/out series of independent pairs: a stay ends with probability p_leave per frame."""
    rng = np.random.default_rng(seed)
    h = np.zeros((n_frames, 1, n_pairs), dtype=bool)
    state = rng.random(n_pairs) < p_enter / (p_enter + p_leave)
    for t in range(n_frames):
        h[t, 0] = state
        u = rng.random(n_pairs)
        state = np.where(state, u >= p_leave, u < p_enter)
    return h


def test_a_ligand_across_the_periodic_boundary_is_in_the_shell():
    cell = np.diag([10.0, 10.0, 10.0])
    x = np.array([[[0.3, 5, 5], [9.6, 5, 5], [5.0, 5, 5]]])    # 0.7 A apart through the boundary
    m = shell_membership(x, cell, [0], [1, 2], r_cut=3.0)
    assert m.tolist() == [[[True, False]]]
    assert coordination_series(m).tolist() == [[1]]


def test_residence_time_of_geometric_stays_is_their_mean_length():
    m = telegraph(n_pairs=50, n_frames=5000, p_leave=0.05, p_enter=0.03, seed=0)
    rt = residence_time(m, dt=1.0, n_blocks=5)
    # stays are geometric with mean 20 frames: C(k) = 0.95^k, whose trapezoid integral is 20 - 0.5;
    # the estimator follows only origins with k frames left, so block edges do not bias it
    assert rt.tau == pytest.approx(19.5, abs=4 * rt.stderr)
    assert rt.converged
    assert survival(m, 0, 3)[0] == 1.0   # every in-shell origin survives zero lag


def test_brief_excursions_shorter_than_t_star_do_not_end_a_stay():
    h = np.ones((400, 1, 1), dtype=bool)
    h[5::10] = False                     # a one-frame blip every 10 frames
    strict = residence_time(h, dt=1.0, n_blocks=4)
    bridged = residence_time(h, dt=1.0, n_blocks=4, t_star=2.0)
    assert strict.tau < 10               # stays of 9 frames: tau = mean stay weighted by length < 9
    assert bridged.survival[-1] == 1.0 and not bridged.converged   # never leaves for longer than t*


def test_finite_size_extrapolation_recovers_the_infinite_box_and_the_viscosity():
    T, eta, d_inf = 300.0, 0.9e-3, 2.3e-9
    L = np.array([1.0e-9, 1.5e-9, 2.0e-9, 3.0e-9])
    rng = np.random.default_rng(1)
    se = np.full(4, 0.02e-9)
    D = d_inf - YH_XI * K_B * T / (6 * np.pi * eta * L) + rng.normal(0, se)
    fit = finite_size_extrapolation(L, D, se, T)
    # errors are Gaussian with the stated se: the fit lands within 3 of its standard errors
    assert fit.D_inf == pytest.approx(d_inf, abs=3 * fit.D_inf_stderr)
    assert fit.viscosity == pytest.approx(eta, abs=3 * fit.viscosity_stderr)


def test_finite_size_extrapolation_needs_three_boxes():
    with pytest.raises(InputError, match="at least 3 boxes"):
        finite_size_extrapolation([1e-9, 2e-9], [1e-9, 1.2e-9], [1e-11, 1e-11], 300.0)


def test_shell_radius_beyond_half_the_cell_is_refused():
    with pytest.raises(InputError, match="r_cut"):
        shell_membership(np.zeros((1, 2, 3)), np.eye(3) * 5.0, [0], [1], r_cut=3.0)
