"""Benchmark: HybridSPMe (SPMe + learned residual) vs DFN on held-out runs.

Train: CC 0.5/1/2C discharge, 1C charge, 2C pulses, drive cycles seeds 0-1,
at 283.15 and 313.15 K. Held-out: CC 1.5C (inside range), drive cycle seed
100 (unseen generator seed), 298.15 K (unseen ambient temperature), CC 3C
(extrapolation). Because the correction does not feed back into the SPMe
states under current control, Hybrid voltage = SPMe voltage + correction(SPMe
features) exactly; the errors below use that, and the drive cycle is also
re-solved with the HybridSPMe model itself as a check.
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

os.environ.setdefault("OMP_NUM_THREADS", "1")

from bench._record import record  # noqa: E402
from continuum.battery_data import cc_profile, drive_cycle_profile, generate, pulse_profile  # noqa: E402
from couplers.battery_train import train_residual  # noqa: E402

TT = [283.15, 313.15]


def rmse(a):
    return 1e3 * float(np.sqrt(np.mean(np.square(a))))


def main():
    import pybamm
    import torch

    torch.set_num_threads(1)
    train = ([(cc_profile(c), T) for c in (0.5, 1.0, 2.0) for T in TT]
             + [(cc_profile(-1.0), T) for T in TT]
             + [(drive_cycle_profile(s), T) for s in (0, 1) for T in TT]
             + [(pulse_profile(2.0), T) for T in TT])
    sets = {
        "CC 1.5C (held-out C-rate)": [(cc_profile(1.5), T) for T in TT],
        "drive cycle seed 100": [(drive_cycle_profile(100), T) for T in TT],
        "ambient 298.15 K": [(cc_profile(1.0), 298.15), (drive_cycle_profile(0), 298.15)],
        "CC 3C (extrapolation)": [(cc_profile(3.0), 283.15), (cc_profile(3.0), 313.15)],
    }
    targets = {"CC 1.5C (held-out C-rate)": "RMSE <= 1.5, max <= 5",
               "drive cycle seed 100": "RMSE <= 3", "ambient 298.15 K": "RMSE <= 3",
               "CC 3C (extrapolation)": "Hybrid <= SPMe"}
    t0 = time.time()
    jobs = train + [j for v in sets.values() for j in v]
    runs = generate(jobs)
    t_data = time.time() - t0
    R = runs[:len(train)]
    test = runs[len(train):]
    by = {}
    i = 0
    for k, v in sets.items():
        by[k] = test[i:i + len(v)]
        i += len(v)

    t0 = time.time()
    models = [train_residual(R, seed=s) for s in range(5)]
    t_train = (time.time() - t0) / 5
    lines = ["| held-out set | SPMe RMSE mV | Hybrid RMSE mV (seed 0) | Hybrid max mV | "
             "seed spread (min-max RMSE, 5 seeds) | target |", "|---|---|---|---|---|---|"]
    for k, rs in by.items():
        r_s = rmse(np.concatenate([r["residual"] for r in rs]))
        per = []
        for res, _ in models:
            e = np.concatenate([r["residual"] - res.correction_numpy(r["features"]) for r in rs])
            per.append((rmse(e), 1e3 * np.max(np.abs(e))))
        lines.append(f"| {k} | {r_s:.2f} | {per[0][0]:.2f} | {per[0][1]:.2f} | "
                     f"{min(p[0] for p in per):.2f}-{max(p[0] for p in per):.2f} | {targets[k]} |")

    # Speed, side by side: 1C discharge 3000 s, warm = second solve of a built sim.
    from couplers.battery import HybridSPMe

    res = models[0][0]
    p = pybamm.ParameterValues("Chen2020")
    t_eval = np.linspace(0, 3000, 301)
    speed = {}
    for name, mk in (("SPMe", pybamm.lithium_ion.SPMe), ("HybridSPMe", lambda: HybridSPMe(residual=res)),
                     ("DFN", pybamm.lithium_ion.DFN)):
        t0 = time.perf_counter()
        sim = pybamm.Simulation(mk(), parameter_values=p)
        sim.solve(t_eval, t_interp=t_eval)
        cold = time.perf_counter() - t0
        ws = []
        for _ in range(10):
            t0 = time.perf_counter()
            sim.solve(t_eval, t_interp=t_eval)
            ws.append(time.perf_counter() - t0)
        speed[name] = (cold, float(np.median(ws)))
    lines += ["", "| model | cold build+solve s | warm solve ms (median of 10) | ratio to SPMe |",
              "|---|---|---|---|"]
    for k, (c, w) in speed.items():
        lines.append(f"| {k} | {c:.2f} | {1e3 * w:.1f} | {w / speed['SPMe'][1]:.2f} |")
    lines.append(f"\nDFN / HybridSPMe warm: {speed['DFN'][1] / speed['HybridSPMe'][1]:.1f}x "
                 "(target >= 3.5x); HybridSPMe / SPMe target <= 1.2x.")
    lines.append(f"\nData generation {t_data:.0f} s (cached after first run), training "
                 f"{t_train:.1f} s per seed (tanh MLP 5-16-16-1, Adam 1500 full-batch epochs).")

    # Plot held-out drive cycle; re-solve with HybridSPMe itself.
    r = by["drive cycle seed 100"][0]
    from continuum.battery_data import drive_cycle_profile as dcp

    prof = dcp(100)
    tt, cc = prof.arrays()
    p2 = pybamm.ParameterValues("Chen2020")
    cap = p2["Nominal cell capacity [A.h]"]
    p2.update({"Current function [A]": pybamm.Interpolant(tt, cc * cap, pybamm.t),
               "Ambient temperature [K]": r["temperature"], "Initial temperature [K]": r["temperature"]})
    sol = pybamm.Simulation(HybridSPMe(residual=res), parameter_values=p2).solve(
        [0, r["t"][-1]], t_interp=r["t"], initial_soc=0.95)
    n = len(sol.t)
    e_model = rmse(sol["Voltage [V]"].entries - r["v_dfn"][:n])
    lines.append(f"\nDrive cycle seed 100 at {r['temperature']} K re-solved with HybridSPMe: "
                 f"RMSE {e_model:.2f} mV vs DFN.")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 1, sharex=True, figsize=(8, 6))
    ax[0].plot(r["t"], r["v_dfn"], label="DFN")
    ax[0].plot(r["t"], r["v_spme"], label="SPMe")
    ax[0].plot(sol.t, sol["Voltage [V]"].entries, "--", label="HybridSPMe")
    ax[0].set_ylabel("Voltage [V]")
    ax[0].legend()
    ax[1].plot(r["t"], 1e3 * r["residual"], label="DFN - SPMe")
    ax[1].plot(sol.t, 1e3 * (r["v_dfn"][:n] - sol["Voltage [V]"].entries), label="DFN - Hybrid")
    ax[1].set_ylabel("error [mV]")
    ax[1].set_xlabel("t [s]")
    ax[1].legend()
    os.makedirs("bench/out", exist_ok=True)
    fig.savefig("bench/out/battery_drive_cycle.png", dpi=100)
    lines.append("\nPlot: bench/out/battery_drive_cycle.png")
    body = "\n".join(lines)
    print(body)
    record("battery", "python bench/battery.py", body)


if __name__ == "__main__":
    main()
