"""HybridSPMe: train a learned SPMe -> DFN voltage residual, then use it as a PyBaMM model.

Run:  .venv/bin/python examples/battery_hybrid.py   (~10 min the first time: paired DFN/SPMe
      runs are cached in ~/.cache/multiscale/battery; MULTISCALE_FAST=1: < 1 min)

1. Paired SPMe/DFN runs (PyBaMM, Chen2020) over constant-current discharges,
   charges, pulses and synthetic drive cycles (Dask, cached on disk).
2. A tanh MLP (torch) learns DFN - SPMe voltage from SPMe's own states.
3. HybridSPMe carries it as PyBaMM symbols: any Simulation/Experiment works,
   and the voltage cut-off sees the corrected voltage.
4. A drive cycle from a generator seed never trained on is compared with DFN.
"""
import os

import numpy as np
import pybamm

from continuum.battery_data import cc_profile, drive_cycle_profile, generate
from couplers.battery import HybridSPMe
from couplers.battery_compare import compare_to_dfn, plot_comparison
from couplers.battery_train import TrainingConfig, train_residual, training_jobs

FAST = os.environ.get("MULTISCALE_FAST") == "1"


def main():
    if FAST:  # two CC discharges and one drive cycle, tiny network
        cfg = TrainingConfig(temperatures=[298.15], cc_c_rates=[0.5, 2.0], pulse_c_rates=[],
                             drive_cycle_seeds=[0], hidden=[16], epochs=300, lr=1e-2,
                             lbfgs_steps=0)  # L-BFGS overfits three runs
    else:
        cfg = TrainingConfig()
    runs = generate(training_jobs(cfg), progress=not FAST)
    residual, _ = train_residual(runs, cfg.parameter_set, tuple(cfg.hidden), cfg.seed, cfg.epochs,
                                 cfg.lr, cfg.bound_V, cfg.max_per_run, cfg.lbfgs_steps,
                                 progress=not FAST)
    residual.save("residual.json")
    print(f"trained on {len(runs)} runs; residual saved to residual.json")

    # The hybrid inside a PyBaMM experiment: the cut-off sees the corrected voltage.
    model = HybridSPMe(residual="residual.json", parameter_set="Chen2020")
    sol = pybamm.Simulation(model, experiment=pybamm.Experiment(
        ["Discharge at 1C until 3.2 V", "Rest for 10 minutes"])).solve()
    corr = np.ravel(sol["Voltage correction [V]"].entries)
    print(f"1C discharge to 3.2 V: {sol.t[-1]:.0f} s, correction {1e3 * corr.min():.1f} "
          f"to {1e3 * corr.max():.1f} mV")

    for profile, T in ([(drive_cycle_profile(100), 298.15)] if FAST else
                       [(cc_profile(1.25), 298.15), (drive_cycle_profile(100), 298.15)]):
        r = compare_to_dfn(residual, profile, T)
        print(f"{profile.name} at {T} K vs DFN: SPMe RMSE {r['rmse_spme_mV']:.2f} mV, "
              f"HybridSPMe RMSE {r['rmse_hybrid_mV']:.2f} mV")
    plot_comparison(r, "battery_hybrid.png", f"{profile.name}, {T} K (held-out)")
    print("plot: battery_hybrid.png")


if __name__ == "__main__":
    main()
