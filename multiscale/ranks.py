"""MPI ranks of a ``multiscale run`` started under a launcher (``mpirun -n N``).

A run config mixes independent tasks (sent to Dask) with single big solves
(GPAW, dolfinx) that use MPI inside. Under ``mpirun -n N multiscale run CONFIG``
every rank executes every stage, so that collective solves see all ranks; rank
0 alone owns the run directory (lock, ``run.json``, the stage folders, the
report) and decides what is cached. The other ranks write their copies of a
stage's files into a private scratch folder that is deleted when the stage
ends: a stage function needs no MPI logic of its own beyond using
``MPI.COMM_WORLD`` (the engines' default) for its solves.

mpi4py is imported only when a launcher's environment variables say the
process is one of several ranks, so a plain run never loads MPI.
"""
from __future__ import annotations

import os
from typing import Any

__all__ = ["World", "world"]

# Set by MPICH/Hydra (PMI_SIZE), Open MPI (OMPI_COMM_WORLD_SIZE) and Slurm's srun (SLURM_NTASKS
# is set for the whole allocation, so only PMI/PMIX variables are trusted there).
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")


class World:
    """The ranks of this run: ``rank``, ``size``, ``root``, and ``bcast``/``barrier``.

    With one rank (no launcher) every operation is the identity.
    """

    def __init__(self, comm: Any = None):
        self.comm = comm
        self.rank = comm.Get_rank() if comm is not None else 0
        self.size = comm.Get_size() if comm is not None else 1

    @property
    def root(self) -> bool:
        return self.rank == 0

    def bcast(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank."""
        return self.comm.bcast(value, root=0) if self.size > 1 else value

    def barrier(self) -> None:
        if self.size > 1:
            self.comm.Barrier()


def world() -> World:
    """The MPI world of this process, or a one-rank world when not under a launcher."""
    launched = any(int(os.environ.get(v, "1") or 1) > 1 for v in _SIZE_VARIABLES)
    if not launched:
        return World()
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    return World(comm if comm.Get_size() > 1 else None)
