"""Overdamped Brownian dynamics of a primitive-model electrolyte between two planar electrodes.

Implicit solvent (relative permittivity ``eps_r``); ion-ion electrostatics is
the slab mean field: every step the 1D Poisson equation is solved for the
instantaneous ion charge histogram with the electrode potentials as Dirichlet
conditions. That is exactly the physics a Poisson-Nernst-Planck model holds,
so PNP must reproduce these profiles within sampling noise, which makes this
the reference for testing the MD -> PNP handoff chain. Lateral motion is free,
so self-diffusion follows from the lateral MSD; the input D is k_B T/(m gamma).
SI units throughout.
"""
from __future__ import annotations

import numpy as np

E, KB, EPS0 = 1.602176634e-19, 1.380649e-23, 8.8541878128e-12


def brownian_slab(n_per_species, L, area, D, z, phi_left, phi_right, T, eps_r, dt, n_steps,
                  stride, n_bins, rng, progress=None):
    """Mean-field BD of ions between electrodes at z=0 (phi_left) and z=L (phi_right); SI.

    Returns unwrapped positions (n_frames, n_ions, 3), species index per ion.
    ``progress(done, n_steps)``, if given, is called about 50 times along the run (and at
    its end), so a caller can show how far a long run has got.
    """
    kind = np.repeat(np.arange(len(D)), n_per_species)
    q = np.asarray(z, float)[kind] * E
    Dk = np.asarray(D, float)[kind]
    side = np.sqrt(area)
    pos = np.column_stack([rng.uniform(0, side, (len(kind), 2)), rng.uniform(0, L, len(kind))])
    edges = np.linspace(0, L, n_bins + 1)
    h = L / n_bins
    zc = 0.5 * (edges[1:] + edges[:-1])
    eps = EPS0 * eps_r
    beta = 1 / (KB * T)
    # Finite-volume Poisson on bin centres with Dirichlet walls (half-cell at each wall).
    A = (np.diag(np.full(n_bins, -2.0)) + np.diag(np.ones(n_bins - 1), 1) + np.diag(np.ones(n_bins - 1), -1))
    A[0, 0] = A[-1, -1] = -3.0
    Ainv = np.linalg.inv(A / h ** 2)
    frames = []
    report_every = max(1, n_steps // 50)
    for step in range(n_steps):
        rho = np.histogram(pos[:, 2], bins=edges, weights=q)[0] / (h * area)
        rhs = -rho / eps
        rhs[0] -= 2 * phi_left / h ** 2
        rhs[-1] -= 2 * phi_right / h ** 2
        phi = Ainv @ rhs
        zz = np.concatenate([[0.0], zc, [L]])
        pp = np.concatenate([[phi_left], phi, [phi_right]])
        Ez = -np.gradient(pp, zz)
        F = q * np.interp(pos[:, 2], zz, Ez)
        pos[:, 2] += Dk * beta * F * dt + np.sqrt(2 * Dk * dt) * rng.normal(size=len(kind))
        pos[:, :2] += np.sqrt(2 * Dk * dt)[:, None] * rng.normal(size=(len(kind), 2))
        # Reflecting electrodes (hard walls, no adsorption, no reaction).
        pos[:, 2] = np.abs(pos[:, 2])
        pos[:, 2] = np.where(pos[:, 2] > L, 2 * L - pos[:, 2], pos[:, 2])
        if step % stride == 0:
            frames.append(pos.copy())
        if progress is not None and ((step + 1) % report_every == 0 or step + 1 == n_steps):
            progress(step + 1, n_steps)
    return np.array(frames), kind
