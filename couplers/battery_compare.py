"""Solve a current profile with the HybridSPMe model itself and compare it with DFN and SPMe."""

from __future__ import annotations

import numpy as np

from continuum.battery_data import run_pair

from .battery import HybridSPMe, Residual


def solve_hybrid(residual, profile, temperature=298.15, parameter_set="Chen2020",
                 t_interp=None, soc0=None):
    """Solve ``profile`` (continuum.battery_data.Profile) with HybridSPMe.

    residual: Residual or path to a saved one. IDAKLU stops at the profile's
    current steps (``t_eval``); ``t_interp`` [s] is the output grid, but
    ``sol.t`` holds the stops too: read variables as ``sol[name](t)``.
    Returns (model, pybamm.Solution).
    """
    import pybamm

    values = pybamm.ParameterValues(parameter_set)
    cap = values["Nominal cell capacity [A.h]"]
    tt, cc = profile.arrays()
    values.update({"Current function [A]": pybamm.Interpolant(tt, cc * cap, pybamm.t),
                   "Ambient temperature [K]": temperature,
                   "Initial temperature [K]": temperature})
    model = HybridSPMe(residual=residual, parameter_set=parameter_set)
    soc0 = profile.meta.get("soc0", 0.95) if soc0 is None else soc0
    sol = pybamm.Simulation(model, parameter_values=values).solve(
        t_eval=profile.breakpoints(), t_interp=t_interp, initial_soc=soc0)
    return model, sol


def compare_to_dfn(residual, profile, temperature=298.15, parameter_set="Chen2020",
                   cache_dir=None):
    """DFN vs SPMe vs HybridSPMe voltage on one profile, over the time all three ran.

    Returns dict: t [s], v_dfn/v_spme/v_hybrid [V], rmse_spme_mV, rmse_hybrid_mV,
    max_spme_mV, max_hybrid_mV, out_of_range (fraction of the hybrid run
    outside the residual's training range; the correction fades there).
    """
    if not isinstance(residual, Residual):
        residual = Residual.load(residual, parameter_set)
    run = run_pair(profile, temperature, parameter_set, soc0=profile.meta.get("soc0", 0.95),
                   cache_dir=cache_dir)
    model, sol = solve_hybrid(residual, profile, temperature, parameter_set, t_interp=run["t"])
    # sol.t also holds the t_eval stops: read the hybrid on the run's grid.
    t = run["t"][run["t"] <= sol.t[-1]]
    n = len(t)
    v_h = np.ravel(sol["Voltage [V]"](t))
    v_d, v_s = run["v_dfn"][:n], run["v_spme"][:n]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frac = model.check_range(sol)
    e_h, e_s = v_h - v_d, v_s - v_d
    return dict(t=t, v_dfn=v_d, v_spme=v_s, v_hybrid=v_h,
                rmse_spme_mV=1e3 * float(np.sqrt(np.mean(e_s**2))),
                rmse_hybrid_mV=1e3 * float(np.sqrt(np.mean(e_h**2))),
                max_spme_mV=1e3 * float(np.max(np.abs(e_s))),
                max_hybrid_mV=1e3 * float(np.max(np.abs(e_h))),
                out_of_range=frac)


def plot_comparison(result, path, title=""):
    """Voltages (top) and errors vs DFN (bottom) of a ``compare_to_dfn`` result; PNG, written
    atomically. Draws on a bare ``Figure`` (no pyplot state, no backend switch)."""
    from matplotlib.figure import Figure

    from foundation.files import save_figure

    t = result["t"]
    fig = Figure(figsize=(8, 6))
    a, b = fig.subplots(2, 1, sharex=True)
    a.plot(t, result["v_dfn"], label="DFN")
    a.plot(t, result["v_spme"], label="SPMe")
    a.plot(t, result["v_hybrid"], "--", label="HybridSPMe")
    a.set_ylabel("voltage (V)")
    a.set_title(title)
    a.legend()
    b.plot(t, 1e3 * (result["v_spme"] - result["v_dfn"]), label="SPMe - DFN")
    b.plot(t, 1e3 * (result["v_hybrid"] - result["v_dfn"]), label="HybridSPMe - DFN")
    b.set_ylabel("error (mV)")
    b.set_xlabel("time (s)")
    b.legend()
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)
