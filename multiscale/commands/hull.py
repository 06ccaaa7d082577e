"""``multiscale hull FILES... --calc emt``: convex hull (and voltage profile), JSON + PNG."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("hull")(hull)


def hull(
    files: Annotated[list[Path], typer.Argument(help="Structure files (ase.io.read); include every pure element.")],
    calc: Annotated[str, typer.Option(help="emt, emt-committee[:N], gpaw or mlip:PATH.")] = "emt",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for hull.json/png (and voltage.json/png).")] = Path("."),
    ion: Annotated[Optional[str], typer.Option(help="Mobile ion for a voltage profile, e.g. Li.")] = None,
    host: Annotated[Optional[str], typer.Option(help="Ion-free host formula, e.g. CoO2.")] = None,
    reference: Annotated[Optional[str], typer.Option(
        help="Reference electrode: 'Li/Li+' style (the ion's metal entry) or mu_ion in eV/atom.")] = None,
    x_max: Annotated[Optional[float], typer.Option(help="End of the voltage profile (ions per host).")] = None,
    no_relax: Annotated[bool, typer.Option("--no-relax", help="Use the structures as given.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Formation energies, energy above hull and decomposition products; with --ion/--host the voltage profile."""
    from rich.console import Console
    from rich.table import Table

    from ..studies.hull import run_hull

    from ..cli_errors import reported_errors

    console = Console(quiet=quiet, stderr=True)
    ref: str | float | None = reference
    if reference is not None:
        try:
            ref = float(reference)
        except ValueError:
            ref = reference
    with reported_errors("nothing was written; run again"), \
            console.status("starting", spinner="dots") as status:
        result = run_hull(files, calc=calc, out=out, ion=ion, host=host, reference=ref,
                          x_max=x_max, relax=not no_relax, progress=status.update)
    table = Table(title=f"hull ({calc})")
    committee = result["n_members"] is not None
    for col in ["entry", "formula", "E_f (eV/atom)", "E_hull (eV/atom)"] + (["P(stable)"] if committee else []):
        table.add_column(col)
    for r in result["entries"]:
        ef = f"{r['formation_energy_eV_per_atom']:.4f}"
        eh = f"{r['e_above_hull_eV_per_atom']:.4f}"
        if committee:
            ef += f" ± {r['formation_energy_std_eV_per_atom']:.4f}"
            eh += f" ± {r['e_above_hull_std_eV_per_atom']:.4f}"
        table.add_row(r["name"], r["formula"], ef, eh, *([f"{r['p_stable']:.2f}"] if committee else []))
    Console().print(table)
    if "voltage" in result:
        v = result["voltage"]
        spread = f" ± {v['average_voltage_std_V']:.3f}" if "average_voltage_std_V" in v else ""
        typer.echo(f"average voltage {v['average_voltage_V']:.3f}{spread} V vs {v['reference']}")
    typer.echo(f"wrote {out / 'hull.json'} in {result['wall_s']:.1f} s")
