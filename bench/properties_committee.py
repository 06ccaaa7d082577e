"""Committee error bars (z-scores on held-out structures) and each workflow's wall time per calculator.

Run:  .venv/bin/python bench/properties_committee.py [--mlip PATH] [--gpaw [--gpaw-budget S]] [--speed-only | --calibration-only]
      (about 3 min without GPAW, plus about 4 min to train the MLIP the first time; GPAW adds about 20 min)

Calibration. A committee of 5 perturbed-EMT members (atomistic.emt_committee,
parameters scaled by 1 + 0.3 % N(0,1)) predicts energies, forces, elastic
constants and phonon frequencies on held-out structures (rattled 32-atom Al
cells, the relaxed cell); z = (committee mean - reference) / committee std.
Two references: (a) plain EMT, the centre of the perturbation distribution,
for which a committee's spread over-states the error of its mean (expect
|z| well below 1); (b) an independent draw from the same distribution, the
situation error bars are meant for (expect z ~ N(0, 1 + 1/M)). The MLIP
committee (--mlip PATH, or by default one trained here on EMT Al frames and
cached under bench/out/properties_committee_cache/) is scored against EMT,
its training reference.

Speed. Wall time of each workflow on the same small cells with EMT, the MLIP
committee and (--gpaw) GPAW LCAO (sz(dzp), LDA): elastic constants of the
1-atom primitive cell, phonons on its 2x2x2 supercell (8 atoms), the
time-step Hessian of the 4-atom cubic cell and a short timing-only
Frenkel-Ladd switch on that cell. Phonons and the Hessian always run GPAW to
the end; elastic and Frenkel-Ladd stop after --gpaw-budget seconds of GPAW and,
if unfinished, extrapolate the per-call time of that partial run to the full
call count (marked in the table). --speed-only regenerates only that table.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CACHE = ROOT / "bench" / "out" / "properties_committee_cache"
from ase.build import bulk  # noqa: E402
from ase.calculators.calculator import Calculator, all_changes  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402

from atomistic.properties.elastic import elastic_constants, relax_cell  # noqa: E402
from atomistic.emt_committee import EMTCommittee, PerturbedEMT  # noqa: E402
from atomistic.properties.free_energy import frenkel_ladd  # noqa: E402
from atomistic.properties.phonons import phonons  # noqa: E402
from atomistic.md.timestep import estimate_timestep  # noqa: E402
from bench._record import markdown_table, record  # noqa: E402


def held_out(n=10, seed=7):
    base = relax_cell(bulk("Al", "fcc", cubic=True), EMT()).repeat(2)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        a = base.copy()
        a.positions += rng.normal(0, 0.1, a.positions.shape)
        a.set_cell(a.cell * (1 + rng.normal(0, 0.01)), scale_atoms=True)
        out.append(a)
    return out


def member_predictions(members, structures):
    """Per-member energies (eV/atom) and force components (eV/A) on the structures: (M, n_e), (M, n_f)."""
    E, F = [], []
    for m in members:
        e, f = [], []
        for s in structures:
            a = s.copy()
            a.calc = m
            e.append(a.get_potential_energy() / len(a))
            f.append(a.get_forces()[:4].ravel())  # 4 atoms per structure: forces in one cell are correlated
        E.append(e)
        F.append(np.concatenate(f))
    return np.array(E), np.array(F)


def property_predictions(calc_members, ref, cell):
    """Elastic (C11, C12, C44) and phonon (X, L) predictions per member, and the reference's."""
    def props(c):
        C = elastic_constants(cell, c, stress_tol=np.inf, n_strains=3, relax_ions=False).C
        ph = phonons(cell, c, supercell=(3, 3, 3))
        f = ph.frequencies([[0.5, 0, 0.5], [0.5, 0.5, 0.5]])
        return np.array([C[0, 0], C[0, 1], C[3, 3], f[0, 0], f[0, 2], f[1, 0], f[1, 2]])
    return np.array([props(m) for m in calc_members]), props(ref)


def zstats(pred, ref):
    mean, std = pred.mean(axis=0), pred.std(axis=0, ddof=1)
    z = (mean - ref) / std
    return z


