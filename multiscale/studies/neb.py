"""Run a reaction-path study and write its files: what ``multiscale neb`` and the ``neb`` stage call.

``neb_study(initial, final, calc="emt", out=".", ...)`` runs
:func:`atomistic.reactions.neb.run_neb` and writes, atomically, into ``out``:

- ``neb.json``: barrier, reaction energy (eV, with committee errors), the
  profile, per-image max force deviation and the doubted image indices;
- ``neb.png``: the energy profile with the committee band;
- ``neb_band.extxyz``: the converged band;
- ``doubted.extxyz``: frames the committee doubts (bare structures, for an
  active-learning loop to label); only when there are any.

With ``potentials`` (V vs ``reference_electrode``) and ``adatom_charge``, the
barrier is also scanned over electrode potential with the double-layer field
model (:class:`atomistic.reactions.potential_dependent_barriers.DoubleLayerField`) and
the transfer coefficient is fitted (``alpha.json``, ``alpha.png``).
Built-in endpoints (``adatom_hop``) are ``atomistic.reactions.endpoints``'.
"""
from __future__ import annotations

import time
from pathlib import Path

from foundation.files import output_folder

from ..calculators import make_calculator
from ..errors import InputError


def _write_json(path: Path, data: dict) -> None:
    from foundation.files import write_json

    write_json(path, data, indent=2)


def _write_frames(path: Path, frames) -> None:
    import io

    from ase.io import write

    from foundation.files import atomic_open

    buf = io.StringIO()
    write(buf, frames, format="extxyz")
    with atomic_open(path) as fh:
        fh.write(buf.getvalue())


def neb_study(initial, final, calc="emt", out=".", *, n_images: int = 5, climb: bool = True,
              fmax: float = 0.03, steps: int = 1000, trust_level: float = 0.15,
              relax_endpoints: bool = False, potentials=None, adatom_charge: float | None = None,
              layer_width: float = 3.0, reference_electrode: str | None = None,
              direction: str = "reduction", progress=None, title: str = "") -> dict:
    """NEB (and optionally an electrode-potential scan) with files in ``out``; returns the JSON dict.

    initial, final: Atoms or paths readable by ``ase.io.read``.
    calc: a calculator spec ("emt", "emt-committee[:N]", "gpaw", "mlip:PATH"; see
        :func:`multiscale.calculators.make_calculator`) or an ASE calculator.
    """
    from atomistic.reactions.neb import plot_neb, run_neb

    out = output_folder(out, "out", InputError)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ends = []
    for name, x in (("initial", initial), ("final", final)):
        if isinstance(x, (str, Path)):
            from atomistic.structures import read_structure

            x = read_structure(x)
        ends.append(x)
    calculator = make_calculator(calc) if isinstance(calc, str) else calc
    kw = dict(n_images=n_images, climb=climb, fmax=fmax, steps=steps, trust_level=trust_level,
              relax_endpoints=relax_endpoints, progress=progress)
    res = run_neb(ends[0], ends[1], calculator, **kw)
    result = res.to_dict()
    result["calculator"] = calc if isinstance(calc, str) else type(calc).__name__
    plot_neb(res, out / "neb.png", title=title)
    _write_frames(out / "neb_band.extxyz", [a.copy() for a in res.images])
    files = ["neb.json", "neb.png", "neb_band.extxyz"]
    if res.doubted:
        _write_frames(out / "doubted.extxyz", res.doubted_frames)
        files.append("doubted.extxyz")
    if potentials:
        from atomistic.reactions.potential_dependent_barriers import (DoubleLayerField,
                                                                      barriers_vs_potential)
        from atomistic.reactions.transfer_coefficient import (fit_transfer_coefficient,
                                                              plot_transfer_fit)

        if adatom_charge is None:
            raise InputError("adatom_charge: missing; a potential scan with the double-layer field "
                             "model needs the reacting atom's partial charge (units of e)")
        z_surface = float(ends[0].positions[:-1, 2].max())
        scan = barriers_vs_potential(
            ends[0], ends[1],
            lambda U: DoubleLayerField(calculator, {len(ends[0]) - 1: adatom_charge}, U,
                                       z_surface, layer_width),
            potentials, reference_electrode=reference_electrode,
            **{**kw, "relax_endpoints": True})
        fit = fit_transfer_coefficient(scan["potentials"], scan["barriers"], scan["barrier_std"],
                                       reference_electrode=reference_electrode, direction=direction,
                                       member_barriers=scan["member_barriers"])
        plot_transfer_fit(fit, out / "alpha.png", title=title)
        _write_json(out / "alpha.json", fit.to_dict())
        files += ["alpha.json", "alpha.png"]
        result["transfer_coefficient"] = fit.to_dict()
    result["wall_s"] = time.perf_counter() - t0
    result["files"] = files
    _write_json(out / "neb.json", result)
    return result
