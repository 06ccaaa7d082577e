"""``multiscale train CONFIG``: train a committee potential from a TOML config."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("train")(train)


def train(
    config: Annotated[Path, typer.Argument(help="TOML training config (see docs/mlip.md).")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Train a committee of learned potentials; rerunning resumes from checkpoints."""
    from atomistic.errors import AtomisticError, InputError
    from atomistic.train_config import train_from_config

    try:
        out = train_from_config(config, progress=not quiet)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    except AtomisticError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted: checkpoints are kept; run the same command to resume", err=True)
        raise typer.Exit(130)
    typer.echo(f"Potential: {out}")
