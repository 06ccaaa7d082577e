"""Solvation shells from a trajectory: who is in an ion's first shell, for how many
frames, and how long a ligand stays there (residence time).

- ``shell_membership``: a boolean (frames, centres, ligands) array, True where a
  ligand (e.g. a water O) is within ``r_cut`` of a centre (an ion), minimum image.
  ``r_cut`` is usually the first minimum of the centre-ligand g(r)
  (``atomistic.analysis.rdf.RDF.first_minimum``).
- ``coordination_series``: the number of ligands in each centre's shell per frame.
- ``residence_time``: the Impey-Madden-McDonald residence time (J. Phys. Chem. 87,
  5071, 1983): the survival function C(t) of centre-ligand pairs that stay in the
  shell from t0 to t0 + t, where excursions shorter than ``t_star`` (2 ps in the
  original paper) do not count as leaving, and tau = integral of C(t) dt. Its error
  bar comes from contiguous blocks of the trajectory (``atomistic.analysis.block_average``).

Survival is counted from runs: a pair inside the shell for a (gap-bridged) run of L
frames contributes max(L - k, 0) time origins that survive k frames, divided by the
in-shell origins that can be followed k frames (t0 <= T - 1 - k), so C(k) uses all
origins without an O(T^2) loop and a run cut by the end of the block is not counted
as a departure. ``ResidenceTime.converged`` says whether C(t) decayed below 5 % within
half a block; when it did not, tau is a lower bound.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..errors import InputError


def _check_frames(positions, cell) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(positions, dtype=float)
    if x.ndim != 3 or x.shape[2] != 3:
        raise InputError(f"positions: shape {x.shape}; expected (frames, atoms, 3)")
    if not np.isfinite(x).all():
        raise InputError("positions: contain NaN or inf")
    c = np.asarray(cell, dtype=float)
    if c.shape != (3, 3) or abs(np.linalg.det(c)) < 1e-9:
        raise InputError(f"cell: expected a (3, 3) cell with a volume, got shape {c.shape}")
    return x, c


def shell_membership(positions, cell, centres, ligands, r_cut: float) -> np.ndarray:
    """(frames, n_centres, n_ligands) bool: ligand within ``r_cut`` A of the centre.

    positions: (frames, atoms, 3) in A (wrapped or unwrapped; the minimum image is
    taken in the fixed periodic ``cell``). centres, ligands: atom indices.
    """
    x, c = _check_frames(positions, cell)
    centres, ligands = np.asarray(centres, dtype=int), np.asarray(ligands, dtype=int)
    if len(centres) == 0 or len(ligands) == 0:
        raise InputError("centres, ligands: expected at least one atom index in each")
    for name, idx in (("centres", centres), ("ligands", ligands)):
        if idx.min() < 0 or idx.max() >= x.shape[1]:
            raise InputError(f"{name}: index out of range 0..{x.shape[1] - 1}")
    if not (np.isfinite(r_cut) and r_cut > 0):
        raise InputError(f"r_cut: {r_cut}; expected a positive distance in A")
    width = abs(np.linalg.det(c)) / np.linalg.norm(np.cross(c[[1, 2, 0]], c[[2, 0, 1]]), axis=1)
    if r_cut >= width.min() / 2:
        raise InputError(f"r_cut: {r_cut} A reaches half the cell's narrowest width "
                         f"({width.min():.2f} A): the minimum image is no longer unique")
    inv = np.linalg.inv(c)
    d = x[:, ligands][:, None, :, :] - x[:, centres][:, :, None, :]   # (T, C, L, 3)
    s = d @ inv
    s -= np.round(s)
    r = np.linalg.norm(s @ c, axis=-1)
    return r < r_cut


def coordination_series(membership) -> np.ndarray:
    """(frames, n_centres) number of ligands in each centre's shell."""
    return np.asarray(membership, dtype=bool).sum(axis=2)


