"""Differential capacitance from electrode-charge fluctuations of constant-potential MD.

At fixed electrode potential the total electrode charge Q fluctuates, and
linear response gives the differential capacitance per area

    C = beta <dQ^2> / A = beta A <d sigma^2>,     beta = 1 / (k_B T),

(SI: F/m^2 for Q in C, A in m^2). The standard error comes from block
averages of dQ^2 (frames are correlated; blocks longer than the correlation
time are independent).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import InputError

_E = 1.602176634e-19  # C
_KB = 1.380649e-23  # J/K


@dataclass(frozen=True)
class FluctuationCapacitance:
    """capacitance and stderr in F/m^2; mean_charge (e); n_frames; n_blocks."""

    capacitance: float
    stderr: float
    mean_charge: float
    n_frames: int
    n_blocks: int


def capacitance_from_charge_fluctuations(charges, area: float, temperature: float, *,
                                         n_blocks: int = 10) -> FluctuationCapacitance:
    """C = <dQ^2> / (k_B T A) from a constant-potential trajectory.

    charges: electrode charge per frame, e, shape (n_frames,) (equilibrated frames only);
    area: electrode area, Angstrom^2; temperature: K; n_blocks: blocks for the error
    (each block must be much longer than the charge autocorrelation time).
    """
    q = np.asarray(charges, dtype=float)
    if q.ndim != 1 or not np.all(np.isfinite(q)):
        raise InputError("charges: expected a 1D array of finite charges (e), one per frame")
    if not (math.isfinite(area) and area > 0):
        raise InputError(f"area = {area!r}; expected a positive electrode area in Angstrom^2")
    if not (math.isfinite(temperature) and temperature > 0):
        raise InputError(f"temperature = {temperature!r}; expected > 0 K")
    if n_blocks < 2 or len(q) < 10 * n_blocks:
        raise InputError(f"charges: {len(q)} frames for n_blocks = {n_blocks}; expected n_blocks >= 2 "
                         "and >= 10 frames per block")
    dq2 = (q - q.mean()) ** 2
    usable = len(q) // n_blocks * n_blocks
    blocks = dq2[:usable].reshape(n_blocks, -1).mean(axis=1)
    scale = _E ** 2 / (_KB * temperature * area * 1e-20)  # e^2/(J m^2) -> F/m^2
    var = float(dq2.mean()) * len(q) / (len(q) - 1)
    return FluctuationCapacitance(capacitance=var * scale,
                                  stderr=float(blocks.std(ddof=1) / math.sqrt(n_blocks)) * scale,
                                  mean_charge=float(q.mean()), n_frames=len(q), n_blocks=n_blocks)
