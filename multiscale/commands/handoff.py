"""``multiscale handoff show FILE``: validate and pretty-print an MD -> continuum handoff file."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

handoff_app = typer.Typer(help="MD -> continuum handoff files (TOML/JSON).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(handoff_app, name="handoff")


@handoff_app.command("show")
def show(file: Annotated[Path, typer.Argument(help="Handoff file (.toml or .json).")]) -> None:
    """Validate FILE and print its species, diffusivities, profiles and provenance."""
    from rich.console import Console
    from rich.table import Table

    from couplers.handoff import Handoff

    from ..cli_errors import reported_errors

    if not file.exists():
        typer.echo(f"error: {file}: no such file", err=True)
        raise typer.Exit(2)
    with reported_errors():
        h = Handoff.load(file)
    con = Console()
    con.print(f"[bold]{file}[/bold]  schema v{h.schema_version}  T = {h.temperature} K  "
              f"eps_r = {h.relative_permittivity if h.relative_permittivity is not None else '-'}")
    t = Table("species", "z", f"c_bulk ({h.concentration_unit})", "D", "stderr", "unit", "method",
              "fit window")
    for s in h.species if h.species else []:
        d = next((d for d in h.diffusivities if d.species == s.name), None)
        t.add_row(s.name, str(s.charge_number), f"{h.bulk_concentrations.get(s.name, float('nan')):.4g}",
                  f"{d.value:.4g}" if d else "-", f"{d.stderr:.2g}" if d else "-",
                  d.unit if d else "-", d.method if d else "-",
                  str(d.fit_window) if d and d.fit_window else "-")
    if h.species:
        con.print(t)
    if h.profiles:
        p = Table("profile", "points", "grid range", "unit", "reference")
        for pr in h.profiles:
            p.add_row(pr.name, str(len(pr.grid)), f"{min(pr.grid):.4g}..{max(pr.grid):.4g} {pr.grid_unit}",
                      pr.unit, pr.reference)
        con.print(p)
    if h.double_layer is not None:
        dl = h.double_layer
        band = (f", committee of {dl.committee_members} (max std {max(dl.capacitance_stderr):.3g} F/m^2)"
                if dl.capacitance_stderr else "")
        con.print(f"double layer ({dl.electrode} electrode): {len(dl.potential)} potentials "
                  f"{min(dl.potential):.3g}..{max(dl.potential):.3g} {dl.potential_unit}, C "
                  f"{min(dl.capacitance):.3g}..{max(dl.capacitance):.3g} {dl.capacitance_unit}{band}")
        for key, value in dl.pybamm_parameters.items():
            con.print(f"  PyBaMM: {key} = {value:.4g} (at U = {dl.reference_potential:g} V)")
    if h.kinetics:
        k = Table("electrode", "reaction", "alpha (anodic)", "lambda (eV)", "reference", "PyBaMM option")
        for e in h.kinetics:
            a = "-" if e.transfer_coefficient is None else (
                f"{e.transfer_coefficient:.3f} ± {e.transfer_coefficient_stderr or 0:.3f}")
            lam = "-" if e.reorganisation_energy is None else (
                f"{e.reorganisation_energy:.3f} ± {e.reorganisation_energy_stderr or 0:.3f}")
            k.add_row(e.electrode, e.reaction or "-", a, lam, e.reference_electrode or "-",
                      e.pybamm_option or "-")
        con.print(k)
    pv = h.provenance
    con.print(f"provenance: trajectory sha256 {pv.trajectory_sha256 or '-'}, code {pv.code_version or '-'}, "
              f"created {pv.created}")
    con.print("[green]valid[/green]")
