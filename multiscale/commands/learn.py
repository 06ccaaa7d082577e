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
    from ..configs.learn import learn_from_config

    from ..cli_errors import reported_errors

    with reported_errors("the run folder is checkpointed; run the same command to resume"):
        result, plot = learn_from_config(config, progress=not quiet)
    if not quiet:
        last = result.curve[-1] if result.curve else {}
        test = (f", held-out force MAE {1000 * last['force_mae']:.1f} meV/Å"
                if "force_mae" in last else "")
        starts = f"{result.n_starts} starts, " if result.n_starts else ""
        typer.echo(f"{result.n_calls} reference calls ({result.n_labelled} labelled, {starts}"
                   f"{result.n_failed} failed), {result.n_rejected} rolled back, "
                   f"{result.md_steps} MD steps{test}; stopped: {result.stop_reason}")
        typer.echo(f"Potential: {result.potential}\nDataset: {result.dataset}\n"
                   f"Learning curve: {plot}")
