"""Progress lines that suit where they go: live on a terminal, a few plain lines in a log file.

A terminal can take a redrawn status line many times a second; a log file (stdout
or stderr redirected, a batch job's output) gets every redraw as one more line,
and carriage-return bars turn into thousands of updates. So, when the stream is
not a terminal, :class:`LineThrottle` writes at most one status line every
``interval`` seconds (milestones such as "stage done" pass with ``force=True``),
and :func:`dask_progress` reports a Dask computation through it instead of
Dask's carriage-return ``ProgressBar``.
"""
from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO

__all__ = ["LOG_INTERVAL_S", "LineThrottle", "dask_progress", "is_terminal"]

LOG_INTERVAL_S = 5.0  # seconds between status lines when the output is not a terminal


def is_terminal(stream: IO | None = None) -> bool:
    """Whether ``stream`` (default: stdout) is an interactive terminal."""
    stream = sys.stdout if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


class LineThrottle:
    """``say(msg)`` writes ``msg`` through ``write`` at most once every ``interval`` seconds.

    Messages in between are dropped (the next one written says where the work
    is); ``say(msg, force=True)`` always writes, for milestones.
    """

    def __init__(self, write: Callable[[str], None], interval: float = LOG_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic):
        self.write, self.interval, self.clock = write, interval, clock
        self._last: float | None = None

    def __call__(self, msg: str, force: bool = False) -> None:
        now = self.clock()
        if force or self._last is None or now - self._last >= self.interval:
            self._last = now
            self.write(msg)


@contextlib.contextmanager
def dask_progress(enabled: bool | Callable[[str], None] = True, stream: IO | None = None,
                  interval: float = LOG_INTERVAL_S, what: str = "tasks") -> Iterator[None]:
    """Report the Dask computations run inside: Dask's bar on a terminal, else plain lines
    (``tasks 12/40``) at most every ``interval`` seconds, and one when all are done. ``enabled``
    may be a callable instead (e.g. a pipeline stage's ``ctx.progress``): it gets every
    ``WHAT done/total`` line and decides itself how often to show one."""
    if not enabled:
        yield
        return
    stream = sys.stdout if stream is None else stream
    if callable(enabled):
        def say(msg: str, force: bool = False) -> None:   # the caller decides how often to show
            enabled(msg)
    elif is_terminal(stream):
        from dask.diagnostics import ProgressBar

        with ProgressBar(out=stream):
            yield
        return
    else:
        say = LineThrottle(lambda msg: print(msg, file=stream, flush=True), interval)
    from dask.callbacks import Callback

    class _Lines(Callback):
        def _start_state(self, dsk, state):
            self.total = sum(len(state.get(k, ())) for k in ("ready", "waiting", "running",
                                                             "finished"))
            self.done = 0

        def _posttask(self, key, result, dsk, state, worker_id):
            self.done += 1
            say(f"{what} {self.done}/{self.total}", force=self.done == self.total)

    with _Lines():
        yield
