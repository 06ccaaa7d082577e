"""Trust levels of the committee's force disagreement, and how to calibrate them per system.

DP-GEN's model-deviation rule, with ``dev = max_force_dev`` (eV/Angstrom, the
largest per-atom spread of the committee's forces, see
``atomistic.mlip.calculator``):

- ``dev <= trust_lo``: the committee agrees; trust the frame, keep going.
- ``trust_lo < dev <= trust_hi``: the committee is unsure; label this frame
  with the reference calculator and learn from it.
- ``dev > trust_hi``: the committee is lost (or the structure is
  unphysical); do not spend a reference call on it: roll back.

Defaults 0.05 / 0.15 eV/Angstrom (DP-GEN's usual range for metals). They
depend on the system and on the committee (its size, how it was trained),
so calibrate them: ``calibrate_trust_levels(calc, frames, max_error)`` takes
labelled frames the committee has not trained on, fits the ratio k between
the true per-frame maximum force error and ``dev`` (median of the per-frame
ratios, robust to a few outliers), and returns ``trust_lo = max_error / k``
(the deviation at which the expected worst-atom error reaches the error you
accept without asking the reference) and ``trust_hi = hi_factor * trust_lo``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

TRUST_LO = 0.05  # eV/Angstrom
TRUST_HI = 0.15  # eV/Angstrom


@dataclass
class TrustCalibration:
    """Calibrated trust levels (eV/Angstrom) and the evidence behind them.

    ratio: median over frames of (true max force error) / max_force_dev;
    spearman: rank correlation of the two (how well dev orders the frames);
    dev, error: per-frame values (eV/Angstrom).
    """

    trust_lo: float
    trust_hi: float
    ratio: float
    spearman: float
    dev: list[float]
    error: list[float]


def calibrate_trust_levels(calc, frames, max_error: float = 0.15, hi_factor: float = 3.0
                           ) -> TrustCalibration:
    """Trust levels for committee ``calc`` from labelled ``frames`` it did not train on.

    Args:
        calc: a committee calculator reporting ``max_force_dev``.
        frames: labelled frames representative of what the loop will visit.
        max_error: the worst per-atom force error (eV/Angstrom) accepted in a frame
            without a reference call.
        hi_factor: trust_hi / trust_lo (3, as DP-GEN's 0.05 / 0.15).
    """
    from scipy.stats import spearmanr

    from ..mlip.evaluation import prediction_errors

    if max_error <= 0 or hi_factor <= 1:
        raise InputError(f"max_error, hi_factor: {max_error}, {hi_factor}: expected > 0 and > 1")
    frames = list(frames)
    if len(frames) < 3:
        raise InputError(f"frames: {len(frames)}: expected at least 3 labelled frames")
    err = prediction_errors(calc, frames)
    if not err.max_force_dev:
        raise InputError("calc: reports no max_force_dev; expected a committee calculator")
    dev = np.maximum(np.asarray(err.max_force_dev), 1e-12)
    true = np.asarray(err.max_force_error)
    ratio = float(np.median(true / dev))
    rho = float(spearmanr(dev, true).statistic) if len(set(dev.tolist())) > 1 else float("nan")
    lo = max_error / ratio
    return TrustCalibration(lo, hi_factor * lo, ratio, rho, dev.tolist(), true.tolist())
