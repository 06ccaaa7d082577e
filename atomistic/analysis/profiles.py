"""Density / charge-density profiles along an axis and phi(z) from Poisson's equation.

phi is obtained by integrating eps0 eps_r phi'' = -rho twice. The result
states what every such profile silently depends on: the reference point
(phi = 0 where), the boundary treatment (field at the lower edge), and the
relative permittivity used.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import InputError

EPS0 = 8.8541878128e-12  # F/m
E_CHARGE = 1.602176634e-19  # C


@dataclasses.dataclass
class Profile:
    """Bin centres z (m, shape (n,)), mean values (shape (n,)) and standard errors over blocks."""
    z: np.ndarray
    values: np.ndarray
    stderr: np.ndarray
    unit: str


@dataclasses.dataclass
class PotentialProfile:
    """phi(z) in V on grid z (m) with the conventions used, stated explicitly."""
    z: np.ndarray
    phi: np.ndarray
    epsilon_r: float
    reference: str
    boundary: str


def density_profile(positions, axis: int, edges, area: float, *, weights=None,
                    n_blocks: int = 5) -> Profile:
    """Number density (1/m^3) along ``axis`` from positions (n_frames, n_atoms, 3) in m.

    ``edges``: bin edges (m); ``area``: cross-section normal to the axis (m^2);
    ``weights`` (n_atoms,): e.g. charges in C to get a charge density (C/m^3).
    Standard error from ``n_blocks`` consecutive blocks of frames.
    """
    x = np.asarray(positions, dtype=float)
    edges = np.asarray(edges, dtype=float)
    if x.ndim != 3:
        raise InputError(f"positions: shape {x.shape}; expected (n_frames, n_atoms, 3)")
    if area <= 0:
        raise InputError(f"area: {area}; expected a positive cross-section in m^2")
    w = np.ones(x.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    vol = np.diff(edges) * area
    per_frame = np.array([np.histogram(f[:, axis], bins=edges, weights=w)[0] / vol for f in x])
    nb = max(1, len(x) // n_blocks)
    blocks = np.array([per_frame[b * nb:(b + 1) * nb].mean(axis=0) for b in range(n_blocks)])
    se = blocks.std(axis=0, ddof=1) / np.sqrt(n_blocks) if n_blocks > 1 else np.zeros(len(vol))
    unit = "1/m^3" if weights is None else "weights/m^3"
    return Profile(z=0.5 * (edges[1:] + edges[:-1]), values=per_frame.mean(axis=0), stderr=se, unit=unit)


def potential_from_charge(z, rho, epsilon_r: float, *, field_at_start: float = 0.0,
                          reference_index: int = 0) -> PotentialProfile:
    """phi(z) (V) from charge density rho (C/m^3) on grid z (m) by double trapezoidal integration.

    E(z) = E(z0) + (1/eps) int_{z0}^{z} rho;  phi(z) = -int E dz, then shifted so that
    phi[reference_index] = 0. ``field_at_start`` is E at z[0] (V/m): for a slab with a
    charged wall at z0 it is sigma/eps (0 for a neutral wall or a mid-plane of symmetry).
    Second order in the grid spacing (exact for piecewise-linear rho to round-off).
    """
    z = np.asarray(z, dtype=float)
    rho = np.asarray(rho, dtype=float)
    if z.shape != rho.shape or z.ndim != 1:
        raise InputError(f"rho: shape {rho.shape}; expected the shape of z {z.shape}")
    if not (np.all(np.isfinite(rho)) and np.all(np.isfinite(z))):
        raise InputError("rho: contains NaN or inf; expected finite C/m^3")
    if epsilon_r <= 0:
        raise InputError(f"epsilon_r: {epsilon_r}; expected > 0")
    eps = EPS0 * epsilon_r
    dz = np.diff(z)
    E = field_at_start + np.concatenate([[0.0], np.cumsum(0.5 * (rho[1:] + rho[:-1]) * dz)]) / eps
    # Integrate E with the exact cubic correction for piecewise-linear rho (Simpson-like):
    # int E over a cell = dz (E0+E1)/2 - dz^2 (rho1-rho0)/(12 eps)
    cell = 0.5 * (E[1:] + E[:-1]) * dz - dz ** 2 * (rho[1:] - rho[:-1]) / (12 * eps)
    phi = -np.concatenate([[0.0], np.cumsum(cell)])
    phi -= phi[reference_index]
    return PotentialProfile(z=z, phi=phi, epsilon_r=float(epsilon_r),
                            reference=f"phi = 0 at z = {z[reference_index]:.6g} m (index {reference_index})",
                            boundary=f"E(z[0]) = {field_at_start:.6g} V/m (wall charge / eps)")


@dataclasses.dataclass
class MeanForcePotential:
    """W(z) in J/mol beyond the mean field, with its standard error; NaN where the ion never went."""
    z: np.ndarray
    W: np.ndarray
    stderr: np.ndarray
    reference: str


def mean_force_potential(profile: Profile, bulk_density: float, charge_number: int,
                         phi: PotentialProfile, temperature: float) -> MeanForcePotential:
    """The ion's potential of mean force beyond the mean field, from its MD density and phi(z).

    W(z) = -RT ln(c(z) / c_bulk) - z_i F phi(z): what the mean-field (Poisson-Boltzmann) part
    z_i F phi does not explain of the MD's Boltzmann inversion; with it a PNP reproduces the
    MD's equilibrium profile exactly (Bonthuis & Netz 2011). ``phi`` must be measured against
    the same bulk as ``bulk_density`` (phi = 0 where c = c_bulk) and on the profile's grid.
    The error bar is RT stderr(c)/c (the density's; phi's error is not propagated).
    """
    from scipy.constants import R, physical_constants

    F = physical_constants["Faraday constant"][0]
    if not (np.isfinite(bulk_density) and bulk_density > 0):
        raise InputError(f"bulk_density: {bulk_density}; expected > 0 (same unit as the profile)")
    if not (np.isfinite(temperature) and temperature > 0):
        raise InputError(f"temperature: {temperature}; expected > 0 K")
    if phi.z.shape != profile.z.shape or not np.allclose(phi.z, profile.z):
        raise InputError("phi: its grid differs from the profile's; expected phi on the profile's bins")
    c = np.asarray(profile.values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        W = -R * temperature * np.log(c / bulk_density) - charge_number * F * phi.phi
        se = R * temperature * np.asarray(profile.stderr) / c
    W[c <= 0] = np.nan
    se[c <= 0] = np.nan
    return MeanForcePotential(z=profile.z, W=W, stderr=se,
                              reference=f"W = 0 where c = {bulk_density:.6g} and phi = 0; {phi.reference}")


@dataclasses.dataclass
class PermittivityProfile:
    """Relative permittivity normal to the surface, eps_perp(z), with its standard error;
    NaN where the free charge has screened the displacement below ``min_fraction``."""
    z: np.ndarray
    epsilon: np.ndarray
    stderr: np.ndarray
    inverse: np.ndarray          # 1/eps_perp: the quantity linear response gives directly
    method: str = ("1/eps_perp(z) = 1 - dP(z)/dD(z) between two surface charges: P from the bound "
                   "(solvent) charge, D from the electrode and free (ion) charge (Bonthuis, Gekle & "
                   "Netz, PRL 107, 166102 (2011)); errors propagated linearly from the bound profiles")


def perpendicular_permittivity(z, bound_a, bound_b, free_a, free_b, sigma_a: float, sigma_b: float, *,
                               bound_stderr=None, min_fraction: float = 0.3) -> PermittivityProfile:
    """eps_perp(z) from two runs that differ in the electrode's surface charge (linear response).

    z: bin centres (m) from the electrode's surface plane outwards; bound_*: the solvent's
    charge density (C/m^3, e.g. water's atomic charges), free_*: the ions' (C/m^3), each for
    runs a and b; sigma_*: the electrode's surface charge (C/m^2) in each. With the
    displacement D(z) = sigma + int_0^z rho_free and the polarisation P(z) = -int_0^z
    rho_bound, eps0 E = D - P, so 1/eps_perp = dE/dE_vacuum = 1 - dP/dD. Where the ions have
    screened dD to below ``min_fraction`` of the electrode's d sigma, the ratio is noise over
    nothing and the profile is NaN there (use the bulk value). ``bound_stderr``: (2, n)
    standard errors of bound_a and bound_b, propagated (independent bins, independent runs).
    """
    z = np.asarray(z, dtype=float)
    arrays = [np.asarray(v, dtype=float) for v in (bound_a, bound_b, free_a, free_b)]
    if z.ndim != 1 or any(a.shape != z.shape for a in arrays):
        raise InputError("bound_a, bound_b, free_a, free_b: expected arrays of the shape of z")
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise InputError("charge profiles: contain NaN or inf")
    ds = float(sigma_b) - float(sigma_a)
    if not np.isfinite(ds) or ds == 0:
        raise InputError(f"sigma_a, sigma_b: {sigma_a}, {sigma_b}; expected two different surface charges")
    edges = np.concatenate([[0.0], 0.5 * (z[1:] + z[:-1]), [z[-1] + 0.5 * (z[-1] - z[-2])]])
    width = np.diff(edges)
    cum = lambda rho: np.cumsum(rho * width) - 0.5 * rho * width      # noqa: E731  (to the bin centre)
    dP = -(cum(arrays[1]) - cum(arrays[0]))
    dD = ds + cum(arrays[3]) - cum(arrays[2])
    ok = np.abs(dD) >= min_fraction * abs(ds)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(ok, 1.0 - dP / dD, np.nan)
        eps = 1.0 / inv
    se = np.full_like(z, np.nan)
    if bound_stderr is not None:
        s = np.asarray(bound_stderr, dtype=float)
        # var of the cumulative sum of independent bins, for each run
        var = np.cumsum((s ** 2) * width ** 2, axis=1).sum(axis=0)
        se_inv = np.sqrt(var) / np.abs(dD)
        se = np.where(ok, se_inv * eps ** 2, np.nan)
    return PermittivityProfile(z=z, epsilon=eps, stderr=se, inverse=inv)