def _bridge(h: np.ndarray, gap: int) -> np.ndarray:
    """Fill runs of False no longer than ``gap`` frames that lie between two True runs."""
    if gap <= 0:
        return h
    h = h.copy()
    idx = np.flatnonzero(np.diff(np.concatenate([[1], h.astype(int), [1]])) != 0)
    # idx alternates: start of a False run, end (exclusive) of it
    for lo, hi in zip(idx[::2], idx[1::2]):
        if 0 < lo and hi < len(h) and hi - lo <= gap:
            h[lo:hi] = True
    return h


def survival(membership, t_star_frames: int = 0, max_lag: int | None = None) -> np.ndarray:
    """C(k), k = 0 .. max_lag: the fraction of in-shell (pair, origin) that stay k frames."""
    m = np.asarray(membership, dtype=bool)
    T = m.shape[0]
    max_lag = T - 1 if max_lag is None else min(max_lag, T - 1)
    runs, bridged = [], []
    for series in m.reshape(T, -1).T:
        if not series.any():
            continue
        h = _bridge(series, t_star_frames)
        bridged.append(h)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], h.astype(int), [0]])))
        runs.extend((edges[1::2] - edges[::2]).tolist())
    if not runs:
        return np.zeros(max_lag + 1)
    L = np.asarray(runs)
    k = np.arange(max_lag + 1)
    # origins that can be followed k frames: in the shell at t0 <= T - 1 - k
    in_shell = np.cumsum(np.sum(bridged, axis=0))[T - 1 - k]
    stays = np.maximum(L[None, :] - k[:, None], 0).sum(axis=1)
    return np.divide(stays, in_shell, out=np.zeros(len(k)), where=in_shell > 0)


@dataclasses.dataclass
class ResidenceTime:
    """tau (in the unit of dt) with its block standard error, and the survival C(t)."""
    tau: float
    stderr: float
    lag_time: np.ndarray
    survival: np.ndarray
    per_block: np.ndarray
    converged: bool
    t_star: float
    method: str = ("Impey-Madden-McDonald survival with t* excursions allowed; "
                   "tau = integral of C(t); block standard error")


def residence_time(membership, dt: float, *, t_star: float = 0.0, n_blocks: int = 5
                   ) -> ResidenceTime:
    """Residence time of ligands in the shell, from ``shell_membership`` (dt between frames).

    t_star: excursions up to this long (same unit as dt) do not end a stay
    (Impey et al. use 2 ps). tau is the mean over ``n_blocks`` contiguous blocks of
    the integral of C(t) up to half a block; the error is their standard error.
    """
    m = np.asarray(membership, dtype=bool)
    if m.ndim != 3:
        raise InputError(f"membership: shape {m.shape}; expected (frames, centres, ligands)")
    if not (np.isfinite(dt) and dt > 0):
        raise InputError(f"dt: {dt}; expected a positive time between frames")
    if not (np.isfinite(t_star) and t_star >= 0):
        raise InputError(f"t_star: {t_star}; expected >= 0")
    if n_blocks < 2:
        raise InputError(f"n_blocks: {n_blocks}; expected >= 2 for an error estimate")
    nb = m.shape[0] // n_blocks
    if nb < 8:
        raise InputError(f"n_blocks: {n_blocks} leaves {nb} frames per block; expected >= 8")
    gap = int(round(t_star / dt))
    lag = nb // 2
    curves = np.array([survival(m[b * nb:(b + 1) * nb], gap, lag) for b in range(n_blocks)])
    taus = np.trapezoid(curves, dx=dt, axis=1)
    mean_curve = curves.mean(axis=0)
    return ResidenceTime(tau=float(taus.mean()), stderr=float(taus.std(ddof=1) / math.sqrt(n_blocks)),
                         lag_time=np.arange(lag + 1) * dt, survival=mean_curve, per_block=taus,
                         converged=bool(mean_curve[-1] < 0.05), t_star=float(t_star))
