"""Screening funnel on an EMT Cu-Au-Pt-Ni alloy space, and committee P(stable) calibration.

Run:  .venv/bin/python bench/screening.py [--workers 2] [--fresh]     (a few minutes on 2 cores)

Search space: every symmetry-distinct binary decoration of the 8-site fcc
2x1x1 conventional cell for the six pairs of {Cu, Au, Pt, Ni}, plus the
three-species decorations of the 4-site cube (atomistic.stability.decorations), cells
at Vegard's law. Truth: every candidate relaxed with EMT (ions + cell) and
put on one hull with the four fcc elements: the "EMT-exact" stable set.

Funnel (atomistic.stability.screening.screen), three different models:
- cheap: one perturbed-EMT potential (parameters x (1 + 1 % N(0,1)), a model
  cheaper and worse than the committee), single point at the Vegard cell;
- committee: 8 perturbed-EMT members (0.1 %), relaxed with their mean (a
  stand-in for a trained MLIP committee, which the funnel takes the same way);
- reference: EMT, relaxed (the role DFT plays).
Sizes follow the space, not the answer: the committee sees the best quarter
by the cheap model, the reference the committee's best 10 % plus the 5 %
it is least sure are unstable.

Calibration: a committee evaluates every candidate; P(stable) from the
per-member hulls over all of them. Three committees: the funnel's (0.1 %
perturbations), a noisier one (0.3 %, the EMTCommittee default) and a
noisy one (1 %) whose spread of energies above the hull is comparable to
the distances from the hull, so that P(stable) takes values between 0 and 1. The spread scale k (deviations from the
member mean x k, atomistic.stability.calibration) is fitted on the Cu-Au,
Cu-Ni and Au-Pt candidates and the reliability is measured on the held-out
compositions: Cu-Pt, Au-Ni, Ni-Pt and all ternaries. Then, so that every
candidate is held out once, leave-one-composition-group-out (the six pairs
and the ternaries): k fitted on the other groups, P(stable) predicted on the
held-out group, pooled into one reliability diagram (the PNG).
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

from atomistic.stability.decorations import decorations  # noqa: E402
from atomistic.emt_committee import EMTCommittee  # noqa: E402
from atomistic.stability.hull import hull_from_energies  # noqa: E402
from atomistic.stability.result_cache import structure_key  # noqa: E402
from atomistic.stability.screening import Level, _evaluate, screen  # noqa: E402
from foundation.executor import Executor  # noqa: E402
from atomistic.stability.calibration import fit_spread_scale, p_stable, reliability  # noqa: E402
from foundation.files import save_figure as save_png  # noqa: E402
from atomistic.stability.plots import plot_reliability  # noqa: E402
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


def calibrate(level, structures, names, formulas, ok, truth_stable, cache, run_map):
    """Held-out reliability of ``level``'s P(stable) against the reference labels ``truth_stable``."""
    com_all = evaluate_all(level, structures, cache, run_map)
    good = [g and r["error"] is None for g, r in zip(ok, com_all)]
    entries = [(nm, f, r["energy"]) for nm, f, r, g in zip(names, formulas, com_all, good) if g]
    members = np.array([r["member_energies"] for r, g in zip(com_all, good) if g]).T
    y = np.array([truth_stable[e[0]] for e in entries])
    is_cand = np.array([e[0].startswith("fcc") for e in entries])
    elements_of = [set(a.get_chemical_symbols()) for a, g in zip(structures, good) if g]
    train = np.array([is_cand[i] and elements_of[i] in TRAIN_PAIRS for i in range(len(entries))])
    test = is_cand & ~train
    k, _ = fit_spread_scale(entries, members, y, train)
    h = hull_from_energies(entries, member_energies=members)
    p_raw = p_stable(entries, members, 1.0)
    # leave-one-composition-group-out: every candidate held out once (6 pairs + the ternaries)
    group = np.array(["-".join(sorted(e)) if len(e) == 2 else "ternary" for e in elements_of])
    p_cv, ks = np.zeros(len(entries)), {}
    for g in sorted(set(group[is_cand])):
        held = is_cand & (group == g)
        ks[g], _ = fit_spread_scale(entries, members, y, is_cand & ~held)
        p_cv[held] = p_stable(entries, members, ks[g])[held]
    return {"k": k, "raw": reliability(p_raw[test], y[test]),
            "cal": reliability(p_stable(entries, members, k)[test], y[test]),
            "cv_raw": reliability(p_raw[is_cand], y[is_cand]),
            "cv": reliability(p_cv[is_cand], y[is_cand]), "cv_k": ks,
            "n_cand": int(is_cand.sum()), "n_cand_stable": int(y[is_cand].sum()),
            "n_between": int(np.sum((p_raw[is_cand] > 0) & (p_raw[is_cand] < 1))),
            "n_test": int(test.sum()), "n_stable": int(y[test].sum()),
            "base_rate": float(np.mean(y[test])),
            "spread_meV": float(np.median(h.formation_energy_std[is_cand]) * 1e3),
            "ehull_spread_meV": float(np.median(h.e_above_hull_std[is_cand]) * 1e3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--fresh", action="store_true")
    args = ap.parse_args()
    cache = OUT / "screening_cache"
    if args.fresh and cache.exists():
        shutil.rmtree(cache)
    run_map = Executor(workers=args.workers, quiet=False).map   # Dask processes when workers > 1
    cands, refs = search_space()
    n = len(cands)
    cheap = Level("cheap", EMTCommittee(1, spread=0.01, seed=11).members[0], relax=False,
                  key="perturbed-emt-1%-seed11")
    committee = Level("committee", EMTCommittee(8, spread=0.001, seed=1), key="emt-committee-8x0.1%-seed1")
    reference = Level("reference", EMT(), key="emt")
    noisy = Level("committee", EMTCommittee(8, spread=0.003, seed=2), key="emt-committee-8x0.3%-seed2")
    noisiest = Level("committee", EMTCommittee(8, spread=0.01, seed=3), key="emt-committee-8x1%-seed3")

    sizes = dict(n_committee=round(0.25 * n), n_reference=round(0.10 * n), n_uncertain=round(0.05 * n))
    # cold timings first: the funnel and the exhaustive reference pass on an empty cache of their own
    import tempfile

    with tempfile.TemporaryDirectory() as cold:
        t0 = time.perf_counter()
        screen(cands, refs, cheap, committee, reference, cache_dir=cold, map=run_map, **sizes)
        t_funnel_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        evaluate_all(reference, refs + cands, Path(cold) / "exhaustive", run_map)
        t_exhaustive_cold = time.perf_counter() - t0

    t0 = time.perf_counter()
    res = screen(cands, refs, cheap, committee, reference, cache_dir=str(cache), map=run_map, **sizes)
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

    # calibration: each committee on everything, P(stable) from per-member hulls over all of them
    truth_stable = {nm: bool(s) for nm, s in zip(truth_hull.names, truth_hull.stable)}
    cal = {}
    for label, level in (("funnel committee (0.1 %)", committee),
                         ("noisier committee (0.3 %)", noisy),
                         ("noisiest committee (1 %)", noisiest)):
        cal[label] = calibrate(level, refs + cands, names, formulas, ok, truth_stable, cache, run_map)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, (label, c) in zip(axes, cal.items()):
        plot_reliability(c["cv_raw"], ax, label="raw spread (k = 1)")
        plot_reliability(c["cv"], ax, label="k fitted with the group held out", diagonal=False)
        ax.set_title(f"{label}\n{c['n_cand']} candidates, leave-one-group-out", fontsize=9)
    save_png(fig, OUT / "screening_reliability.png")

    rows = [
        ["candidates (+4 elemental references)", n, n, ""],
        ["reference calls", res.reference_calls, res.exhaustive_reference_calls,
         f"{res.saving_factor:.2f}x fewer (target >= 5x)"],
        ["reference calls saved", res.reference_calls_saved, 0, ""],
        ["stable set found (EMT-exact)", len(found), len(exact),
         "identical" if not missed and not spurious else f"missed {missed}, spurious {spurious}"],
        ["Spearman committee vs reference (verified)", f"{res.spearman:.3f}", "1", ""],
        ["wall time, empty cache (s)", f"{t_funnel_cold:.1f}", f"{t_exhaustive_cold:.1f}",
         f"{args.workers} Dask workers; the funnel's time is mostly its committee (8 members)"],
        ["wall time this run (s)", f"{t_funnel:.1f}", f"{t_exhaustive:.1f}",
         f"{res.cache_hits} of {sum(res.calls.values())} funnel tasks were cache hits; the "
         "exhaustive column reuses the funnel's reference results"],
    ]
    table1 = markdown_table(["", "funnel", "all candidates with reference", "note"], rows)
    cal_text = ""
    for label, c in cal.items():
        rel_raw, rel_cal, k = c["raw"], c["cal"], c["k"]
        bins = [[f"{rel_raw['edges'][b]:.1f}-{rel_raw['edges'][b + 1]:.1f}",
                 rel_raw["count"][b], f"{rel_raw['mean_p'][b]:.3f}", f"{rel_raw['frequency'][b]:.3f}",
                 rel_cal["count"][b], f"{rel_cal['mean_p'][b]:.3f}", f"{rel_cal['frequency'][b]:.3f}"]
                for b in range(len(rel_raw["count"]))]
        cal_text += (f"**{label}**: spread scale k = {k:.3g} fitted on the Cu-Au, Cu-Ni, Au-Pt "
                     f"candidates; median formation-energy spread {c['spread_meV']:.1f} meV/atom.\n\n"
                     + markdown_table(["P bin", "n (k=1)", "mean P", "observed", f"n (k={k:.2g})",
                                       "mean P", "observed"], bins) + "\n\n"
                     f"ECE raw {rel_raw['ece']:.3f}, calibrated {rel_cal['ece']:.3f}; Brier raw "
                     f"{rel_raw['brier']:.4f}, calibrated {rel_cal['brier']:.4f} (always-'unstable' "
                     f"Brier {c['base_rate']:.4f}); {c['n_stable']} of {c['n_test']} held-out "
                     "candidates reference-stable.\n\n"
                     f"Leave-one-composition-group-out over all {c['n_cand']} candidates "
                     f"({c['n_cand_stable']} stable; {c['n_between']} with 0 < P < 1 at k = 1; "
                     f"median e_above_hull spread {c['ehull_spread_meV']:.1f} meV/atom): ECE raw "
                     f"{c['cv_raw']['ece']:.3f}, cross-validated {c['cv']['ece']:.3f}; Brier raw "
                     f"{c['cv_raw']['brier']:.4f}, cross-validated {c['cv']['brier']:.4f}; bins "
                     f"(n, mean P, observed): "
                     + "; ".join(f"({n_}, {m_:.2f}, {o_:.2f})" for n_, m_, o_ in
                                 zip(c["cv"]["count"], c["cv"]["mean_p"], c["cv"]["frequency"]) if n_)
                     + "; k per fold: " + ", ".join(f"{g} {kk:.2g}" for g, kk in c["cv_k"].items())
                     + ".\n\n")
    body = (f"Search space: {n} Cu-Au-Pt-Ni fcc decorations; calls per level: {res.calls}.\n\n"
            + table1 + "\n\nStable set (EMT-exact): " + ", ".join(exact) + "\n\n"
            "Committee P(stable) on held-out compositions (Cu-Pt, Au-Ni, Ni-Pt, ternaries):\n\n"
            + cal_text + "Reliability diagrams: bench/out/screening_reliability.png\n")
    print(body)
    record("screening", "python bench/screening.py", body)


if __name__ == "__main__":
    main()
