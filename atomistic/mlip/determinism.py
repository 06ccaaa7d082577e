"""Bit-for-bit reproducible torch computations on several threads.

With two or more intra-op threads, a default CPU kernel of the backward pass accumulates in an
order that depends on thread timing: two identical trainings in one process gave weights 6e-8
(forces 5e-7 eV/A) apart. That is enough to send an active-learning walker another way, so a
run resumed after a kill could not equal an uninterrupted one. torch's deterministic kernels
remove it at no measured cost (two 10-epoch trainings, 3.0 s either way, 2 threads).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["deterministic_kernels"]


@contextlib.contextmanager
def deterministic_kernels(torch) -> Iterator[None]:
    """torch's deterministic algorithms inside the block, the caller's setting restored after
    (library code does not change a process-wide switch for good)."""
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
