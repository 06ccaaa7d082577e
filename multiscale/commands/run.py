"""``multiscale run CONFIG``: validate a config, run its pipeline, write the report."""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def _milestone(msg: str) -> bool:
    """A stage starting, resuming, finishing or found cached (the pipeline's own lines)."""
    return msg.endswith("(cached)") or " done in " in msg or ": running (" in msg \
        or ": resuming " in msg


@contextlib.contextmanager
def run_progress(console, interval: float | None = None, clock=None) -> Iterator[Callable[[str], None]]:
    """The pipeline's ``progress`` callback for ``console``: nothing when it is quiet; on a
    terminal a spinner with the latest status (milestones stay as plain lines); otherwise plain
    lines, milestones always and other status at most one every ``interval`` seconds."""
    from foundation.progress import LOG_INTERVAL_S, LineThrottle

    def line(msg: str) -> None:
        console.print(msg, highlight=False, markup=False, soft_wrap=True)

    if console.quiet:
        yield lambda msg: None
    elif console.is_terminal:
        with console.status("starting", spinner="dots") as status:
            def progress(msg: str) -> None:
                status.update(msg)
                if _milestone(msg):
                    line(msg)
            yield progress
    else:
        kwargs = {"clock": clock} if clock else {}
        throttle = LineThrottle(line, LOG_INTERVAL_S if interval is None else interval, **kwargs)
        yield lambda msg: throttle(msg, force=_milestone(msg))


def run(
    config: Annotated[Path, typer.Argument(help="TOML run config.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o",
                   help="Run directory (default: runs/<run.name> beside the config).")] = None,
    scheduler: Annotated[Optional[str], typer.Option(
        help="Dask scheduler address (tcp://host:8786); default: a local cluster.")] = None,
    workers: Annotated[int, typer.Option(
        help="Local Dask worker processes for independent tasks (1 = run in this process).")] = 1,
    only: Annotated[Optional[list[str]], typer.Option(
        "--only", help="Run only this stage and what it needs (repeatable).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output: print only the report path.")] = False,
) -> None:
    """Run a pipeline: cached stages are skipped, an interrupted run resumes.

    Under ``mpirun -n N`` every rank runs the stages (the FEniCSx and GPAW
    solves are distributed over the ranks) and rank 0 alone writes and prints.
    """
    from rich.console import Console

    from ..config import load_config
    from ..errors import MultiscaleError, StageFailed
    from foundation.executor import Executor
    from ..pipeline import run_pipeline
    from ..ranks import world
    from ..report import headlines, write_report

    def fail(message: str, code: int):
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(code)

    try:
        cfg = load_config(config)
    except MultiscaleError as exc:
        fail(str(exc), 2)
    out = out or (cfg.folder / "runs" / cfg.run.name)
    if out.exists() and not out.is_dir():
        fail(f"--out {str(out)!r}: is a file; expected a run directory", 2)
    ranks = world()
    console = Console(quiet=quiet or not ranks.root)
    try:
        with Executor(scheduler=scheduler, workers=workers, quiet=quiet or not ranks.root) as executor, \
                run_progress(console) as progress:
            records = run_pipeline(cfg, out, executor=executor, progress=progress, only=only)
        if not ranks.root:
            return
        report, _ = write_report(out, records, cfg)
    except KeyboardInterrupt:
        fail("interrupted: finished stages are kept; run the same command to resume", 130)
    except StageFailed as exc:
        # a missing engine is a set-up problem (2); anything else failed while running (1)
        fail(str(exc), 2 if isinstance(exc.__cause__, ImportError) else 1)
    except MultiscaleError as exc:  # e.g. the output directory is locked by another run
        fail(str(exc), 2)
    # -q silences progress only: the report's path is the run's answer and is always printed
    if quiet:
        typer.echo(f"Report: {report}")
        return
    console.print(f"\nReport: {report}")
    for label, text in headlines(records):
        console.print(f"  {label}: {text}", highlight=False)
