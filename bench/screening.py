"""Screening funnel on an EMT Cu-Au-Pt-Ni alloy space, and committee P(stable) calibration.

Run:  .venv/bin/python bench/screening.py [--workers 2] [--fresh]     (a few minutes on 2 cores)

Search space: every symmetry-distinct binary decoration of the 8-site fcc
2x1x1 conventional cell for the six pairs of {Cu, Au, Pt, Ni}, plus the
three-species decorations of the 4-site cube (atomistic.decorations), cells
at Vegard's law. Truth: every candidate relaxed with EMT (ions + cell) and
put on one hull with the four fcc elements: the "EMT-exact" stable set.

Funnel (atomistic.screening.screen), three different models:
- cheap: one perturbed-EMT potential (parameters x (1 + 1 % N(0,1)), a model
  cheaper and worse than the committee), single point at the Vegard cell;
- committee: 8 perturbed-EMT members (0.1 %), relaxed with their mean (a
  stand-in for a trained MLIP committee, which the funnel takes the same way);
- reference: EMT, relaxed (the role DFT plays).
Sizes follow the space, not the answer: the committee sees the best quarter
by the cheap model, the reference the committee's best 10 % plus the 5 %
it is least sure are unstable.

Calibration: the committee evaluates every candidate; P(stable) from the
per-member hulls over all of them. The spread scale k (deviations from the
member mean x k, atomistic.stability_calibration) is fitted on the Cu-Au,
Cu-Ni and Au-Pt candidates and the reliability diagram is measured on the
held-out compositions: Cu-Pt, Au-Ni, Ni-Pt and all ternaries.
Evaluations run as Dask tasks (--workers > 1) and are cached under
bench/out/screening_cache (resumable; --fresh deletes it first).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402

from atomistic.decorations import decorations  # noqa: E402
from atomistic.emt_committee import EMTCommittee  # noqa: E402
from atomistic.hull import hull_from_energies  # noqa: E402
from atomistic.result_cache import structure_key  # noqa: E402
from atomistic.screening import Level, _evaluate, dask_map, screen, serial_map  # noqa: E402
from atomistic.stability_calibration import fit_spread_scale, p_stable, reliability  # noqa: E402
from atomistic.stability_plots import plot_reliability, save_png  # noqa: E402
from bench._record import markdown_table, record  # noqa: E402

ELEMENTS = ["Cu", "Au", "Pt", "Ni"]
OUT = Path(__file__).resolve().parent / "out"
TRAIN_PAIRS = [{"Cu", "Au"}, {"Cu", "Ni"}, {"Au", "Pt"}]


def search_space():
    cube = bulk("Cu", "fcc", a=3.6, cubic=True)
    cands = []
    for i, a in enumerate(ELEMENTS):
        for b in ELEMENTS[i + 1:]:
            cands += decorations(cube.repeat((2, 1, 1)), [a, b], prefix="fcc8")
    cands += [c for c in decorations(cube, ELEMENTS, max_species=3, prefix="fcc4")
              if len(set(c.get_chemical_symbols())) == 3]
    refs = [bulk(e, "fcc") for e in ELEMENTS]
    return cands, refs


def evaluate_all(level, structures, cache, run_map):
    tasks = [{"level": level.name, "name": a.info.get("name") or a.get_chemical_formula(), "atoms": a,
              "calc": level.calc, "relax": level.relax, "fmax": level.fmax, "steps": level.steps,
              "cache": str(cache), "key": structure_key(a, level.name, level.identity(), level.relax,
                                                         level.fmax, level.steps)}
             for a in structures]
    return run_map(_evaluate, tasks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--fresh", action="store_true")
    args = ap.parse_args()
    cache = OUT / "screening_cache"
    if args.fresh and cache.exists():
        shutil.rmtree(cache)
    run_map = dask_map("processes", args.workers) if args.workers > 1 else (
        lambda f, items, desc="": serial_map(f, items, desc, quiet=False))
    cands, refs = search_space()
    n = len(cands)
    cheap = Level("cheap", EMTCommittee(1, spread=0.01, seed=11).members[0], relax=False,
                  key="perturbed-emt-1%-seed11")
    committee = Level("committee", EMTCommittee(8, spread=0.001, seed=1), key="emt-committee-8x0.1%-seed1")
    reference = Level("reference", EMT(), key="emt")

    t0 = time.perf_counter()
    res = screen(cands, refs, cheap, committee, reference, n_committee=round(0.25 * n),
                 n_reference=round(0.10 * n), n_uncertain=round(0.05 * n), cache_dir=str(cache),
                 map=run_map)
    t_funnel = time.perf_counter() - t0

    # truth: every candidate with the reference (cache shared with the funnel's reference level)
    t0 = time.perf_counter()
    ref_all = evaluate_all(reference, refs + cands, cache, run_map)
    t_exhaustive = time.perf_counter() - t0
    names = [a.get_chemical_formula() for a in refs] + [c.info["name"] for c in cands]
    formulas = [a.get_chemical_formula() for a in refs + cands]
    ok = [r["error"] is None for r in ref_all]
    entries = [(nm, f, r["energy"]) for nm, f, r, g in zip(names, formulas, ref_all, ok) if g]
    truth_hull = hull_from_energies(entries)
    exact = sorted(nm for nm in truth_hull.stable_names if nm.startswith("fcc"))
    found = sorted(res.stable)
    missed = sorted(set(exact) - set(found))
    spurious = sorted(set(found) - set(exact))

    # calibration: committee on everything
    com_all = evaluate_all(committee, refs + cands, cache, run_map)
    good = [g and r["error"] is None for g, r in zip(ok, com_all)]
    c_entries = [(nm, f, r["energy"]) for nm, f, r, g in zip(names, formulas, com_all, good) if g]
    members = np.array([r["member_energies"] for r, g in zip(com_all, good) if g]).T
    truth_stable = {nm: bool(s) for nm, s in zip(truth_hull.names, truth_hull.stable)}
    y = np.array([truth_stable[e[0]] for e in c_entries])
    is_cand = np.array([e[0].startswith("fcc") for e in c_entries])
    elements_of = [set(a.get_chemical_symbols()) for a, g in zip(refs + cands, good) if g]
    train = np.array([is_cand[i] and elements_of[i] in TRAIN_PAIRS for i in range(len(c_entries))])
    test = is_cand & ~train
    k, _ = fit_spread_scale(c_entries, members, y, train)
    p_raw = p_stable(c_entries, members, 1.0)
    p_cal = p_stable(c_entries, members, k)
    rel_raw = reliability(p_raw[test], y[test])
    rel_cal = reliability(p_cal[test], y[test])

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4.5))
    plot_reliability(rel_raw, ax, label="raw spread (k = 1)")
    plot_reliability(rel_cal, ax, label=f"spread x {k:.2g} (fit on train pairs)")
    ax.set_title(f"held-out compositions: {int(test.sum())} candidates")
    save_png(fig, OUT / "screening_reliability.png")

    rows = [
        ["candidates (+4 elemental references)", n, n, ""],
        ["reference calls", res.reference_calls, res.exhaustive_reference_calls,
         f"{res.saving_factor:.2f}x fewer (target >= 5x)"],
        ["reference calls saved", res.reference_calls_saved, 0, ""],
        ["stable set found (EMT-exact)", len(found), len(exact),
         "identical" if not missed and not spurious else f"missed {missed}, spurious {spurious}"],
        ["Spearman committee vs reference (verified)", f"{res.spearman:.3f}", "1", ""],
        ["wall time (s)", f"{t_funnel:.1f}", f"{t_exhaustive:.1f}",
         "exhaustive reuses the funnel's cached reference results"],
    ]
    table1 = markdown_table(["", "funnel", "all candidates with reference", "note"], rows)
    bins = [[f"{rel_raw['edges'][b]:.1f}-{rel_raw['edges'][b + 1]:.1f}",
             rel_raw["count"][b], f"{rel_raw['mean_p'][b]:.3f}", f"{rel_raw['frequency'][b]:.3f}",
             rel_cal["count"][b], f"{rel_cal['mean_p'][b]:.3f}", f"{rel_cal['frequency'][b]:.3f}"]
            for b in range(len(rel_raw["count"]))]
    table2 = markdown_table(["P bin", "n (k=1)", "mean P", "observed", f"n (k={k:.2g})", "mean P",
                             "observed"], bins)
    summary = (f"ECE raw {rel_raw['ece']:.3f}, calibrated {rel_cal['ece']:.3f}; Brier raw "
               f"{rel_raw['brier']:.4f}, calibrated {rel_cal['brier']:.4f} "
               f"(always-'unstable' Brier {float(np.mean(y[test])):.4f}); "
               f"{int(y[test].sum())} of {int(test.sum())} held-out candidates reference-stable.")
    body = (f"Search space: {n} Cu-Au-Pt-Ni fcc decorations; calls per level: {res.calls}.\n\n"
            + table1 + "\n\nStable set (EMT-exact): " + ", ".join(exact) + "\n\n"
            "Committee P(stable) on held-out compositions (Cu-Pt, Au-Ni, Ni-Pt, ternaries); "
            f"spread scale k fitted on Cu-Au, Cu-Ni, Au-Pt: k = {k:.3g}.\n\n" + table2 + "\n\n"
            + summary + "\n\nReliability diagram: bench/out/screening_reliability.png\n")
    print(body)
    record("screening", "python bench/screening.py", body)


if __name__ == "__main__":
    main()
