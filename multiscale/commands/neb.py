"""``multiscale neb INITIAL FINAL``: a (climbing-image) NEB with committee error bars; JSON, PNG, extxyz.

``multiscale neb --hop Au/Al`` builds the classic adatom hop on fcc(100)
instead of reading endpoint files. ``--potential`` (repeatable) with
``--charge`` and ``--reference`` adds an electrode-potential scan with the
double-layer field model and a transfer-coefficient fit.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("neb")(neb)


def neb(
    initial: Annotated[Optional[Path], typer.Argument(help="Initial state (any ase.io format).")] = None,
    final: Annotated[Optional[Path], typer.Argument(help="Final state: same atoms, same order.")] = None,
    hop: Annotated[Optional[str], typer.Option(help="Built-in adatom hop ADATOM/SUBSTRATE, e.g. Au/Al (fcc(100)).")] = None,
    calc: Annotated[str, typer.Option(help="emt, emt-committee[:N], gpaw or mlip:PATH.")] = "emt",
    images: Annotated[int, typer.Option(help="Intermediate images.")] = 5,
    fmax: Annotated[float, typer.Option(help="Convergence on NEB forces (eV/A).")] = 0.03,
    climb: Annotated[bool, typer.Option(help="Climbing image.")] = True,
    trust: Annotated[float, typer.Option(help="Committee max force deviation above which an image is doubted (eV/A).")] = 0.15,
    relax_endpoints: Annotated[bool, typer.Option(help="Relax both endpoints first.")] = False,
    potential: Annotated[Optional[list[float]], typer.Option(help="Electrode potential (V vs --reference) for a barrier scan; repeat.")] = None,
    charge: Annotated[Optional[float], typer.Option(help="Partial charge (e) of the moving atom (the last one) in the field model.")] = None,
    reference: Annotated[Optional[str], typer.Option(help="Reference electrode of --potential, e.g. SHE or Li/Li+.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("."),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Relax a reaction path; write neb.json, neb.png, neb_band.extxyz (and doubted.extxyz, alpha.*)."""
    from rich.console import Console

    from atomistic.errors import InputError
    from atomistic.reactions.endpoints import adatom_hop

    from ..cli_errors import reported_errors
    from ..studies.neb import neb_study

    console = Console(quiet=quiet, stderr=True)
    with reported_errors("the band is not saved; run again"):
        if hop:
            if initial or final:
                raise InputError("--hop builds both endpoints; give either --hop or INITIAL FINAL")
            adatom, _, substrate = hop.partition("/")
            if not substrate:
                raise InputError(f"--hop {hop!r}: expected ADATOM/SUBSTRATE, e.g. Au/Al")
            initial, final = adatom_hop(adatom, substrate)
        elif initial is None or final is None:
            raise InputError("INITIAL and FINAL: both needed (or --hop ADATOM/SUBSTRATE)")
        with console.status("starting", spinner="dots") as status:
            res = neb_study(initial, final, calc, out, n_images=images, climb=climb, fmax=fmax,
                            trust_level=trust, relax_endpoints=relax_endpoints,
                            potentials=potential, adatom_charge=charge,
                            reference_electrode=reference, progress=status.update)
    err = f" ± {res['barrier_std_eV']:.3f}" if res.get("member_barriers_eV") else ""
    typer.echo(f"barrier {res['barrier_eV']:.3f}{err} eV, reaction energy "
               f"{res['reaction_energy_eV']:+.3f} eV, doubted images {res['doubted_images'] or 'none'}")
    if "transfer_coefficient" in res:
        tc = res["transfer_coefficient"]
        typer.echo(f"alpha ({tc['direction']}) = {tc['alpha']:.3f} "
                   f"[{tc['alpha_ci'][0]:.3f}, {tc['alpha_ci'][1]:.3f}] ({tc['model']} fit)")
    typer.echo(f"wrote {', '.join(str(out / f) for f in res['files'])} in {res['wall_s']:.1f} s")
