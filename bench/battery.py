"""Benchmark: HybridSPMe (SPMe + learned residual) vs DFN, validation and untouched test sets.

Frozen recipe, version 4, written 2026-12-07 (night) before its test set was generated.
The recipe is ``RECIPE`` below: ``TrainingConfig`` with the four training
temperatures, CC discharge every 0.25C from 0.25 to 2.25C and charge every
0.25C from 0.25 to 1.25C; 1C and 2C pulse trains; pulse-train drive cycles
seeds 0-5, 7, 8; drive cycles with regen bursts and rests seeds 0-15; tanh
MLP 9-48-48-1, Adam 1000 full-batch epochs (lr 5e-3, cosine), 200 L-BFGS
steps, float32, runs thinned to <= 300 samples, bound 0.1 V. 160 training
runs. These are now the library's defaults too. Three training seeds (0, 1,
2); the tables give seed 0 and the spread.

Why version 4. Version 3 (below) met every target on its test set but one:
a 0.7C charge at 310.65 K, max error 5.28 mV (target 5), at the end of
charge. That test set is spent, and its charge runs, with version 2's spent
0.75C charge runs (293.15 and 303.15 K), became a validation group, beside a
new one of charges at 303.15 K; version 3 gave max 5.28 and 2.63 mV there
(RMSE 1.02 and 0.65): it had seen charging at 0.5C and 1C only. Charging
every 0.25C from 0.25 to 1.25C (seed 0; seeds 1 and 2 in brackets): max
0.97 (0.62, 0.45) and 1.01 (0.63, 0.60) mV there, RMSE 0.19 and 0.23; the
other groups held (pulse-train cycles RMSE 0.54 (0.57, 0.53), regen + rests
0.26 (0.26, 0.25), the dense CC group max 4.30 (4.40, 4.27)).
The test set below was drawn after this choice, from temperatures, seeds and
C-rates that no version's training, validation or test touched.

Version 3 (frozen 2026-12-07, night; its record: BENCHMARKS.md at 8144c58):
version 4 with charge at 0.5C and 1C only. Its test set (285.65 and 310.65 K;
drive cycles seeds 2000-2007 and 2100-2103, CC 1.15C, 1.45C, 1.85C, -0.7C,
3C): drive cycles 0.28 / 0.66 mV RMSE, CC discharge max 4.34 mV, met; 0.7C
charge max 5.28 mV, missed.

Why version 3. Version 2 (below) missed one target on its test set: CC
1.25C/1.75C discharge, max error 6.25 mV (target 5). That test set is spent.
The miss was reproduced on the validation split first, with a denser CC
validation group (discharge 0.4, 0.9, 1.1, 1.3, 1.4, 1.8, 1.9C, charge 0.4,
0.6, 0.9C at the validation temperatures, now in ``VALIDATION``): version 2
gave max 6.19 mV there, at the end-of-discharge knee of the 1.8C runs, and
its own 2C training runs were fitted no better than 9-11 mV at the knee.
Variants, seed 0 unless said, RMSE / max mV on that group (pulse-train and
regen-rest drive-cycle RMSE in brackets):
- version 2: 0.76 / 6.19 (0.56, 0.28);
- 200 L-BFGS steps: 0.71 / 6.45 (0.53, 0.19): fits the 1.5C training runs to
  1 mV but not the knee between 1.5C and 2C;
- 64-64 + 200 L-BFGS steps: 0.60 / 6.58 (0.52, 0.21);
- CC every 0.25C to 2.25C, 60 L-BFGS steps: 0.88 / 6.14 (0.74, 0.37);
- CC every 0.25C to 2.25C + 200 L-BFGS steps (chosen): 0.56 / 4.33
  (0.55, 0.22); seed 1: 0.55 / 4.53 (0.60, 0.31); seed 2: 0.43 / 4.23
  (0.55, 0.19).
Its test set was drawn after this choice, from temperatures, seeds and
C-rates that neither version's training, validation or test touched.

Version 2 (frozen 2026-12-07, morning; its record is in git history, BENCHMARKS.md at
24488fe): the same family with CC discharge 0.25, 0.5, 0.75, 1, 1.5, 2C
and 60 L-BFGS steps, chosen as follows (validation split only, seed 0 unless
said; RMSE mV, pooled per group: pulse-train drive cycles / regen+rests drive
cycles / CC; SPMe alone 3.20 / 1.21 / 4.59):
- V0, recipe v1's drive cycles (pulse-train seeds 0-3 only), 48-48 + L-BFGS:
  0.91 / 2.24 / 1.27 -- worse than SPMe on cycles with regen and rests
  (max 14.3 mV): the network had never seen a charge burst after driving
  followed by a rest.
- V1, + regen+rests seeds 0-7: 0.81 / 0.39 / 1.04.
- V2, + regen+rests seeds 0-15: 0.75 / 0.25 / 1.11.
- V3, regen 0-7 + pulse-train 0-5, 7, 8: 0.64 / 0.46 / 1.28.
- V4, regen 0-15 + pulse-train 0-5, 7, 8 (chosen): 0.56 / 0.28 / 0.93;
  training seed 1: 0.60 / 0.29 / 1.03.
- V5, the same with 32-32: 0.60 / 0.25 / 0.80; seed 1: 0.72 / 0.38 / 1.37
  (less repeatable across seeds than 48-48, so 48-48 stays).
- V7, 32-32 without the L-BFGS polish: 1.15 / 0.66 / 2.21 (max 14 mV), so
  the polish stays.
Its test set (temperatures 293.15 and 303.15 K; drive cycles seeds 1000-1007
and 1100-1103, CC 1.25C, 1.75C, -0.75C, 3C): met everywhere but CC 1.25C /
1.75C, max 6.25 mV.

Protocol. Three disjoint families of runs (Chen2020, paired SPMe/DFN,
``continuum.battery_data``):
- training: ``training_jobs(RECIPE)``;
- validation (every recipe choice above was made on these figures only):
  drive cycles seeds 50-54 (pulse-train family) and 55-59 (regen + rests
  family), CC 0.6C, 1.6C discharge and 0.25C charge, and (version 3) the
  denser CC group, each at 283.15 and 298.15 K (temperatures not trained on);
  (version 4) the charge runs of the spent test sets and charges at 303.15 K;
- test (version 4), drawn once after the recipe was frozen, from seeds and
  conditions no part of any version touched: drive cycles with regen bursts
  and rests seeds 3000-3007, pulse-train drive cycles: the first four seeds
  from 3100 up whose cycle opens with discharge (one opening with regen at
  95 % SOC starts above 4.2 V and cannot be solved), CC 1.05C, 1.35C and
  1.7C discharge, 0.55C, 0.85C and 1.1C charge, all at 290.65 and 315.65 K;
  plus CC 3C (extrapolation, where SPMe itself collapses) at the same
  temperatures.
  The table records a hash of the test jobs (profile steps + temperature).
Under current control the correction does not feed back into the SPMe
states, so Hybrid voltage = SPMe voltage + correction(SPMe features)
exactly; the tables use that, and one test drive cycle is re-solved with
the HybridSPMe PyBaMM model itself as a check.

Speed, like for like: the same experiment (1C discharge of Chen2020 for
3000 s, output on 301 points via t_interp; t_eval = [0, 3000] because
IDAKLU stops and re-initialises at every t_eval point), the same solver
(``pybamm.IDAKLUSolver()`` with PyBaMM's default tolerances) for every
model, warm solves interleaved round-robin so machine load hits all alike.
Each ratio compares models with the same cut-off event layout: either all
with PyBaMM's two voltage events ("separate"), or all with one combined
event min(V - V_low, V_high - V) ("combined", HybridSPMe's default; SPMe
and DFN get it from ``couplers.battery.combine_voltage_events``).

``python bench/battery.py --validate`` trains the recipe and prints the
validation table only: it never generates a test run.
"""

