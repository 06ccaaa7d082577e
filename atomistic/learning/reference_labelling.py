"""Labelling frames with the reference calculator (DFT or EMT), timed, one by one or on Dask.

- ``label_one(atoms, reference, frame_id)``: one reference calculation; a
  failure (SCF not converged, any engine error, non-finite result) comes back
  as a ``LabelOutcome`` with ``error`` set instead of raising, so a loop can
  record it and go on.
- ``ReferenceLabeller(reference, workers=1, scheduler=None)``: labels a list
  of frames, in this process (``workers=1``), on a Dask ``LocalCluster``
  (``workers > 1``, one process per worker) or on an existing scheduler
  (``scheduler="tcp://host:8786"``); ``on_result`` is called in this process
  for each outcome as soon as it arrives, so the caller can commit every
  label the moment it exists (nothing computed is lost when the run is killed).
  The work is spread by the toolkit's one executor, ``foundation.executor``.

``reference`` is an ASE calculator or a zero-argument factory returning one.
With Dask it must be picklable: a module-level factory such as
``atomistic.mlip.dataset.emt_calculator`` or ``functools.partial(gpaw_lcao_calculator,
kpts=(1, 1, 1))``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from ..errors import InputError


@dataclass
class LabelOutcome:
    """One reference calculation: the labelled copy (or None), wall time (s), error text."""

    frame_id: str
    atoms: object | None
    seconds: float
    error: str | None = None


def label_one(atoms, reference, frame_id: str, properties=("energy", "forces")) -> LabelOutcome:
    """Label a copy of ``atoms`` with ``reference``; failures are returned, not raised."""
    from ..mlip.dataset import label_frames

    t0 = time.perf_counter()
    result = label_frames([atoms], reference, properties=properties, progress=False)
    seconds = time.perf_counter() - t0
    if result.failures:
        return LabelOutcome(frame_id, None, seconds, result.failures[0][1])
    return LabelOutcome(frame_id, result.frames[0], seconds)


def _label_job(args):
    """Top-level (picklable) task for Dask workers."""
    atoms, reference, frame_id, properties = args
    return label_one(atoms, reference, frame_id, properties)


class ReferenceLabeller:
    """Label frames serially or in parallel on Dask; see the module docstring."""

    def __init__(self, reference, workers: int = 1, scheduler: str | None = None,
                 properties=("energy", "forces")):
        if workers < 1:
            raise InputError(f"workers: {workers}: expected >= 1")
        from foundation.executor import Executor

        self.reference = reference
        self.workers = int(workers)
        self.scheduler = scheduler
        self.properties = tuple(properties)
        self._executor = Executor(scheduler=scheduler, workers=self.workers)

    @property
    def parallel(self) -> bool:
        return self._executor.parallel

    def label(self, items, on_result=None) -> list[LabelOutcome]:
        """Label ``items`` = [(frame_id, atoms), ...]; outcomes in input order.

        ``on_result(outcome)`` runs in this process for each outcome as it arrives.
        """
        jobs = [(atoms, self.reference, fid, self.properties) for fid, atoms in items]
        return self._executor.map(_label_job, jobs, desc="labelling", on_result=on_result)

    def close(self) -> None:
        self._executor.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