def zrow(label, z):
    a = np.abs(z)
    return [label, len(z), f"{np.sqrt(np.mean(z ** 2)):.2f}", f"{np.mean(a < 1):.2f}", f"{np.mean(a < 2):.2f}",
            f"{a.max():.2f}"]


SPEED_FL = dict(n_switch=10, n_eq=2, n_repeats=2)  # shortest switch the API accepts: a timing run, not a free energy


class BudgetSpent(BaseException):
    """A workflow ran past its time budget; the calls done so far give its per-call time.

    A BaseException so that no workflow's own error handling swallows it."""


class Timed(Calculator):
    """Energy and forces of ``inner``, counting calls; raises BudgetSpent once ``budget`` seconds have passed.

    No stress: the elastic workflow then takes its energy-strain route, as it does for GPAW LCAO.
    """

    implemented_properties = ["energy", "free_energy", "forces"]

    def __init__(self, inner, budget=np.inf):
        super().__init__()
        self.inner, self.budget, self.calls, self.t0 = inner, budget, 0, time.perf_counter()

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        if time.perf_counter() - self.t0 > self.budget:
            raise BudgetSpent
        self.calls += 1
        a = self.atoms.copy()
        e = self.inner.get_potential_energy(a)
        self.results = {"energy": e, "free_energy": e, "forces": self.inner.get_forces(a)}


def speed_cells():
    """The small cells every calculator sees, identical for all (EMT-relaxed lattice constant)."""
    prim = relax_cell(bulk("Al", "fcc"), EMT())
    cubic = relax_cell(bulk("Al", "fcc", cubic=True), EMT())
    return prim, cubic


def speed_workflows(prim, cubic):
    """name -> (run(calc), GPAW k-point mesh, GPAW symmetry, budgeted): the workflows timed, on the small cells.

    Rows not budgeted always run GPAW to the end; budgeted ones stop at --gpaw-budget and extrapolate.
    """
    return {
        "phonons (2×2×2 supercell of the primitive cell, 8 atoms)": (
            lambda c: phonons(prim, c, supercell=(2, 2, 2)), (2, 2, 2), "time reversal only", False),
        "time step (Hessian of the 4-atom cubic cell)": (
            lambda c: estimate_timestep(cubic, c, min_atoms=4), (2, 2, 2), "time reversal only", False),
        "elastic (1-atom primitive cell)": (
            lambda c: elastic_constants(prim, c, stress_tol=np.inf), (4, 4, 4), "full point group", True),
        "Frenkel–Ladd (4-atom cubic cell, 2×(2+10)-step switches ×2, timing only)": (
            lambda c: frenkel_ladd(cubic, c, 100, **SPEED_FL), (2, 2, 2), "time reversal only", True),
    }


def gpaw_lcao(kpts, symmetry):
    from gpaw import GPAW

    # displaced atoms break the point group (GPAW stops with SymmetryBrokenError); time reversal survives
    kw = {} if symmetry == "full point group" else {"symmetry": {"point_group": False}}
    return GPAW(mode="lcao", basis="sz(dzp)", xc="LDA", kpts=kpts, txt=None,
                occupations={"name": "fermi-dirac", "width": 0.1}, **kw)


def timed(run, calc):
    t0 = time.perf_counter()
    try:
        run(calc)
    except BudgetSpent:
        raise
    except Exception as exc:  # a workflow that fails with one calculator is reported, not fatal
        return f"failed: {type(exc).__name__}"
    return time.perf_counter() - t0