import hashlib
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

os.environ.setdefault("OMP_NUM_THREADS", "1")

from bench._record import record  # noqa: E402
from continuum.battery_data import cc_profile, drive_cycle_profile, generate  # noqa: E402
from couplers.battery_compare import compare_to_dfn, plot_comparison  # noqa: E402
from couplers.battery_train import TrainingConfig, train_residual, training_jobs  # noqa: E402

TRAIN_T = [278.15, 288.15, 308.15, 318.15]
# Version 4, every choice spelled out (the library's defaults were set to these afterwards, so
# the frozen recipe does not move when a default does)
RECIPE = TrainingConfig(
    temperatures=TRAIN_T,
    cc_c_rates=[0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25,
                -0.25, -0.5, -0.75, -1.0, -1.25],
    pulse_c_rates=[1.0, 2.0], drive_cycle_seeds=[0, 1, 2, 3, 4, 5, 7, 8],
    regen_drive_cycle_seeds=list(range(16)), hidden=[48, 48], epochs=1000, lr=5e-3,
    lbfgs_steps=200, max_per_run=300, bound_V=0.1)
N_SEEDS = 3

VAL_T = (283.15, 298.15)
VALIDATION = {
    "drive cycles, pulse train, seeds 50-54": [
        (drive_cycle_profile(s), T) for s in range(50, 55) for T in VAL_T],
    "drive cycles, regen + rests, seeds 55-59": [
        (drive_cycle_profile(s, regen_rests=True), T) for s in range(55, 60) for T in VAL_T],
    "CC 0.6C, 1.6C, -0.25C": [(cc_profile(c), T) for c in (0.6, 1.6, -0.25) for T in VAL_T],
    # version 3: where version 2's test miss was first reproduced on validation data
    "CC 0.4-1.9C discharge, 0.4-0.9C charge": [
        (cc_profile(c), T) for c in (0.4, 0.9, 1.1, 1.3, 1.4, 1.8, 1.9, -0.4, -0.6, -0.9)
        for T in VAL_T],
    # version 4: the spent test sets' charge runs (v2's and v3's), and charging at 303.15 K
    "charge: 0.75C at 293.15/303.15 K, 0.7C at 285.65/310.65 K (spent tests)": [
        (cc_profile(-0.75), T) for T in (293.15, 303.15)] + [
        (cc_profile(-0.7), T) for T in (285.65, 310.65)],
    "charge 0.4, 0.6, 0.9C at 303.15 K": [(cc_profile(c), 303.15) for c in (-0.4, -0.6, -0.9)],
}

