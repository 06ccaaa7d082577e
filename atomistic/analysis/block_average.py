"""Block averaging: the error bar of a time-series statistic from contiguous blocks.

A statistic evaluated on ``n_blocks`` contiguous, equal blocks of a correlated
series gives nearly independent samples once each block is much longer than the
correlation time; their standard error of the mean is then the error bar of the
whole-series statistic (Flyvbjerg & Petersen, J. Chem. Phys. 91, 461 (1989)). The
lag-1 correlation of the block values is the check: near 0 when blocks are
independent, clearly positive when they are too short.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np

from ..errors import InputError

MIN_BLOCKS = 5  # fewer blocks give an error bar that is itself too uncertain (~1/sqrt(2(n-1)))


@dataclasses.dataclass(frozen=True)
class BlockEstimate:
    """mean: mean of the block values; stderr: their standard error (std, ddof=1, / sqrt(n));
    values: (n_blocks,) per-block values; block_correlation: lag-1 autocorrelation of them."""
    mean: float
    stderr: float
    values: np.ndarray
    block_correlation: float


def split_blocks(series, n_blocks: int, *, min_block: int = 2, name: str = "series") -> list[np.ndarray]:
    """``n_blocks`` contiguous equal blocks along axis 0 (a remainder at the end is dropped)."""
    x = np.asarray(series)
    if n_blocks < MIN_BLOCKS:
        raise InputError(f"n_blocks: {n_blocks}; expected >= {MIN_BLOCKS} for a usable error bar")
    nb = len(x) // n_blocks
    if nb < min_block:
        raise InputError(f"{name}: {len(x)} samples leave {nb} per block with n_blocks = {n_blocks}; "
                         f"expected >= {min_block} per block (a longer series or fewer blocks)")
    return [x[b * nb:(b + 1) * nb] for b in range(n_blocks)]


def block_estimate(series, statistic: Callable[[np.ndarray], float], n_blocks: int = 10, *,
                   min_block: int = 2, name: str = "series") -> BlockEstimate:
    """``statistic`` on each of ``n_blocks`` contiguous blocks of ``series``: mean, stderr, checks."""
    vals = np.array([float(statistic(b)) for b in split_blocks(series, n_blocks, min_block=min_block, name=name)])
    d = vals - vals.mean()
    den = float(d @ d)
    corr = float(d[1:] @ d[:-1] / den) if den > 0 else 0.0
    return BlockEstimate(mean=float(vals.mean()), stderr=float(vals.std(ddof=1) / math.sqrt(len(vals))),
                         values=vals, block_correlation=corr)
