"""How many torch threads one energy+forces call of a learned potential uses.

A small structure's call is a few hundred tensor ops on arrays of a few thousand numbers.
Spread over two threads, each op pays for waking the second thread (and MKL's batched
matrix products their own pool) and gains almost nothing. Measured on a quiet 2-core
machine (float32, ``BatchedMD`` step, OMP_WAIT_POLICY=PASSIVE as the benchmarks run), ms
per step with 1 / 2 threads (repeats vary by ~15 %):

- rattled fcc Cu, one 7.5k-parameter member: 32 atoms 2.0 / 4.1; 108 atoms 5.6 / 9.2;
  864 atoms 24.6 / 31.8; 1372 atoms 36.0 / 32.3; 2048 atoms 59 / 49; 4000 atoms 116 / 80;
  3 members (one stacked pass): 108 atoms 6.5 / 9.1; 864 atoms 46.5 / 41.2;
- the shipped NaCl(aq)|Cu committee (3 members, charges and PME): 98 atoms 16 / 27;
  119 atoms (Cu film) 19 / 35; 196 atoms 39 / 62; 392 atoms 52-59 / 68-76;
  784 atoms 95-103 / 86-108; 1568 atoms 257 / 236.

Counted in member-pairs (pairs listed within the cutoff plus the Verlet skin, times the
members evaluated) the crossover is ~60k for Cu (864 atoms: 47k pairs) and ~150k for the
electrolyte (392 atoms: 75k member-pairs), whose six elements make more, smaller ops per
pair. ``SERIAL_BELOW`` = 100k sits between: Cu at 1372 atoms (74k) then runs ~10 %
slower than it could, the electrolyte at 392 atoms 25 % faster. Below it
a call runs on one thread and then gives the process back the thread count it had; at or
above it the call uses what the process is set to (``torch.set_num_threads``), so a
user's own setting still rules large work.
"""
from __future__ import annotations

from contextlib import contextmanager

# member-pairs below which a call runs on one thread (the module docstring's tables)
SERIAL_BELOW = 100_000


@contextmanager
def threads_for(member_pairs: int):
    """Run the enclosed torch work on one thread if ``member_pairs`` < ``SERIAL_BELOW``.

    torch's thread count (OpenMP's, and MKL's local one) belongs to the calling Python
    thread, so calls from several threads (Dask workers) each set and restore their own.
    """
    import torch

    saved = torch.get_num_threads()
    if member_pairs >= SERIAL_BELOW or saved == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)
