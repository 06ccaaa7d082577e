"""``multiscale property NAME STRUCTURE --calc emt``: one atomistic property, JSON + PNG."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("property")(property_)


def property_(
    name: Annotated[str, typer.Argument(help="rdf, elastic, phonons, timestep or free-energy.")],
    structure: Annotated[Path, typer.Argument(help="Structure (or trajectory, for rdf) readable by ase.io.read.")],
    calc: Annotated[str, typer.Option(help="emt, emt-committee[:N], gpaw or mlip:PATH.")] = "emt",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for NAME.json and NAME.png.")] = Path("."),
    option: Annotated[Optional[list[str]], typer.Option(
        "--set", help="Property option KEY=VALUE (JSON value), e.g. --set r_max=5 --set supercell=[2,2,2].")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Compute an atomistic property with error bars (committee calculators) and write JSON + plot."""
    from rich.console import Console

    from ..studies.property import run_property

    console = Console(quiet=quiet, stderr=True)
    opts = {}
    for item in option or []:
        key, sep, value = item.partition("=")
        if not sep:
            typer.echo(f"error: --set {item!r}: expected KEY=VALUE", err=True)
            raise typer.Exit(2)
        try:
            opts[key] = json.loads(value)
        except json.JSONDecodeError:
            opts[key] = value
    from ..cli_errors import reported_errors

    with reported_errors("nothing was written; run again"), \
            console.status("starting", spinner="dots") as status:
        try:
            result = run_property(name, structure, calc=calc, out=out, options=opts,
                                  progress=status.update)
        except TypeError as exc:  # a --set KEY the property function does not take
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
    typer.echo(f"wrote {out / (name + '.json')} and {out / (name + '.png')} in {result['wall_s']:.1f} s")
