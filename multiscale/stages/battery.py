"""Stage ``battery_hybrid``: learn the DFN - SPMe voltage residual and check it on a held-out drive cycle.

Paired SPMe/DFN runs (PyBaMM) over constant-current discharges/charges and
synthetic drive cycles train the residual network; the HybridSPMe PyBaMM
model carrying it then solves a drive cycle from a generator seed it never
saw, and the report compares DFN, SPMe and HybridSPMe voltages.
"""
from __future__ import annotations

from pydantic import Field

from ..config import Quantity, StageParams, stage_kind


class BatteryParams(StageParams):
    parameter_set: str = "Chen2020"
    train_c_rates: list[float] = Field(default_factory=lambda: [0.5, 1.0, 2.0], min_length=1)
    train_drive_cycle_seeds: list[int] = Field(default_factory=lambda: [0, 1])
    test_drive_cycle_seed: int = 100
    temperature: Quantity("K", gt=200, lt=400) = 298.15
    epochs: int = Field(1500, ge=10, le=1_000_000)


@stage_kind("battery_hybrid", BatteryParams)
def battery_hybrid(ctx) -> dict:
    import shutil

    import numpy as np

    from continuum.battery_data import cc_profile, drive_cycle_profile, generate
    from couplers.battery_compare import plot_comparison, solve_hybrid
    from couplers.battery_train import train_residual

    p = ctx.params
    if p.test_drive_cycle_seed in p.train_drive_cycle_seeds:
        from ..errors import InputError

        raise InputError(f"stage.{ctx.name}.test_drive_cycle_seed: {p.test_drive_cycle_seed}: "
                         "must not be one of train_drive_cycle_seeds (held-out means unseen)")
    T = p.temperature
    train = ([(cc_profile(c), T) for c in p.train_c_rates] + [(cc_profile(-1.0), T)]
             + [(drive_cycle_profile(s), T) for s in p.train_drive_cycle_seeds])
    ctx.progress(f"{len(train) + 1} paired SPMe/DFN runs")
    runs = generate(train + [(drive_cycle_profile(p.test_drive_cycle_seed), T)],
                    cache_dir=ctx.dir / "cache", progress=ctx.progress)
    held_out = runs[-1]
    ctx.progress("training the residual")
    # A handful of runs at one temperature: a small net, Adam only (the
    # L-BFGS polish overfits sparse data; see train_residual).
    residual, _ = train_residual(runs[:-1], parameter_set=p.parameter_set, seed=ctx.seed,
                                 hidden=(16, 16), epochs=p.epochs, lr=3e-3,
                                 progress=ctx.progress)
    residual.save(ctx.dir / "residual.json")
    # Solve the held-out cycle with the PyBaMM model itself, not just the network.
    _, sol = solve_hybrid(residual, drive_cycle_profile(p.test_drive_cycle_seed), T,
                          p.parameter_set, t_interp=held_out["t"])
    # sol.t also holds the t_eval stops: read the hybrid on the held-out grid.
    t = held_out["t"][held_out["t"] <= sol.t[-1]]
    n = len(t)
    v_h = np.ravel(sol["Voltage [V]"](t))
    v_d, v_s = held_out["v_dfn"][:n], held_out["v_spme"][:n]
    rmse_h = float(np.sqrt(np.mean((v_h - v_d) ** 2)) * 1e3)
    rmse_s = float(np.sqrt(np.mean((v_s - v_d) ** 2)) * 1e3)
    plot_comparison({"t": t, "v_dfn": v_d, "v_spme": v_s, "v_hybrid": v_h}, ctx.dir / "drive_cycle.png")
    shutil.rmtree(ctx.dir / "cache", ignore_errors=True)  # the stage cache supersedes it
    return {"residual": "residual.json", "rmse_hybrid_mV": rmse_h, "rmse_spme_mV": rmse_s,
            "figures": ["drive_cycle.png"],
            "headline": {"held-out drive cycle vs DFN": f"HybridSPMe RMSE {rmse_h:.2f} mV "
                                                        f"(SPMe alone {rmse_s:.2f} mV)"}}