TEST_T = (290.65, 315.65)   # version 4's (v3: 285.65/310.65 K, v2: 293.15/303.15 K)
DRIVE_TARGET = "RMSE <= 1.5"
CC_TARGET = "RMSE <= 1.5, max <= 5"


def draw_test_sets():
    """The test jobs and their targets; called only by a full run, after the recipe froze."""
    # The first four seeds from 3100 whose cycle opens with discharge: one opening with regen
    # at 95 % SOC starts above the 4.2 V cut-off (decided from the profile alone).
    pulse = [s for s in range(3100, 3200) if drive_cycle_profile(s).steps[0][1] >= 0][:4]
    sets = {
        "drive cycles, regen + rests, seeds 3000-3007": (
            [(drive_cycle_profile(s, regen_rests=True), T) for s in range(3000, 3008)
             for T in TEST_T], DRIVE_TARGET),
        f"drive cycles, pulse train, seeds {', '.join(map(str, pulse))}": (
            [(drive_cycle_profile(s), T) for s in pulse for T in TEST_T], DRIVE_TARGET),
        "CC 1.05C, 1.35C, 1.7C discharge": (
            [(cc_profile(c), T) for c in (1.05, 1.35, 1.7) for T in TEST_T], CC_TARGET),
        "CC 0.55C, 0.85C, 1.1C charge": (
            [(cc_profile(c), T) for c in (-0.55, -0.85, -1.1) for T in TEST_T], CC_TARGET),
        "CC 3C (extrapolation)": ([(cc_profile(3.0), T) for T in TEST_T], "Hybrid <= SPMe"),
    }
    return sets


def jobs_hash(jobs):
    payload = json.dumps([[p.steps, p.meta.get("soc0", 0.95), T] for p, T in jobs])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def rmse(a):
    return 1e3 * float(np.sqrt(np.mean(np.square(a))))


