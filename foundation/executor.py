"""Running many independent tasks: serially, on a local Dask cluster, or on any scheduler.

``Executor(workers=1)`` runs tasks in this process (no Dask at all), which is
the right choice for tiny tasks and for debugging. ``workers > 1`` starts a
``distributed.LocalCluster`` (processes, one thread each) on first use;
``scheduler="tcp://host:8786"`` connects to an existing scheduler, e.g. one
started on a batch system with dask-jobqueue (see README). Results come back
in input order whichever way they ran, so a parallel run equals a serial one;
``on_result`` sees each one in this process the moment it exists, so a caller
can commit it at once (nothing computed is lost when the run is killed).

The toolkit's one Dask executor: pipelines (``multiscale``) and reference
labelling (``atomistic``) both run through it, which is why it lives on floor 0.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


__all__ = ["Executor"]


class Executor:
    """``map`` many independent tasks: in this process (``workers=1``), on a local Dask
    cluster (``workers > 1``) or on the scheduler at ``scheduler``; see the module docstring."""

    def __init__(self, scheduler: str | None = None, workers: int | None = 1, quiet: bool = True,
                 client=None):
        """``client``: a ``distributed.Client`` the caller already has (and closes itself)."""
        if workers is not None and workers < 1:
            from .errors import InputError

            raise InputError(f"workers: {workers}: must be >= 1")
        self.scheduler = scheduler
        self.workers = workers
        self.quiet = quiet
        self._client = client
        self._owns_client = client is None
        self._cluster = None

    @property
    def parallel(self) -> bool:
        return not self._owns_client or self.scheduler is not None or (self.workers or 1) > 1

    def _get_client(self):
        if self._client is None:
            try:
                from distributed import Client, LocalCluster
            except ImportError as exc:
                from .errors import EngineMissingError

                raise EngineMissingError(
                    f"parallel tasks need Dask's distributed ({exc}); install it with: "
                    "pip install 'multiscale[parallel]', or run with workers=1") from exc

            if self.scheduler:
                self._client = Client(self.scheduler)
            else:
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                             processes=True, dashboard_address=None,
                                             silence_logs=40)
                self._client = Client(self._cluster)
        return self._client

    def map(self, func: Callable[[Any], Any], items: Iterable[Any], desc: str = "tasks",
            on_result: Callable[[Any], None] | None = None) -> list:
        """``[func(x) for x in items]``, in parallel when configured, with a progress bar unless
        ``quiet``. ``on_result(result)`` runs in this process for each result as it arrives (in
        the order they finish); the list returned is in input order."""
        items = list(items)
        out: list[Any] = [None] * len(items)
        if not self.parallel or len(items) <= 1:
            for i, x in enumerate(self._track(items, desc)):
                out[i] = func(x)
                if on_result is not None:
                    on_result(out[i])
            return out
        from distributed import as_completed

        client = self._get_client()
        futures = client.map(func, items, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in self._track(as_completed(futures), desc, total=len(items)):
            out[index[fut.key]] = fut.result()
            if on_result is not None:
                on_result(out[index[fut.key]])
        return out

    def _track(self, iterable, desc: str, total: int | None = None):
        if self.quiet:
            return iterable
        from rich.progress import track

        return track(iterable, description=desc, total=total, transient=True)

    def close(self) -> None:
        if self._client is not None and self._owns_client:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
