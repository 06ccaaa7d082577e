"""The ``multiscale`` command line. It only parses arguments and calls library functions."""
from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

app = typer.Typer(
    name="multiscale",
    help="Multiscale hybrid modelling: DFT, learned potentials, continuum transport, cells.",
    no_args_is_help=True,
    add_completion=False,
)


def _version_callback(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"multiscale {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version_callback, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """Multiscale hybrid modelling for electrochemistry and materials."""


@app.command()
def doctor(
    engine: Annotated[Optional[list[str]], typer.Option(
        "--engine", "-e", help="Check only this engine (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """Check every engine: print its version and run a one-second real calculation.

    Exits with status 1 when any engine fails.
    """
    from rich.console import Console
    from rich.table import Table

    from . import doctor as _doctor

    try:
        results = _doctor.run_checks(engine)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in results], indent=2))
    else:
        table = Table(title=f"multiscale doctor — {_doctor.python_info()}")
        for col in ("engine", "version", "status", "smoke calculation", "time"):
            table.add_column(col, overflow="fold")
        for r in results:
            status = "[green]ok[/green]" if r.ok else "[red]failed[/red]"
            table.add_row(r.engine, r.version, status, r.detail, f"{r.seconds:.1f} s")
        Console(width=140).print(table)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def _register_commands() -> None:
    import importlib
    import pkgutil

    from . import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{info.name}").register(app)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    app()
