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
    from ..configs.train import train_from_config

    from ..cli_errors import reported_errors

    with reported_errors("checkpoints are kept; run the same command to resume"):
        out = train_from_config(config, progress=not quiet)
    typer.echo(f"Potential: {out}")