def verdict(target, spme, h_rmse, h_max):
    if target == "Hybrid <= SPMe":
        ok = h_rmse <= spme + 1e-9
        return "met" if ok else f"missed ({h_rmse:.2f} > {spme:.2f})"
    ok_r = h_rmse <= 1.5
    ok_m = "max" not in target or h_max <= 5.0
    if ok_r and ok_m:
        return "met"
    bad = ([f"RMSE {h_rmse:.2f}"] if not ok_r else []) + ([f"max {h_max:.2f}"] if not ok_m else [])
    return "missed (" + ", ".join(bad) + ")"


def error_table(title, groups, models, targets=None):
    """Rows per group: SPMe RMSE, hybrid RMSE/max (seed 0), worst run, seed spread."""
    head = (f"| {title} | runs | SPMe RMSE mV | Hybrid RMSE mV (seed 0) | Hybrid max mV (seed 0) | "
            f"worst run RMSE mV (seed 0) | RMSE over {len(models)} seeds (min-max) |")
    lines = [head + (" target | verdict |" if targets else ""),
             "|---|---|---|---|---|---|---|" + ("---|---|" if targets else "")]
    for k, rs in groups.items():
        r_s = rmse(np.concatenate([r["residual"] for r in rs]))
        per = []
        for res in models:
            e = [r["residual"] - res.correction_numpy(r["features"]) for r in rs]
            per.append((rmse(np.concatenate(e)), 1e3 * max(np.max(np.abs(x)) for x in e),
                        max(rmse(x) for x in e)))
        row = (f"| {k} | {len(rs)} | {r_s:.2f} | {per[0][0]:.2f} | {per[0][1]:.2f} | "
               f"{per[0][2]:.2f} | {min(p[0] for p in per):.2f}-{max(p[0] for p in per):.2f} |")
        if targets:
            row += f" {targets[k]} | {verdict(targets[k], r_s, per[0][0], per[0][1])} |"
        lines.append(row)
    return lines


def speed(residual, repeats=100):
    """Cold and median warm solve times [s] of the six (model, event layout) pairs."""
    import pybamm

    from couplers.battery import HybridSPMe, combine_voltage_events

    p = pybamm.ParameterValues("Chen2020")
    t_interp = np.linspace(0, 3000, 301)
    makers = {
        ("SPMe", "separate"): pybamm.lithium_ion.SPMe,
        ("SPMe", "combined"): lambda: combine_voltage_events(pybamm.lithium_ion.SPMe()),
        ("HybridSPMe", "separate"): lambda: HybridSPMe(residual=residual,
                                                       voltage_events="separate"),
        ("HybridSPMe", "combined"): lambda: HybridSPMe(residual=residual),
        ("DFN", "separate"): pybamm.lithium_ion.DFN,
        ("DFN", "combined"): lambda: combine_voltage_events(pybamm.lithium_ion.DFN()),
    }
    sims, cold = {}, {}
    for key, mk in makers.items():
        t0 = time.perf_counter()
        sims[key] = pybamm.Simulation(mk(), parameter_values=p, solver=pybamm.IDAKLUSolver())
        sims[key].solve([0, 3000], t_interp=t_interp)
        cold[key] = time.perf_counter() - t0
    solver = sims[("SPMe", "separate")].solver
    warm = {k: [] for k in sims}
    for _ in range(repeats):
        for k, sim in sims.items():
            t0 = time.perf_counter()
            sim.solve([0, 3000], t_interp=t_interp)
            warm[k].append(time.perf_counter() - t0)
    return cold, {k: float(np.median(v)) for k, v in warm.items()}, (solver.rtol, solver.atol)


def split(runs, sets):
    out, i = {}, 0
    for k, v in sets.items():
        out[k] = runs[i:i + len(v)]
        i += len(v)
    return out


def train_models(train, n_seeds):
    cfg = RECIPE
    return [train_residual(train, cfg.parameter_set, tuple(cfg.hidden), s, cfg.epochs, cfg.lr,
                           cfg.bound_V, cfg.max_per_run, cfg.lbfgs_steps)[0]
            for s in range(n_seeds)]


