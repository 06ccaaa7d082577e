"""``multiscale battery train CONFIG`` / ``multiscale battery compare RESIDUAL``: the HybridSPMe residual."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

battery_app = typer.Typer(help="HybridSPMe: learned SPMe -> DFN voltage residual (PyBaMM).",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(battery_app, name="battery")


@battery_app.command("train")
def train(
    config: Annotated[Path, typer.Argument(help="TOML training config (see docs/battery.md).")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Generate paired SPMe/DFN runs (cached), train the residual, save it as JSON."""
    from couplers.battery_train import train_from_config

    from ..cli_errors import reported_errors

    with reported_errors("solved runs are cached; run the same command to resume"):
        out, report = train_from_config(config, progress=not quiet)
    typer.echo(f"Residual: {out} ({report['runs']} runs, {report['samples']} samples, "
               f"training RMSE {report['train_rmse_mV']:.2f} mV)")


@battery_app.command("compare")
def compare(
    residual: Annotated[Path, typer.Argument(help="Residual JSON written by `battery train`.")],
    c_rate: Annotated[Optional[float], typer.Option(help="Constant current, C-rate (>0 discharge).")] = None,
    drive_cycle: Annotated[Optional[int], typer.Option(help="Synthetic drive-cycle generator seed.")] = None,
    temperature: Annotated[float, typer.Option(help="Ambient temperature [K].")] = 298.15,
    parameter_set: Annotated[str, typer.Option(help="PyBaMM parameter set.")] = "Chen2020",
    plot: Annotated[Optional[Path], typer.Option(help="Write a voltage/error PNG here.")] = None,
) -> None:
    """Solve one profile with DFN, SPMe and HybridSPMe; print the RMSE vs DFN."""
    from continuum.battery_data import cc_profile, drive_cycle_profile
    from couplers.battery_compare import compare_to_dfn, plot_comparison

    from ..cli_errors import reported_errors

    if (c_rate is None) == (drive_cycle is None):
        typer.echo("error: give exactly one of --c-rate or --drive-cycle", err=True)
        raise typer.Exit(2)
    if c_rate == 0:
        typer.echo("error: --c-rate 0: expected a non-zero C-rate", err=True)
        raise typer.Exit(2)
    if not residual.is_file():
        typer.echo(f"error: {residual}: no such file", err=True)
        raise typer.Exit(2)
    profile = cc_profile(c_rate) if c_rate is not None else drive_cycle_profile(drive_cycle)
    with reported_errors("nothing was written; run again"):
        r = compare_to_dfn(str(residual), profile, temperature, parameter_set)
    typer.echo(f"{profile.name} at {temperature:g} K vs DFN: SPMe RMSE {r['rmse_spme_mV']:.2f} mV "
               f"(max {r['max_spme_mV']:.2f}), HybridSPMe RMSE {r['rmse_hybrid_mV']:.2f} mV "
               f"(max {r['max_hybrid_mV']:.2f}); outside training range: "
               f"{100 * r['out_of_range']:.0f}%")
    if plot:
        plot_comparison(r, plot, f"{profile.name}, {temperature:g} K")
        typer.echo(f"Plot: {plot}")
