"""``multiscale learn CONFIG``: on-the-fly active learning of a committee potential."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("learn")(learn)


def learn(
    config: Annotated[Path, typer.Argument(help="TOML active-learning config "
                                                "(see docs/active_learning.md).")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Explore with the committee, label where it disagrees, retrain; rerunning resumes."""
    from atomistic.errors import AtomisticError, InputError
    from atomistic.learn_config import learn_from_config

    try:
        result, plot = learn_from_config(config, progress=not quiet)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    except AtomisticError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted: the run folder is checkpointed; run the same command to resume",
                   err=True)
        raise typer.Exit(130)
    if not quiet:
        last = result.curve[-1] if result.curve else {}
        test = (f", held-out force MAE {1000 * last['force_mae']:.1f} meV/Å"
                if "force_mae" in last else "")
        typer.echo(f"{result.n_calls} reference calls ({result.n_labelled} labelled, "
                   f"{result.n_failed} failed), {result.n_rejected} rolled back, "
                   f"{result.md_steps} MD steps{test}; stopped: {result.stop_reason}")
        typer.echo(f"Potential: {result.potential}\nDataset: {result.dataset}\n"
                   f"Learning curve: {plot}")
