"""Run one property workflow on a structure file: JSON results and a PNG plot.

``run_property(name, structure, calc="emt", out=".")`` is what
``multiscale property NAME STRUCTURE`` calls. ``calc`` is a calculator spec
(:mod:`multiscale.calculators`: emt, emt-committee[:N], gpaw, mlip:PATH).
The workflows themselves are atomistic's: g(r) (``atomistic.analysis.rdf``),
elastic constants (``atomistic.properties.elastic``), phonons
(``atomistic.properties.phonons``), the time step (``atomistic.md.timestep``)
and Frenkel-Ladd free energies (``atomistic.properties.free_energy``).

Properties: rdf, elastic, phonons, timestep, free-energy. Files written:
OUT/NAME.json and OUT/NAME.png (atomically).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from foundation.files import jsonable, output_folder, save_figure, write_json
from atomistic.errors import InputError as AtomisticInputError

from ..calculators import make_calculator
from ..errors import InputError

PROPERTIES = ("rdf", "elastic", "phonons", "timestep", "free-energy")


def _number(opts: dict, key: str, default, kind=float):
    """Option ``key`` (popped from ``opts``) as a finite ``kind``; InputError naming ``--set KEY``."""
    value = opts.pop(key, default)
    try:
        number = kind(value)
        if isinstance(value, bool) or not np.isfinite(number) or (kind is int and number != float(value)):
            raise ValueError
    except (TypeError, ValueError):
        raise InputError(f"--set {key}={value!r}: expected a finite "
                         f"{'integer' if kind is int else 'number'}") from None
    return number


def run_property(name: str, structure: str | Path, calc: str = "emt", out: str | Path = ".",
                 options: dict | None = None, progress=None) -> dict:
    """Compute property ``name`` for the structure file and write OUT/name.json and OUT/name.png.

    options: keyword arguments for the property function (e.g. r_max for rdf,
    supercell for phonons, temperature for free-energy). Returns the JSON dict.
    """
    from matplotlib.figure import Figure

    from atomistic.structures import read_structure, read_structures

    if name not in PROPERTIES:
        raise InputError(f"property = {name!r}: expected one of {', '.join(PROPERTIES)}")
    path = Path(structure)
    out = output_folder(out, "out", InputError)
    opts = dict(options or {})
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    if name == "rdf":
        from atomistic.analysis.rdf import rdf

        frames = read_structures(path)
        g = rdf(frames, r_max=_number(opts, "r_max", 6.0), **opts)
        result = g.to_dict()
        try:
            n, n_err, r_cut = g.coordination()
            result["coordination"] = {"n": n, "n_err": n_err, "r_cut": r_cut}
        except AtomisticInputError:
            result["coordination"] = None
        ax.plot(g.r, g.g, "k-")
        ax.fill_between(g.r, g.g - 2 * g.g_err, g.g + 2 * g.g_err, alpha=0.3, label="±2 s.e. (blocks)")
        ax.set_xlabel("r (Å)")
        ax.set_ylabel("g(r)")
        ax.legend()
    else:
        atoms = read_structure(path)
        c = make_calculator(calc)
        say(f"{name} with {calc} on {atoms.get_chemical_formula()}")
        if name == "elastic":
            from atomistic.properties.elastic import eos_bulk_modulus, elastic_constants, relax_cell

            if opts.pop("relax", False):
                atoms = relax_cell(atoms, c)
            r = elastic_constants(atoms, c, **opts)
            result = r.to_dict()
            eos = eos_bulk_modulus(atoms, c, span=0.01)
            result["B_eos_GPa"] = eos.B
            im = ax.imshow(r.C, cmap="viridis")
            for (i, j), v in np.ndenumerate(r.C):
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", color="w", fontsize=8)
            fig.colorbar(im, label="C (GPa)")
            ax.set_title("elastic tensor (Voigt)")
        elif name == "phonons":
            from atomistic.properties.phonons import phonons

            sc = opts.pop("supercell", (3, 3, 3))
            p = phonons(atoms, c, supercell=sc, **opts)
            bs = p.band_structure()
            fe = p.free_energy([100, 300, 600])
            result = {"path": bs["path"], "x": bs["x"], "frequencies_THz": bs["frequencies"],
                      "std_THz": bs.get("std"), "special": [[float(x), lab] for x, lab in bs["special"]],
                      "free_energy": {k: v for k, v in fe.items()}}
            # a path break ("K,U") repeats x: plot segment by segment so no line jumps across it
            cuts = [0] + [i + 1 for i in np.nonzero(np.diff(bs["x"]) == 0)[0]] + [len(bs["x"])]
            for lo, hi in zip(cuts[:-1], cuts[1:]):
                x, f = bs["x"][lo:hi], bs["frequencies"][lo:hi]
                ax.plot(x, f, "k-")
                if "std" in bs:
                    s = bs["std"][lo:hi]
                    for b in range(f.shape[1]):
                        ax.fill_between(x, f[:, b] - 2 * s[:, b], f[:, b] + 2 * s[:, b], color="C0", alpha=0.3)
            xs = [x for x, _ in bs["special"]]
            ax.set_xticks(xs, [lab.replace("G", "Γ") for _, lab in bs["special"]])
            for x in xs:
                ax.axvline(x, color="0.8", lw=0.5)
            ax.set_ylabel("frequency (THz)")
        elif name == "timestep":
            from atomistic.md.timestep import estimate_timestep, nve_drift

            est = estimate_timestep(atoms, c, repeat=opts.pop("repeat", None))
            result = est.to_dict()
            d = nve_drift(atoms, c, est.dt_recommended, n_steps=_number(opts, "n_steps", 200, int))
            result["nve"] = {"dt_fs": est.dt_recommended, "drift_eV_per_atom_per_ps": d["drift"],
                             "fluctuation_eV_per_atom": d["fluctuation"]}
            ax.plot(np.arange(len(d["energies"])) * est.dt_recommended, d["energies"] - d["energies"][0])
            ax.set_xlabel("t (fs)")
            ax.set_ylabel("E_total - E_0 (eV/atom)")
            ax.set_title(f"NVE at recommended dt = {est.dt_recommended:.2f} fs")
        else:  # free-energy
            from atomistic.md.timestep import enlarged
            from atomistic.properties.free_energy import frenkel_ladd, harmonic_free_energy

            atoms = enlarged(atoms, _number(opts, "min_atoms", 32, int))  # a unit cell is too small to switch
            T = _number(opts, "temperature", 100.0)
            fl = frenkel_ladd(atoms, c, T, progress=say, **opts)
            result = fl.to_dict()
            result["harmonic"] = harmonic_free_energy(atoms, c, T)
            for key, lab in (("curve_forward", "forward"), ("curve_backward", "backward")):
                cv = getattr(fl.switch, key)
                ax.plot(cv[:, 0], cv[:, 1] / len(atoms), label=lab)
            ax.set_xlabel("λ (Einstein → calculator)")
            ax.set_ylabel("U1 − U0 (eV/atom)")
            ax.legend()
    result = jsonable({"property": name, "structure": str(path), "calc": calc,
                        "wall_s": time.perf_counter() - t0, **result})
    write_json(out / f"{name}.json", result)
    save_figure(fig, out / f"{name}.png")
    return result
