"""Run a hull (and optionally a voltage profile) on structure files: JSON results and PNG plots.

``run_hull(files, calc="emt", out=".", ion=None, host=None)`` is what
``multiscale hull FILES...`` calls. Every frame of every file is one entry,
named by the file stem (``stem-<i>`` for multi-frame files, or the frame's
``info['name']``). ``calc`` is a calculator spec (:mod:`multiscale.calculators`:
emt, emt-committee[:N], gpaw, mlip:PATH). The hull and the voltage profile are
``atomistic.stability``'s (``hull``, ``electrode_potential``, ``plots``). Files written atomically:
OUT/hull.json and OUT/hull.png; with ``ion`` and ``host`` also
OUT/voltage.json and OUT/voltage.png.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from foundation.files import output_folder

from ..calculators import make_calculator
from ..errors import InputError


def read_structures(files: Sequence[str | Path]) -> tuple[list, list[str]]:
    """(atoms list, names) from structure files readable by ``ase.io.read``."""
    from atomistic.structures import read_structures as read_checked

    structures, names = [], []
    for f in files:
        path = Path(f)
        frames = read_checked(path)   # one line naming the file for anything unreadable or impossible
        for i, a in enumerate(frames):
            structures.append(a)
            names.append(a.info.get("name") or (path.stem if len(frames) == 1 else f"{path.stem}-{i}"))
    return structures, names


def run_hull(files: Sequence[str | Path], calc: str = "emt", out: str | Path = ".",
             ion: str | None = None, host: str | None = None, reference: str | float | None = None,
             x_max: float | None = None, relax: bool = True, fmax: float = 0.02, steps: int = 300,
             progress: Callable[[str], None] | None = None) -> dict:
    """Hull of the structures in ``files`` with calculator ``calc``; voltage profile if ``ion`` and ``host``.

    reference: the voltage's reference electrode ("Li/Li+" style or mu in
    eV/atom); default the ion's own metal in the hull. Returns the JSON dict.
    """
    from matplotlib.figure import Figure

    from foundation.files import save_figure, write_json
    from atomistic.stability.electrode_potential import voltage_profile
    from atomistic.stability.hull import formation_hull
    from atomistic.stability.plots import plot_hull, plot_voltage

    if (ion is None) != (host is None):
        raise InputError(f"ion = {ion!r}, host = {host!r}: a voltage profile needs both (e.g. "
                         "--ion Li --host CoO2), a hull alone needs neither")
    out = output_folder(out, "out", InputError)
    t0 = time.perf_counter()
    structures, names = read_structures(files)
    c = make_calculator(calc)
    hull = formation_hull(structures, c, names=names, relax=relax, fmax=fmax, steps=steps,
                          progress=progress)
    result = {"calc": calc, **hull.to_dict()}
    write_json(out / "hull.json", result)
    if len(hull.elements) == 2:
        fig = Figure(figsize=(6, 4))
        plot_hull(hull, fig.subplots())
        save_figure(fig, out / "hull.png")
        result["figure"] = "hull.png"
    if ion is not None:
        prof = voltage_profile(hull, ion, host, reference=reference if reference is not None
                               else "default", x_max=x_max)
        result["voltage"] = prof.to_dict()
        write_json(out / "voltage.json", prof.to_dict())
        fig = Figure(figsize=(6, 4))
        plot_voltage(prof, fig.subplots())
        save_figure(fig, out / "voltage.png")
    result["wall_s"] = time.perf_counter() - t0
    return result