def speed_table(mlip, gpaw_budget):
    """Rows [workflow, EMT s, MLIP s, GPAW s (real or extrapolated), GPAW calls, GPAW settings] and notes."""
    prim, cubic = speed_cells()
    rows = []
    for name, (run, kpts, sym, budgeted) in speed_workflows(prim, cubic).items():
        counter = Timed(EMT())
        run(counter)  # calls the workflow makes without stress (GPAW LCAO's route)
        n_calls = counter.calls
        t_emt = timed(run, EMT())
        t_mlip = timed(run, mlip) if mlip is not None else None
        g = "not run (--gpaw)"
        settings = f"k = {'×'.join(map(str, kpts))}, {sym}"
        if gpaw_budget is not None:
            calc = Timed(gpaw_lcao(kpts, sym), budget=gpaw_budget if budgeted else np.inf)
            t0 = time.perf_counter()
            try:
                out = timed(run, calc)
            except BudgetSpent:
                dt = time.perf_counter() - t0
                g = (f"≈ {dt / calc.calls * n_calls:.0f} (extrapolated: {calc.calls} of {n_calls} calls run "
                     f"in {dt:.0f} s)")
            else:
                g = f"{out:.0f}" if isinstance(out, float) else out
            print(f"GPAW {name}: {g}", flush=True)
        fmt = lambda v: "—" if v is None else (f"{v:.2f}" if isinstance(v, float) else v)  # noqa: E731
        rows.append([name, fmt(t_emt), fmt(t_mlip), g, n_calls, settings])
    return rows


def train_mlip(path):
    """A 4-member committee trained on EMT Al frames (rattled, strained 4- and 32-atom cells); cached at path."""
    import torch

    from atomistic.mlip.reference_frames import rattled_fcc
    from atomistic.mlip.training import train_committee

    torch.set_num_threads(1)
    frames = (rattled_fcc("Al", EMT(), 30, size=(1, 1, 1), rattle=0.08, strain=0.01, a=4.05, seed=1)
              + rattled_fcc("Al", EMT(), 30, size=(2, 2, 2), rattle=0.08, strain=0.01, a=4.05, seed=2))
    settings = {"n_members": 4, "epochs": 60, "early_stopping_patience": 15, "seed": 0}
    what = (f"MLIP: committee of {settings['n_members']} trained by this script on {len(frames)} EMT Al frames "
            f"(30 4-atom + 30 32-atom cells, rattled 0.08 A, strained 1 %; {settings['epochs']} epochs max)")
    if Path(path).exists():  # trained by an earlier run; delete the file to retrain
        from atomistic import load_potential

        return load_potential(path), f"{what}, cached at {Path(path).relative_to(ROOT)}"
    t0 = time.perf_counter()
    calc = train_committee(frames, settings, path, progress=False)
    return calc, f"{what}, in {time.perf_counter() - t0:.0f} s, cached at {Path(path).relative_to(ROOT)}"