def main(validate_only=False):
    import torch

    torch.set_num_threads(1)
    train_jobs = training_jobs(RECIPE)
    t0 = time.time()
    train = generate(train_jobs, progress=False)
    val = split(generate([j for v in VALIDATION.values() for j in v], progress=False), VALIDATION)
    t_data = time.time() - t0
    t0 = time.time()
    models = train_models(train, 1 if validate_only else N_SEEDS)
    t_train = (time.time() - t0) / len(models)
    lines = error_table("validation set (used for recipe choices)", val, models)
    if validate_only:
        print("\n".join(lines))
        return

    sets = draw_test_sets()
    test_jobs = [j for v, _ in sets.values() for j in v]
    t0 = time.time()
    test = split(generate(test_jobs, progress=False), {k: v for k, (v, _) in sets.items()})
    t_data += time.time() - t0
    lines = (["Validation (the recipe's choices were made on these; not held out):", ""] + lines
             + ["", f"Test (drawn once after the recipe froze; jobs hash {jobs_hash(test_jobs)}, "
                    f"temperatures {TEST_T[0]} and {TEST_T[1]} K, never trained or validated on):",
                ""]
             + error_table("test set", test, models, {k: t for k, (_, t) in sets.items()}))

    res = models[0]
    cold, warm, (rtol, atol) = speed(res)
    lines += ["", f"Speed (IDAKLU, rtol {rtol:g}, atol {atol:g}, for every model):", "",
              "| model | cut-off events | cold build+solve s | warm solve ms (median of 100, "
              "interleaved) |", "|---|---|---|---|"]
    for (m, ev), w in warm.items():
        lines.append(f"| {m} | {ev} | {cold[(m, ev)]:.2f} | {1e3 * w:.2f} |")
    lines += ["", "| like-for-like ratio | events | measured | target | verdict |",
              "|---|---|---|---|---|"]
    for ev in ("combined", "separate"):
        r1 = warm[("HybridSPMe", ev)] / warm[("SPMe", ev)]
        r2 = warm[("DFN", ev)] / warm[("HybridSPMe", ev)]
        lines.append(f"| HybridSPMe / SPMe warm | {ev} | {r1:.2f}x | <= 1.2x | "
                     f"{'met' if r1 <= 1.2 else f'missed ({r1:.2f}x)'} |")
        lines.append(f"| DFN / HybridSPMe warm | {ev} | {r2:.2f}x | >= 3.5x | "
                     f"{'met' if r2 >= 3.5 else f'missed ({r2:.2f}x)'} |")
    h = "-".join(str(n) for n in RECIPE.hidden)
    lines.append(f"\n{len(train)} training runs, {sum(len(v) for v in val.values())} validation, "
                 f"{len(test_jobs)} test; data generation {t_data:.0f} s (cached after the first "
                 f"run); training {t_train:.0f} s per seed (tanh MLP {len(res.mean)}-{h}-1, Adam "
                 f"{RECIPE.epochs} full-batch epochs + {RECIPE.lbfgs_steps} L-BFGS steps, float32, "
                 f"1 thread, load average {os.getloadavg()[0]:.1f} at the end).")

    # A test drive cycle solved by the HybridSPMe PyBaMM model itself.
    prof, T = sets["drive cycles, regen + rests, seeds 3000-3007"][0][0]
    cmp = compare_to_dfn(res, prof, T)
    lines.append(f"\nTest drive cycle {prof.name} at {T} K solved with the HybridSPMe model: "
                 f"RMSE {cmp['rmse_hybrid_mV']:.2f} mV vs DFN (SPMe {cmp['rmse_spme_mV']:.2f} mV; "
                 f"{100 * cmp['out_of_range']:.0f} % of it outside the training range).")
    os.makedirs("bench/out", exist_ok=True)
    plot_comparison(cmp, "bench/out/battery_drive_cycle.png",
                    f"test drive cycle with regen and rests ({prof.name}), {T} K")
    lines.append("\nPlot: bench/out/battery_drive_cycle.png")
    body = "\n".join(lines)
    print(body)
    record("battery", "python bench/battery.py", body)


if __name__ == "__main__":
    main(validate_only="--validate" in sys.argv[1:])
