"""Interface analysis: lateral diffusion measured slab by slab, and the potential of mean force
an ion feels beyond the mean field."""
import numpy as np
import pytest

from atomistic.analysis.diffusion import slab_diffusion
from atomistic.analysis.profiles import Profile, PotentialProfile, mean_force_potential
from atomistic.errors import InputError


def walkers(n_atoms, n_frames, d_of_z, height, seed):
    """Random walkers (dt = 1) with lateral D set by the slab they are in; z reflects in [0, height]."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n_frames, n_atoms, 3))
    x[0, :, 2] = rng.uniform(0, height, n_atoms)
    for t in range(1, n_frames):
        d = d_of_z(x[t - 1, :, 2])
        step = rng.normal(0, 1, (n_atoms, 3)) * np.sqrt(2 * np.stack([d, d, np.full(n_atoms, 0.05)], 1))
        x[t] = x[t - 1] + step
        z = x[t, :, 2]
        x[t, :, 2] = np.abs(z) - 2 * np.clip(np.abs(z) - height, 0, None)   # reflect at both walls
    return x


def test_slab_diffusion_finds_a_slow_layer_next_to_a_fast_one():
    d_of_z = lambda z: np.where(z < 5.0, 0.5, 2.0)                      # noqa: E731
    x = walkers(200, 2000, d_of_z, 10.0, seed=0)
    r = slab_diffusion(x, 1.0, axis=2, edges=[0.0, 5.0, 10.0], lag_window=(1, 5))
    # a walker that stayed in its slab had that slab's D at every step: the conditional MSD is 4 D t
    assert r.D[0] == pytest.approx(0.5, abs=4 * r.stderr[0])
    assert r.D[1] == pytest.approx(2.0, abs=4 * r.stderr[1])
    assert r.stderr.max() < 0.05                                         # 200 walkers x 2000 frames


def test_slab_diffusion_needs_blocks_longer_than_the_lags():
    with pytest.raises(InputError, match="lag window"):
        slab_diffusion(np.zeros((20, 2, 3)), 1.0, axis=2, edges=[0, 1], lag_window=(2, 10))


def test_mean_force_is_what_the_mean_field_leaves_of_the_boltzmann_inversion():
    R, F, T = 8.314462618, 96485.33212, 300.0
    z = np.linspace(0, 2e-9, 41)
    w_true = 4e3 * np.exp(-z / 3e-10)                                  # J/mol, a repulsive wall layer
    phi = 0.05 * np.exp(-z / 1e-9)                                     # V vs the bulk
    c = 100.0 * np.exp(-(w_true + F * phi) / (R * T))                  # a cation, Boltzmann-distributed
    prof = Profile(z=z, values=c, stderr=0.01 * c, unit="mol/m^3")
    pot = PotentialProfile(z=z, phi=phi, epsilon_r=78.5, reference="bulk", boundary="-")
    w = mean_force_potential(prof, 100.0, +1, pot, T)
    assert np.allclose(w.W, w_true, atol=1e-6)                        # exact inversion, no noise
    assert np.allclose(w.stderr, 0.01 * R * T)                         # 1 % density error = 0.01 RT


def test_permittivity_profile_of_a_layered_dielectric_is_recovered_from_its_bound_charge():
    from atomistic.analysis.profiles import perpendicular_permittivity

    z = np.linspace(0.0, 2e-9, 401)[1:] - 2.5e-12                     # bin centres, 5 pm bins
    eps_true = np.where(z < 3e-10, 5.0, 78.0)                           # a low-eps first layer
    def bound(sigma):                                                   # no ions: D = sigma everywhere
        P = (1 - 1 / eps_true) * sigma                                  # eps0 E = D - P = D / eps
        edges = np.concatenate([[0.0], 0.5 * (z[1:] + z[:-1]), [z[-1] + 2.5e-12]])
        P_edges = np.interp(edges, z, P)
        P_edges[0] = 0.0                                                # no polarisation inside the metal
        return -np.diff(P_edges) / np.diff(edges)                       # rho_bound = -dP/dz
    zero = np.zeros_like(z)
    r = perpendicular_permittivity(z, bound(0.0), bound(0.05), zero, zero, 0.0, 0.05)
    inner, outer = z < 2.5e-10, z > 3.5e-10
    # away from the step (one bin of interpolation smears it), eps is the layer's own
    assert np.allclose(r.epsilon[inner][1:], 5.0, rtol=1e-6)
    assert np.allclose(r.epsilon[outer], 78.0, rtol=1e-6)


def test_where_ions_screen_the_electrode_the_permittivity_is_not_claimed():
    from atomistic.analysis.profiles import perpendicular_permittivity

    z = np.linspace(1e-11, 2e-9, 200)
    free_b = np.where(z < 1e-9, -0.05 / 1e-9, 0.0)                      # the ions take all of sigma by 1 nm
    r = perpendicular_permittivity(z, 0 * z, 0 * z, 0 * z, free_b, 0.0, 0.05)
    assert np.all(np.isnan(r.epsilon[z > 0.8e-9])) and np.all(np.isfinite(r.epsilon[z < 0.5e-9]))