def calibration(mlip, mlip_note):
    M = 5
    committee = EMTCommittee(n_members=M, spread=0.003, seed=0)
    # independent draws from the members' distribution: each one is a "truth" the committee has not seen
    draws = EMTCommittee(n_members=5, spread=0.003, seed=99).members
    structures = held_out()
    E, F = member_predictions(committee.members, structures)
    E_emt, F_emt = member_predictions([EMT()], structures)
    E_draw, F_draw = member_predictions(draws, structures)
    cell = relax_cell(bulk("Al", "fcc"), committee)
    P, P_emt = property_predictions(committee.members, EMT(), cell)
    P_draw = np.array([property_predictions([d], d, cell)[1] for d in draws])
    pool = lambda pred, refs: np.concatenate([zstats(pred, r) for r in refs])  # noqa: E731
    rows = [zrow("EMT committee vs EMT: energy/atom", zstats(E, E_emt[0])),
            zrow("EMT committee vs EMT: forces", zstats(F, F_emt[0])),
            zrow("EMT committee vs EMT: C11, C12, C44, ν(X), ν(L)", zstats(P, P_emt)),
            zrow("EMT committee vs 5 held-out draws: energy/atom", pool(E, E_draw)),
            zrow("EMT committee vs 5 held-out draws: forces", pool(F, F_draw)),
            zrow("EMT committee vs 5 held-out draws: C11, C12, C44, ν(X), ν(L)", pool(P, P_draw))]
    # calibrated expectation: (mean - draw)/s = sqrt(1 + 1/M) t_{M-1}
    from scipy import stats

    c = np.sqrt(1 + 1 / M)
    t = stats.t(M - 1)
    rows.append([f"expected if calibrated (√(1+1/M)·t_{M - 1}, M = {M})", "—", f"{c * np.sqrt((M - 1) / (M - 3)):.2f}",
                 f"{t.cdf(1 / c) - t.cdf(-1 / c):.2f}", f"{t.cdf(2 / c) - t.cdf(-2 / c):.2f}", "—"])
    if mlip is not None:
        Em, Fm = member_predictions(mlip.members, structures)
        rows.append(zrow("MLIP committee vs EMT: energy/atom", zstats(Em, E_emt[0])))
        rows.append(zrow("MLIP committee vs EMT: forces", zstats(Fm, F_emt[0])))
    body = markdown_table(["committee prediction", "n", "RMS z", "|z|<1", "|z|<2", "max |z|"], rows)
    body += ("\n\nIdeal for calibrated Gaussian errors: RMS z ≈ 1, |z|<1 ≈ 0.68, |z|<2 ≈ 0.95. Against plain EMT "
             "(the centre of the member distribution) the spread overstates the error of the mean, as expected; "
             f"against independent draws it is the calibration that matters; z values from one draw are correlated "
             f"(all structures see the same parameter error), so the pooled counts are not independent samples. {mlip_note}.\n")
    body += "\nWall time per workflow, EMT vs MLIP vs GPAW: section \"properties: workflow speed\".\n"
    return body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlip", help="trained committee file for atomistic.load_potential "
                    "(default: train one on EMT Al frames, cached under bench/out/)")
    ap.add_argument("--gpaw", action="store_true", help="run every speed workflow with GPAW LCAO too")
    ap.add_argument("--gpaw-budget", type=float, default=600.0,
                    help="seconds of GPAW per workflow; beyond it the row is extrapolated from the calls done")
    ap.add_argument("--speed-only", action="store_true", help="only the speed table (skip the calibration)")
    ap.add_argument("--calibration-only", action="store_true", help="only the calibration table (skip the speed)")
    args = ap.parse_args()

    import torch

    from atomistic import load_potential

    torch.set_num_threads(1)
    if args.mlip:
        mlip = load_potential(args.mlip)
        meta = getattr(mlip, "metadata", {}) or {}
        mlip_note = (f"MLIP: {args.mlip}, {len(mlip.members)} members, trained on "
                     f"{(meta.get('metrics') or {}).get('n_train', '?')} structures")
    else:
        mlip, mlip_note = train_mlip(CACHE / "al_emt.mlip.pt")
    print(mlip_note, flush=True)
    command = "python bench/properties_committee.py " + " ".join(sys.argv[1:])
    if not args.speed_only:
        body = calibration(mlip, mlip_note)
        print(body)
        record("properties: committee calibration and speed", command, body)

    if args.calibration_only:
        return
    rows = speed_table(mlip, args.gpaw_budget if args.gpaw else None)
    body = markdown_table(["workflow", "EMT (s)", "MLIP committee (s)", "GPAW LCAO (s)", "GPAW calls",
                           "GPAW k-points, symmetry"], rows)
    body += ("\n\nEvery calculator runs the same workflow on the same cell (fcc Al at the EMT lattice constant; "
             "no relaxation is timed). GPAW: LCAO, sz(dzp) basis, LDA, Fermi-Dirac 0.1 eV, default grid, in "
             f"this process, {os.environ.get('OMP_NUM_THREADS', 'unset')} OpenMP thread(s) "
             "(OMP_NUM_THREADS); the load line above says whether other jobs shared the machine, which "
             "makes timings noisy to a factor ~2. GPAW LCAO gives no stress, so its elastic run is energy-strain (21 strain directions × 5 "
             "amplitudes); EMT and the MLIP use stress-strain (fewer calls). The MLIP column includes the per-member "
             "evaluations behind the committee spread (elastic and phonons: mean + each member; time step: each "
             "member; Frenkel–Ladd: the mean only, committee=False). "
             "\"GPAW calls\" counts energy+forces calls of the GPAW route. Phonons and time step always run GPAW to the end; "
             f"elastic and Frenkel–Ladd stop after {args.gpaw_budget:.0f} s of GPAW, and a row marked extrapolated "
             "scales the per-call time measured in that partial run to the full count (a complete run where it "
             f"finished within the budget). {mlip_note}.\n")
    print(body)
    record("properties: workflow speed", command, body)


if __name__ == "__main__":
    main()
