"""Is a committee's P(stable) a probability? Reliability and a one-number recalibration.

A committee's spread is not automatically its error: members trained on the
same data agree too much (over-confident), members perturbed independently
may disagree more than the mean errs (under-confident). Two tools:

- ``reliability(p, truth)``: bin predicted P(stable) and compare with the
  observed frequency of reference-stable entries per bin (a reliability
  diagram), with the expected calibration error (ECE, count-weighted mean
  |frequency - mean p|) and the Brier score (mean (p - y)^2).
- ``fit_spread_scale(entries, member_energies, truth, train)``: the factor k
  that rescales every member's deviation from the committee mean,
  E_m -> mean + k (E_m - mean), chosen to maximise the likelihood of the
  reference's stable/unstable labels on the ``train`` entries only. The hull
  is rebuilt per member for every k, so the correlated errors stay correlated.
  Apply it with ``p_stable(entries, member_energies, k)`` on held-out entries.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError


def scaled_members(member_energies: np.ndarray, k: float) -> np.ndarray:
    """(M, n) member energies with their deviation from the member mean scaled by ``k``."""
    e = np.asarray(member_energies, dtype=float)
    mean = e.mean(axis=0, keepdims=True)
    return mean + k * (e - mean)


def p_stable(entries: Sequence[tuple], member_energies: np.ndarray, k: float = 1.0) -> np.ndarray:
    """(n,) fraction of members (deviations scaled by k) whose hull has each entry on it."""
    from .hull import stable_mask

    names, formulas, _ = zip(*entries)
    # only the stable sets are needed here: skip the per-entry decompositions (many hulls per fit)
    return np.mean([stable_mask(names, formulas, e) for e in scaled_members(member_energies, k)],
                   axis=0)


def fit_spread_scale(entries: Sequence[tuple], member_energies: np.ndarray, truth: Sequence[bool],
                     train: Sequence[bool], scales: Sequence[float] | None = None) -> tuple[float, np.ndarray]:
    """(k, log-likelihood per scale) maximising sum over ``train`` of log P(truth | p_stable(k)).

    P is clipped to [1/(2M), 1 - 1/(2M)]: an M-member committee cannot resolve
    probabilities finer than 1/M, and a hard 0 or 1 would make one miss infinite.
    """
    truth = np.asarray(truth, dtype=bool)
    train = np.asarray(train, dtype=bool)
    if truth.shape != (len(entries),) or train.shape != (len(entries),):
        raise InputError(f"truth, train: expected {len(entries)} booleans each")
    if not train.any():
        raise InputError("train: no entry selected to fit the spread scale on")
    scales = np.geomspace(0.1, 10, 21) if scales is None else np.asarray(scales, float)
    m = len(member_energies)
    lo = 1 / (2 * m)
    ll = []
    for k in scales:
        p = np.clip(p_stable(entries, member_energies, k), lo, 1 - lo)
        ll.append(float(np.sum(np.where(truth, np.log(p), np.log(1 - p))[train])))
    ll = np.array(ll)
    # a flat likelihood (labels all predicted at every k) says nothing: keep k nearest 1
    best = np.flatnonzero(ll >= ll.max() - 1e-9)
    return float(scales[best[np.argmin(np.abs(np.log(scales[best])))]]), ll


def reliability(p: Sequence[float], truth: Sequence[bool], n_bins: int = 5) -> dict:
    """Reliability-diagram numbers for predicted probabilities ``p`` of the event ``truth``.

    Returns bin ``edges`` (n_bins+1,), per bin ``mean_p``, ``frequency`` and
    ``count`` (empty bins: NaN, NaN, 0), ``ece`` and ``brier`` (dimensionless).
    """
    p = np.asarray(p, dtype=float)
    y = np.asarray(truth, dtype=float)
    if p.shape != y.shape or p.ndim != 1 or len(p) == 0:
        raise InputError(f"p, truth: shapes {p.shape} and {y.shape}; expected equal 1-D, non-empty")
    edges = np.linspace(0, 1, n_bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1], right=False), 0, n_bins - 1)
    mean_p, freq, count = [], [], []
    for b in range(n_bins):
        sel = idx == b
        count.append(int(sel.sum()))
        mean_p.append(float(p[sel].mean()) if sel.any() else float("nan"))
        freq.append(float(y[sel].mean()) if sel.any() else float("nan"))
    count_a = np.array(count)
    gap = np.abs(np.nan_to_num(np.array(freq)) - np.nan_to_num(np.array(mean_p)))
    return {"edges": edges.tolist(), "mean_p": mean_p, "frequency": freq, "count": count,
            "ece": float((gap * count_a).sum() / count_a.sum()),
            "brier": float(np.mean((p - y) ** 2))}
