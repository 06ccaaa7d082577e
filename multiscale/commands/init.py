"""``multiscale init TEMPLATE DIR``: write a commented starter config."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer


def templates() -> dict[str, str]:
    """Template name -> TOML text, from multiscale/templates/*.toml."""
    folder = files("multiscale") / "templates"
    return {p.name.removesuffix(".toml"): p.read_text() for p in folder.iterdir()
            if p.name.endswith(".toml")}


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init(
    template: Annotated[str, typer.Argument(help="Template name (see --list).")] = "",
    directory: Annotated[Path, typer.Argument(help="Folder to write config.toml into.")] = Path("."),
    list_: Annotated[bool, typer.Option("--list", help="List the templates.")] = False,
    force: Annotated[bool, typer.Option(help="Overwrite an existing config.toml.")] = False,
) -> None:
    """Write DIR/config.toml from a template, ready for `multiscale run`."""
    from foundation.files import write_text

    available = templates()
    if list_ or not template:
        for name, text in sorted(available.items()):
            first = next((ln for ln in text.splitlines() if ln.startswith("# multiscale")), "")
            typer.echo(f"{name:14s} {first.removeprefix('# multiscale run config: ')}")
        return
    if template not in available:
        import difflib

        hint = difflib.get_close_matches(template, available, n=1)
        typer.echo(f"error: unknown template {template!r}"
                   + (f"; did you mean {hint[0]!r}?" if hint else "")
                   + f" (known: {', '.join(sorted(available))})", err=True)
        raise typer.Exit(2)
    target = directory / "config.toml"
    if target.exists() and not force:
        typer.echo(f"error: {target} exists; use --force to overwrite it", err=True)
        raise typer.Exit(2)
    write_text(target, available[template])
    typer.echo(f"wrote {target}; run it with: multiscale run {target}")
