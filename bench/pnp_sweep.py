"""PNP robustness sweep: every case from a flat start, 1 to 40 kT/e, within 1 % of Grahame in <= 15 Newton.

Grid (the issue's): electrode potentials 1, 3.5, ..., 38.5, 40 kT/e, both polarities; 1:1 (NaCl
100 mol/m^3) and 2:1 (CaCl2 50 mol/m^3) electrolytes; P1 and P2; two mesh sizes of the default slab
(``PNPSolver.slab``: 100 Debye-graded cells + 10 geometric cells a decade, and twice both); two D
sets (water-like 1.0/1.3e-9 m^2/s and skewed 1e-11/5e-9). Every case builds a fresh solver and
solves with its defaults, so nothing is carried from one potential to the next. Also the 1D
solvers' own default meshes (``PNPSolver1D``, with D and without: its Poisson-Boltzmann use). The reference is the exact
planar first integral (Grahame's law for any valences, ``grahame_charge``); nothing was
tuned on this grid beyond the issue's own numbers (the 2 % first-cell fraction and 10 cells a
decade were set before the sweep was first run, from the layer's local Debye length).

Newest wheels: the script resolves the newest versions the ranges in pyproject.toml allow
(``uv pip compile --upgrade``) and compares them with the lock. Where they differ it lists them;
run the script again inside an environment built from them with ``--label newest``.

Run: .venv/bin/python bench/pnp_sweep.py [--label lock|newest]
"""
from __future__ import annotations

import argparse
import gc
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._record import markdown_table, record  # noqa: E402
from continuum.errors import ContinuumError  # noqa: E402
from continuum.electrolyte import E_CHARGE, K_B  # noqa: E402
from continuum.gouy_chapman import grahame_charge  # noqa: E402
from continuum.pnp import PNPSolver, PNPSolver1D  # noqa: E402

KT = K_B * 298.15 / E_CHARGE
POTENTIALS = [*np.arange(1.0, 40.0, 2.5), 40.0]
ELECTROLYTES = {"1:1": (["Na", "Cl"], [1, -1], [100.0, 100.0]), "2:1": (["Ca", "Cl"], [2, -1], [50.0, 100.0])}
DS = {"water": [1e-9, 1.3e-9], "skewed": [1e-11, 5e-9]}
MESHES = {"default (100 + 10/decade)": (100, 10), "fine (200 + 20/decade)": (200, 20)}


def run_cases(make, z, c):
    """(cases, passed, max Newton, max |sigma/sigma_G - 1|, worst case, seconds) over the grid."""
    its, errs, worst, fails = [], [], None, []
    t0 = time.perf_counter()
    for psi in POTENTIALS:
        for sign in (1, -1):
            V = sign * psi * KT
            gc.collect()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = make(psi).solve_steady(V)
            except ContinuumError as e:     # a miss stays visible: counted and named
                fails.append(f"{sign * psi:g} kT/e: {str(e)[:60]}")
                continue
            err = abs(r.surface_charge / grahame_charge(V, c, z) - 1)
            its.append(r.newton_iterations)
            errs.append(err)
            if err >= 0.01 or r.newton_iterations > 15:
                fails.append(f"{sign * psi:g} kT/e: {r.newton_iterations} its, {err:.2g}")
            if worst is None or err > worst[1]:
                worst = (sign * psi, err)
    n = 2 * len(POTENTIALS)
    return (n, n - len(fails), max(its) if its else "-", max(errs) if errs else float("nan"),
            f"{worst[0]:g}" if worst else "-", time.perf_counter() - t0, fails)


def newest_vs_lock() -> str:
    uv = ROOT / ".venv" / "bin" / "uv"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "newest.txt"
        cmd = [str(uv), "pip", "compile", "--upgrade", "--quiet", "--no-header", "--python-version", "3.12",
               "--python-platform", "x86_64-manylinux_2_34", "--extra", "all", "--extra", "dev",
               str(ROOT / "pyproject.toml"), str(ROOT / "lock" / "build.in"), "--no-emit-package", "gpaw",
               "-o", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            return f"newest wheels could not be resolved here ({proc.stderr.strip()[:120]})"
        pins = lambda p: dict(re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", p.read_text(), re.M))
        new, lock = pins(out), pins(ROOT / "lock" / "env.txt")
    diff = sorted(f"{k} {lock.get(k, '-')} -> {v}" for k, v in new.items() if lock.get(k) != v)
    if not diff:
        return (f"newest wheels resolved on {time.strftime('%Y-%m-%d')}: identical to the lock "
                f"({len(lock)} packages), so the lock run above is also the newest-wheels run")
    return ("newest wheels differ from the lock in " + "; ".join(diff)
            + ": rerun this script in an environment built from them with `--label newest`")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--label", default="lock", help="environment label for the table (lock or newest)")
    args = ap.parse_args()
    rows, misses = [], []
    for ename, (species, z, c) in ELECTROLYTES.items():
        for deg in (1, 2):
            for mname, (n, cpd) in MESHES.items():
                for dname, D in DS.items():
                    make = lambda psi: PNPSolver.slab(species, z, c, D, max_potential=psi * KT, degree=deg,
                                                      n_cells=n, cells_per_decade=cpd)
                    res = run_cases(make, z, c)
                    rows.append([args.label, "PNPSolver.slab", ename, f"P{deg}", mname, dname, *res[:6],
                                 "met" if res[1] == res[0] else "MISSED"])
                    misses += [f"{ename} P{deg} {mname} {dname}: {f}" for f in res[6]]
                    print(rows[-1], flush=True)
        for label, make in (("PNPSolver1D()", lambda psi: PNPSolver1D(species, z, c, DS["water"])),
                            ("PNPSolver1D(no D: Poisson-Boltzmann)", lambda psi: PNPSolver1D(species, z, c))):
            res = run_cases(make, z, c)
            rows.append([args.label, label, ename, "P1", "its default", "water", *res[:6],
                         "met" if res[1] == res[0] else "MISSED"])
            misses += [f"{label} {ename}: {f}" for f in res[6]]
            print(rows[-1], flush=True)
    table = markdown_table(["env", "solver", "electrolyte", "element", "mesh", "D", "cases", "passed",
                            "max Newton", "max |sigma/Grahame - 1|", "worst at (kT/e)", "wall (s)", "status"],
                           rows)
    total = sum(r[6] for r in rows)
    passed = sum(r[7] for r in rows)
    body = (f"Target: every case from a flat start converges with sigma within 1 % of Grahame in at most "
            f"15 Newton iterations in total (failed attempts included). Potentials 1 to 40 kT/e in steps of "
            f"2.5, both polarities; fresh solver per case.\n\n{table}\n\n"
            f"**{passed} of {total} cases pass.** " + ("Misses: " + "; ".join(misses) if misses else "No miss.")
            + f"\n\n{newest_vs_lock()}.\n")
    record("pnp_sweep", f".venv/bin/python bench/pnp_sweep.py --label {args.label}", body)


if __name__ == "__main__":
    main()
