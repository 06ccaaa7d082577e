"""Self-diffusion coefficients from unwrapped positions: FFT mean-squared displacement.

The MSD is averaged over all time origins with the FFT algorithm (Calandrini
et al. 2011; O(N log N) per particle and direction). The fit window is chosen
automatically where the log-log slope of the MSD is closest to 1 (diffusive
regime), and the error comes from block averaging over independent segments
of the trajectory. Optional Yeh-Hummer finite-size correction.
"""
from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

from ..errors import InputError

K_B = 1.380649e-23  # J/K
YH_XI = 2.837297     # cubic-lattice constant of Yeh & Hummer (2004)


def msd_fft(x: np.ndarray) -> np.ndarray:
    """MSD(lag) per direction for unwrapped positions ``x`` of shape (n_frames, n_atoms, n_dim).

    Returns shape (n_frames, n_dim), averaged over atoms and all time origins (units of x^2).
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 3:
        raise InputError(f"positions: shape {x.shape}; expected (n_frames, n_atoms, n_dim)")
    if not np.all(np.isfinite(x)):
        raise InputError("positions: contains NaN or inf; expected finite unwrapped coordinates")
    n = x.shape[0]
    # S2(m) = sum_k (x_{k+m} x_k) / (n-m) via FFT autocorrelation (zero-padded).
    f = np.fft.rfft(x, n=2 * n, axis=0)
    acf = np.fft.irfft(f * f.conj(), axis=0)[:n] / (n - np.arange(n))[:, None, None]
    sq = x ** 2
    s1 = np.empty_like(acf)
    total = 2 * sq.sum(axis=0)
    q = total.copy()
    s1[0] = q / n
    for m in range(1, n):
        q = q - sq[m - 1] - sq[n - m]
        s1[m] = q / (n - m)
    return (s1 - 2 * acf).mean(axis=1)


@dataclasses.dataclass
class DiffusionResult:
    """D (m^2/s if positions in m and dt in s) with its block-averaging standard error.

    D: total (isotropic average over the given directions); D_per_direction: (n_dim,);
    stderr / stderr_per_direction: block standard errors; fit_window: (t_start, t_end)
    in the time unit of dt; slope: log-log MSD slope in the window; msd: (n_frames, n_dim);
    yeh_hummer: the added correction (0 if not applied). diffusive: whether the fit
    window lies beyond the cage (``cage_onset``), spans a factor of 2 in lag at least, and
    the MSD is straight over it (its rate in the window's two halves within 10 %); False
    means the trajectory (or each of its blocks) is too short to reach the
    diffusive regime and D is the slope of a sub- or super-diffusive MSD, not a
    self-diffusion coefficient (a warning says so).
    """
    D: float
    stderr: float
    D_per_direction: np.ndarray
    stderr_per_direction: np.ndarray
    fit_window: tuple
    slope: float
    msd: np.ndarray
    lag_time: np.ndarray
    n_blocks: int
    yeh_hummer: float = 0.0
    diffusive: bool = True
    method: str = "MSD (FFT, all time origins), linear fit in diffusive window, block-averaged error"


def _log_slope(t, msd, n):
    """d ln MSD / d ln t at lags 1 .. n-1."""
    return np.gradient(np.log(np.maximum(msd[1:n], 1e-300)), np.log(t[1:n]))


def cage_onset(t: np.ndarray, msd: np.ndarray, tol: float = 0.1) -> int:
    """The first lag index at which a ballistic MSD (log-slope above 1 + tol) has turned
    sub-diffusive (below 1 - tol): where a liquid's cage begins. 1 when the MSD has no
    such turn (Brownian motion, or frames too far apart to see the ballistic regime).

    On its way from 2 (ballistic) down to the cage the slope passes through 1, a stretch
    that looks diffusive and is not; diffusion can only be read beyond this lag. A slope
    that stays within tol of 1 for more than half a decade of lag time before it first
    dips is diffusion (Langevin: ballistic, then diffusive), and a later dip is noise.
    """
    slope = _log_slope(t, msd, len(t) // 2)
    lag = t[1:len(t) // 2]
    below = np.flatnonzero(slope < 1 - tol)
    if not below.size or not np.any(slope[:below[0]] > 1 + tol):
        return 1
    near = np.flatnonzero(np.abs(slope[:below[0]] - 1) < tol)
    if near.size and lag[below[0]] > 10 ** 0.5 * lag[near[0]]:
        return 1
    return int(below[0]) + 1


def diffusive_window(t: np.ndarray, msd: np.ndarray, tol: float = 0.1) -> tuple[int, int]:
    """Indices [i0, i1) of the longest stretch where d ln MSD / d ln t is within tol of 1,
    beyond the cage's onset (``cage_onset``).

    Lags beyond half the trajectory are excluded (too few origins). Falls back to the
    second half of that range if no stretch qualifies (``self_diffusion`` then says the
    result is not diffusive).
    """
    n = len(t) // 2
    i = np.arange(1, n)
    slope = _log_slope(t, msd, n)
    ok = np.abs(slope - 1) < tol
    ok[:cage_onset(t, msd, tol) - 1] = False
    best, start, cur = (0, 0), None, 0
    for k, good in enumerate(ok):
        if good and start is None:
            start = k
        if (not good or k == len(ok) - 1) and start is not None:
            end = k + 1 if good else k
            if end - start > best[1] - best[0]:
                best = (start, end)
            start = None
    if best[1] - best[0] < 3:
        return max(1, n // 2), n
    return int(i[best[0]]), int(i[best[1] - 1]) + 1


def self_diffusion(positions, dt: float, *, n_blocks: int = 5, window=None,
                   viscosity: float | None = None, box_length: float | None = None,
                   temperature: float | None = None) -> DiffusionResult:
    """Self-diffusion coefficient from unwrapped positions (n_frames, n_atoms, n_dim).

    dt: time between frames. window: optional (t_start, t_end) to override the
    automatic diffusive window. The error is the standard error of D over
    ``n_blocks`` consecutive trajectory blocks. Yeh-Hummer correction
    D += xi k_B T / (6 pi eta L) when viscosity (Pa s), box_length (m) and
    temperature (K) are all given (3D periodic cubic boxes only).
    """
    x = np.asarray(positions, dtype=float)
    if dt <= 0 or not math.isfinite(dt):
        raise InputError(f"dt: {dt}; expected a positive finite time step")
    if n_blocks < 2:
        raise InputError(f"n_blocks: {n_blocks}; expected >= 2 for an error estimate")
    ndim = x.shape[2]
    msd = msd_fft(x)
    t = np.arange(len(msd)) * dt
    tot = msd.sum(axis=1)
    if window is None:
        i0, i1 = diffusive_window(t, tot)
    else:
        i0, i1 = int(round(window[0] / dt)), int(round(window[1] / dt)) + 1
    i0 = max(i0, 1)

    def fit(m, lo, hi, tt):
        return np.polyfit(tt[lo:hi], m[lo:hi], 1)[0] / 2.0

    # Block averaging: D is the mean of the per-block fits on one common lag window, so the
    # standard error describes the very estimate reported. The window must fit in half a block
    # (beyond that a block has too few time origins).
    nb = len(x) // n_blocks
    if nb < 8:
        raise InputError(f"n_blocks: {n_blocks} leaves {nb} frames per block; expected >= 8")
    cap = nb // 2
    if i1 > cap:
        i1 = cap
        i0 = min(i0, max(1, cap // 4))
    if i1 - i0 < 3:
        i0 = max(1, i1 // 4)
    blocks = []
    for b in range(n_blocks):
        mb = msd_fft(x[b * nb:(b + 1) * nb])
        tb = np.arange(len(mb)) * dt
        blocks.append([fit(mb[:, d], i0, i1, tb) for d in range(ndim)])
    blocks = np.array(blocks)
    Dd = blocks.mean(axis=0)
    se_d = blocks.std(axis=0, ddof=1) / math.sqrt(n_blocks)
    se = blocks.mean(axis=1).std(ddof=1) / math.sqrt(n_blocks)
    slope = float(np.polyfit(np.log(t[i0:i1]), np.log(tot[i0:i1]), 1)[0])
    # Diffusion makes the MSD a straight line (an offset from the ballistic start or the
    # cage is fine; a log-slope of 1 is not needed): its rate over the window's two halves
    # agrees to 10 %. Inside the cage, or across the fall from ballistic to caged, it does not.
    onset = cage_onset(t, tot)
    mid = (i0 + i1) // 2
    rates = [np.polyfit(t[a:b], tot[a:b], 1)[0] for a, b in ((i0, mid + 1), (mid, i1))]
    bend = rates[1] / rates[0] - 1 if rates[0] > 0 else math.inf
    # and over a factor of 2 in lag at least: a short stretch of a noisy MSD is straight too
    diffusive = bool(i0 >= onset and abs(bend) < 0.1 and t[i1 - 1] >= 2 * t[i0])
    if not diffusive:
        warnings.warn(f"self_diffusion: the fit window {t[i0]:.4g}..{t[i1 - 1]:.4g} (time unit "
                      f"of dt) is not the diffusive regime (the MSD's rate changes by "
                      f"{bend * 100:+.0f} % from its first half to its second"
                      + (f"; it starts inside the cage, onset {t[onset]:.4g}" if i0 < onset else "")
                      + ("; it spans less than a factor of 2 in lag" if t[i1 - 1] < 2 * t[i0]
                         else "") + f"): the trajectory or its {n_blocks} blocks are too short, "
                      "and D is not a self-diffusion coefficient", stacklevel=2)
    D = float(Dd.mean())
    yh = 0.0
    if viscosity is not None and box_length is not None and temperature is not None:
        yh = YH_XI * K_B * temperature / (6 * math.pi * viscosity * box_length)
        D += yh
    return DiffusionResult(D=D, stderr=float(se), D_per_direction=Dd, stderr_per_direction=se_d,
                           fit_window=(float(t[i0]), float(t[i1 - 1])), slope=slope, msd=msd,
                           lag_time=t, n_blocks=n_blocks, yeh_hummer=yh, diffusive=diffusive)


@dataclasses.dataclass
class FiniteSizeFit:
    """D(L) = D_inf - xi k_B T / (6 pi eta L), fitted over several cubic box sizes.

    D_inf, D_inf_stderr: the infinite-box coefficient (units of the input D);
    slope, slope_stderr: dD / d(1/L) (units of D times L; negative for hydrodynamics);
    viscosity: eta implied by the slope (Pa s, when D is in m^2/s and L in m), with
    its error; chi2_per_dof: weighted-residual check of the 1/L law (about 1 when the
    error bars are honest and the law holds).
    """
    D_inf: float
    D_inf_stderr: float
    slope: float
    slope_stderr: float
    viscosity: float
    viscosity_stderr: float
    chi2_per_dof: float
    box_lengths: np.ndarray
    D: np.ndarray
    stderr: np.ndarray


def finite_size_extrapolation(box_lengths, D, stderr, temperature: float) -> FiniteSizeFit:
    """Weighted least squares of D against 1/L (Yeh & Hummer 2004, Eq. 10) over >= 3 boxes.

    box_lengths in m and D, stderr in m^2/s give viscosity in Pa s. The error bars of
    D_inf and the slope are the fit's covariance scaled by chi2/dof when that is > 1
    (errors that underestimate the scatter do not make the fit look better than it is).
    """
    L = np.asarray(box_lengths, dtype=float)
    y = np.asarray(D, dtype=float)
    s = np.asarray(stderr, dtype=float)
    if not (L.shape == y.shape == s.shape) or L.ndim != 1 or len(L) < 3:
        raise InputError(f"box_lengths, D, stderr: {L.shape}, {y.shape}, {s.shape}; expected "
                         "three equal-length lists of at least 3 boxes (a line through 2 "
                         "points has no error)")
    if not (np.all(L > 0) and np.all(s > 0) and np.isfinite(y).all()):
        raise InputError("box_lengths and stderr must be > 0 and D finite")
    if len(np.unique(L)) < 2:
        raise InputError("box_lengths: all equal; expected at least two box sizes")
    if not (np.isfinite(temperature) and temperature > 0):
        raise InputError(f"temperature: {temperature}; expected > 0 K")
    x = 1.0 / L
    w = 1.0 / s ** 2
    A = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    coef = cov @ (A.T @ (w * y))
    chi2 = float(np.sum(w * (y - A @ coef) ** 2) / (len(L) - 2))
    cov = cov * max(chi2, 1.0)
    d_inf, slope = (float(c) for c in coef)
    se_inf, se_slope = (float(math.sqrt(v)) for v in np.diag(cov))
    k = YH_XI * K_B * temperature / (6 * math.pi)
    eta = -k / slope if slope < 0 else math.inf
    eta_se = k * se_slope / slope ** 2 if slope < 0 else math.inf
    return FiniteSizeFit(D_inf=d_inf, D_inf_stderr=se_inf, slope=slope, slope_stderr=se_slope,
                         viscosity=eta, viscosity_stderr=eta_se, chi2_per_dof=chi2,
                         box_lengths=L, D=y, stderr=s)


@dataclasses.dataclass
class SlabDiffusion:
    """Lateral D per slab (units of positions^2 / dt) with block errors; NaN where too few stays."""
    z: np.ndarray
    D: np.ndarray
    stderr: np.ndarray
    lag_window: tuple
    pairs: np.ndarray
    method: str = ("lateral MSD of particles that stay in the slab for the whole lag "
                   "(Liu, Harder & Berne 2004), linear fit over the lag window, block errors")


def slab_diffusion(positions, dt: float, *, axis: int, edges, lag_window: tuple[int, int] = (2, 10),
                   n_blocks: int = 5, min_pairs: int = 20) -> SlabDiffusion:
    """D parallel to a surface in slabs along ``axis`` from unwrapped positions (frames, atoms, 3).

    A (particle, origin) pair counts at lag k only if the particle stayed inside the slab from
    the origin to k frames later; the mean lateral square displacement of those pairs is fitted
    against the lag (frames ``lag_window[0]`` .. ``lag_window[1]``, ballistic lags excluded) and
    D = slope / 4 (two lateral directions). Slabs thinner than the motion in the lag window have
    few surviving pairs: fewer than ``min_pairs`` at the longest lag in any block give NaN.
    """
    x = np.asarray(positions, dtype=float)
    edges = np.asarray(edges, dtype=float)
    if x.ndim != 3 or x.shape[2] != 3:
        raise InputError(f"positions: shape {x.shape}; expected (frames, atoms, 3)")
    if not (math.isfinite(dt) and dt > 0):
        raise InputError(f"dt: {dt}; expected a positive finite time between frames")
    lo, hi = (int(v) for v in lag_window)
    if not 1 <= lo < hi:
        raise InputError(f"lag_window: {lag_window}; expected 1 <= first < last (frames)")
    nb = len(x) // n_blocks
    if n_blocks < 2 or nb <= hi:
        raise InputError(f"n_blocks: {n_blocks} leaves {nb} frames per block; expected >= 2 blocks "
                         f"longer than the lag window ({hi} frames)")
    lat = [d for d in range(3) if d != axis]
    slab = np.digitize(x[:, :, axis], edges) - 1          # (frames, atoms), -1 / len: outside
    n_slabs = len(edges) - 1
    lags = np.arange(lo, hi + 1)
    D = np.full((n_blocks, n_slabs), np.nan)
    pairs = np.zeros(n_slabs, dtype=int)
    for b in range(n_blocks):
        xb, sb = x[b * nb:(b + 1) * nb], slab[b * nb:(b + 1) * nb]
        msd = np.zeros((len(lags), n_slabs))
        cnt = np.zeros((len(lags), n_slabs))
        # stay[t, i]: particle i is in the same slab at t as at t-1 (cumulative run length below)
        same = np.vstack([np.zeros((1, sb.shape[1]), bool), sb[1:] == sb[:-1]])
        run = np.zeros(sb.shape, dtype=int)
        for t in range(1, len(sb)):
            run[t] = np.where(same[t], run[t - 1] + 1, 0)
        for k_i, k in enumerate(lags):
            ok = run[k:] >= k                                # stayed from t0 to t0 + k
            s0 = sb[:-k][ok]
            d2 = ((xb[k:][:, :, lat] - xb[:-k][:, :, lat]) ** 2).sum(axis=2)[ok]
            inside = (s0 >= 0) & (s0 < n_slabs)
            msd[k_i] = np.bincount(s0[inside], weights=d2[inside], minlength=n_slabs)
            cnt[k_i] = np.bincount(s0[inside], minlength=n_slabs)
        pairs += cnt[-1].astype(int)
        for j in range(n_slabs):
            if cnt[-1, j] >= min_pairs:
                D[b, j] = np.polyfit(lags * dt, msd[:, j] / cnt[:, j], 1)[0] / 4.0
    good = ~np.isnan(D).any(axis=0)
    mean = np.where(good, np.nanmean(D, axis=0), np.nan)
    se = np.where(good, np.nanstd(D, axis=0, ddof=1) / math.sqrt(n_blocks), np.nan)
    return SlabDiffusion(z=0.5 * (edges[1:] + edges[:-1]), D=mean, stderr=se,
                         lag_window=(lo * dt, hi * dt), pairs=pairs)
