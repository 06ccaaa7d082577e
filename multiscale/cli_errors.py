"""How sub-commands report failures: one line on stderr and an exit code that says whose fault it was."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer

__all__ = ["reported_errors"]


@contextlib.contextmanager
def reported_errors(interrupted: str = "stopped; nothing finished was lost") -> Iterator[None]:
    """Turn the toolkit's errors (any package's, ``ToolkitError``) into ``error: ...`` lines and the
    CLI's exit codes.

    Exit 2: bad input or a missing engine (every package's ``InputError`` is a
    ``ValueError``, ``EngineMissingError`` an ``ImportError``): the user can fix it.
    Exit 1: a calculation failed or did not converge. Exit 130 on Ctrl-C, saying
    ``interrupted`` (what was kept, how to resume).
    """
    from .errors import ToolkitError

    try:
        yield
    except ToolkitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2 if isinstance(exc, (ValueError, ImportError)) else 1) from None
    except KeyboardInterrupt:
        typer.echo(f"interrupted: {interrupted}", err=True)
        raise typer.Exit(130) from None
