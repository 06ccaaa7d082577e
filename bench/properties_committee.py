"""Committee error bars (z-scores on held-out structures) and each workflow's wall time per calculator.

Run:  .venv/bin/python bench/properties_committee.py [--mlip PATH] [--gpaw]      (about 2 min without GPAW)

Calibration. A committee of 5 perturbed-EMT members (atomistic.emt_committee,
parameters scaled by 1 + 0.3 % N(0,1)) predicts energies, forces, elastic
constants and phonon frequencies on held-out structures (rattled 32-atom Al
cells, the relaxed cell); z = (committee mean - reference) / committee std.
Two references: (a) plain EMT, the centre of the perturbation distribution,
for which a committee's spread over-states the error of its mean (expect
|z| well below 1); (b) an independent draw from the same distribution, the
situation error bars are meant for (expect z ~ N(0, 1 + 1/M)). With --mlip, a
trained committee (atomistic.load_potential) is scored against EMT, its
training reference.

Speed. Wall time of each workflow with EMT, the MLIP committee (if given)
and GPAW LCAO (--gpaw): GPAW is measured for one energy+forces call on the
1-atom primitive cell and multiplied by the number of calls each workflow
makes (counted with EMT), since running whole workflows with GPAW on 2 shared
cores would take hours; this is a lower bound (larger cells cost more per call).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402

from atomistic.elastic import elastic_constants, relax_cell  # noqa: E402
from atomistic.emt_committee import EMTCommittee, PerturbedEMT  # noqa: E402
from atomistic.free_energy import frenkel_ladd  # noqa: E402
from atomistic.phonons import phonons  # noqa: E402
from atomistic.timestep import estimate_timestep  # noqa: E402
from bench._record import markdown_table, record  # noqa: E402


class CountingEMT(EMT):
    calls = 0

    def calculate(self, *args, **kwargs):
        CountingEMT.calls += 1
        super().calculate(*args, **kwargs)


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


def timing(calc_factory, cell_prim, cell32, fl_kwargs):
    out = {}
    c = calc_factory()
    t0 = time.perf_counter()
    elastic_constants(cell_prim, c, stress_tol=np.inf)
    out["elastic (primitive cell)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    phonons(cell_prim, calc_factory(), supercell=(3, 3, 3))
    out["phonons (3×3×3 supercell)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    estimate_timestep(cell32, calc_factory())
    out["time step (32-atom Hessian)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    try:
        frenkel_ladd(cell32, calc_factory(), 100, **fl_kwargs)
    except Exception as exc:  # an untrained model may leave the cell unrelaxed: report, don't stop
        out["Frenkel–Ladd (32 atoms, short)"] = f"failed: {type(exc).__name__}"
    else:
        out["Frenkel–Ladd (32 atoms, short)"] = time.perf_counter() - t0
    return out


def gpaw_call_time():
    from gpaw import GPAW

    a = bulk("Al", "fcc", a=4.04)
    a.calc = GPAW(mode="lcao", basis="dzp", xc="PBE", kpts=(4, 4, 4), txt=None,
                  occupations={"name": "fermi-dirac", "width": 0.1})
    t0 = time.perf_counter()
    a.get_forces()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlip", help="trained committee file for atomistic.load_potential")
    ap.add_argument("--gpaw", action="store_true", help="measure one GPAW LCAO call")
    args = ap.parse_args()

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
    mlip_note = "no trained MLIP given (--mlip PATH)"
    mlip = None
    if args.mlip:
        import torch

        from atomistic import load_potential

        torch.set_num_threads(1)
        mlip = load_potential(args.mlip)
        Em, Fm = member_predictions(mlip.members, structures)
        rows.append(zrow("MLIP committee vs EMT: energy/atom", zstats(Em, E_emt[0])))
        rows.append(zrow("MLIP committee vs EMT: forces", zstats(Fm, F_emt[0])))
        meta = getattr(mlip, "metadata", {}) or {}
        mlip_note = (f"MLIP: {args.mlip}, {len(mlip.members)} members, trained on "
                     f"{(meta.get('metrics') or {}).get('n_train', '?')} structures")

    prim = relax_cell(bulk("Al", "fcc"), EMT())
    cell32 = relax_cell(bulk("Al", "fcc", cubic=True), EMT()).repeat(2)
    fl_kwargs = dict(n_switch=100, n_eq=20, n_repeats=2)
    CountingEMT.calls = 0
    t_emt = {}
    calls = {}
    for name, fn in timing(CountingEMT, prim, cell32, fl_kwargs).items():
        t_emt[name] = fn
    # calls per workflow, counted separately; GPAW LCAO has no stress, so its elastic route is energy-strain
    for name, run in {
        "elastic (primitive cell)": lambda: elastic_constants(prim, CountingEMT(), method="energy", stress_tol=np.inf),
        "phonons (3×3×3 supercell)": lambda: phonons(prim, CountingEMT(), supercell=(3, 3, 3)),
        "time step (32-atom Hessian)": lambda: estimate_timestep(cell32, CountingEMT()),
        "Frenkel–Ladd (32 atoms, short)": lambda: frenkel_ladd(cell32, CountingEMT(), 100, **fl_kwargs),
    }.items():
        CountingEMT.calls = 0
        run()
        calls[name] = CountingEMT.calls
    t_mlip = timing(lambda: mlip, prim, cell32, fl_kwargs) if mlip is not None else {}
    t_call = gpaw_call_time() if args.gpaw else None
    trows = []
    for name in t_emt:
        def fmt(v):
            return f"{v:.2f}" if isinstance(v, float) else str(v)
        g = f"≥ {calls[name] * t_call:.0f} ({calls[name]} calls × {t_call:.1f} s)" if t_call else "not run"
        trows.append([name, fmt(t_emt[name]), fmt(t_mlip[name]) if name in t_mlip else "—", g])

    body = markdown_table(["committee prediction", "n", "RMS z", "|z|<1", "|z|<2", "max |z|"], rows)
    body += ("\n\nIdeal for calibrated Gaussian errors: RMS z ≈ 1, |z|<1 ≈ 0.68, |z|<2 ≈ 0.95. Against plain EMT "
             "(the centre of the member distribution) the spread overstates the error of the mean, as expected; "
             f"against independent draws it is the calibration that matters; z values from one draw are correlated "
             f"(all structures see the same parameter error), so the pooled counts are not independent samples. {mlip_note}.\n")
    body += "\n### Wall time per workflow (s, one shared core)\n\n" + markdown_table(
        ["workflow", "EMT", "MLIP committee", "GPAW LCAO (estimated)"], trows)
    body += ("\n\nGPAW: PBE, dzp, 4×4×4 k, one energy+forces call on the 1-atom Al cell timed and multiplied by the "
             "workflow's call count (elastic via energy-strain: GPAW LCAO gives no stress); a lower bound, since "
             "the phonon, time-step and Frenkel–Ladd cells hold 27–32 atoms. Frenkel–Ladd here is a short "
             "(100-step) switch for timing only.\n")
    print(body)
    record("properties: committee calibration and speed", "python bench/properties_committee.py "
           + " ".join(sys.argv[1:]), body)


if __name__ == "__main__":
    main()
