"""``multiscale kinetics``: barriers vs potential and/or energy gaps -> alpha, lambda -> a PyBaMM-ready handoff.

Barriers file (CSV, header optional): ``potential_V, barrier_eV[, barrier_std_eV]``.
Gaps file (.npz): arrays ``reactant`` and ``product`` of energy gaps E_P - E_R (eV)
sampled in each state (``atomistic.reactions.energy_gap.sample_energy_gap``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("kinetics")(kinetics)


def kinetics(
    barriers: Annotated[Optional[Path], typer.Option(help="CSV: potential_V, barrier_eV[, barrier_std_eV].")] = None,
    gaps: Annotated[Optional[Path], typer.Option(help=".npz with 'reactant' and 'product' energy gaps (eV).")] = None,
    reference: Annotated[Optional[str], typer.Option(help="Reference electrode of the potentials, e.g. SHE or Li/Li+.")] = None,
    direction: Annotated[str, typer.Option(help="reduction or oxidation: the barriers' direction.")] = "reduction",
    model: Annotated[str, typer.Option(help="linear, quadratic (Marcus curvature) or auto.")] = "auto",
    electrode: Annotated[str, typer.Option(help="PyBaMM electrode: negative or positive.")] = "negative",
    temperature: Annotated[float, typer.Option(help="Temperature (K) of the MD / the handoff.")] = 298.15,
    reaction: Annotated[str, typer.Option(help="Free-text reaction label.")] = "",
    out: Annotated[Path, typer.Option("--out", "-o", help="Handoff file (.toml or .json).")] = Path("kinetics.toml"),
) -> None:
    """Fit alpha (and/or lambda) and write a kinetics handoff with PyBaMM parameter names."""
    import warnings

    import numpy as np

    from atomistic.reactions.marcus import reorganisation_energy
    from atomistic.reactions.transfer_coefficient import fit_transfer_coefficient, plot_transfer_fit
    from couplers.reaction_kinetics import kinetics_entry, kinetics_handoff

    from foundation.reading import reading

    from ..cli_errors import reported_errors
    from ..errors import InputError

    with reported_errors("nothing was written; run again"):
        fit = marcus = None
        if barriers is None and gaps is None:
            raise InputError("--barriers, --gaps: give one or both")
        if barriers is not None:
            with reading(barriers, "barriers file", InputError) as path, warnings.catch_warnings():
                warnings.simplefilter("ignore")   # an empty file is refused below, by name
                data = np.genfromtxt(path, delimiter=",", comments="#", ndmin=2)
            data = data[~np.isnan(data).any(axis=1)] if data.ndim == 2 else data
            if data.ndim != 2 or data.shape[1] not in (2, 3) or len(data) == 0:
                raise InputError(f"{barriers}: expected rows of 2 or 3 comma-separated numbers "
                                 "(potential_V, barrier_eV[, barrier_std_eV])")
            if not np.all(np.isfinite(data)):
                raise InputError(f"{barriers}: infinite values; expected finite potentials and barriers")
            fit = fit_transfer_coefficient(data[:, 0], data[:, 1],
                                           data[:, 2] if data.shape[1] == 3 else None,
                                           reference_electrode=reference, direction=direction,
                                           model=model)
            plot_transfer_fit(fit, out.with_suffix(".png"))
        if gaps is not None:
            with reading(gaps, "energy-gap file (.npz)", InputError) as path:
                z = np.load(path, allow_pickle=False)   # never unpickle a user's file
                if not isinstance(z, np.lib.npyio.NpzFile):
                    raise InputError(f"{gaps}: a single array; expected an .npz archive with "
                                     "'reactant' and 'product' arrays")
                missing = sorted({"reactant", "product"} - set(z.files))
                if missing:
                    raise InputError(f"{gaps}: no array {missing} (expected 'reactant' "
                                     "and 'product' energy-gap samples)")
                samples = {k: np.asarray(z[k], dtype=float) for k in ("reactant", "product")}
                z.close()
            for k, v in samples.items():
                if v.size == 0 or not np.all(np.isfinite(v)):
                    raise InputError(f"{gaps}: array {k!r} is empty or not finite; expected finite "
                                     "energy gaps (eV)")
            marcus = reorganisation_energy(samples["reactant"], samples["product"], temperature)
        entry = kinetics_entry(fit, marcus, electrode=electrode, reaction=reaction)
        kinetics_handoff([entry], temperature=temperature).save(out)
    for name, value in entry.pybamm_parameters.items():
        typer.echo(f"{name} = {value:.4g}")
    typer.echo(f"PyBaMM option: intercalation kinetics = {entry.pybamm_option!r}")
    typer.echo(f"wrote {out}" + (f" and {out.with_suffix('.png')}" if fit is not None else ""))
