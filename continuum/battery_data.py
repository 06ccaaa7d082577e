"""Paired SPMe/DFN runs for learning the SPMe -> DFN voltage residual.

Plain PyBaMM; no torch. A *run* is one current profile (A, positive =
discharge, PyBaMM's sign) at one ambient temperature, solved with SPMe and
DFN on the same time grid. Both models are compared only over the time both
actually ran (``solution.termination`` differs at high C-rate).

Features (why each carries the physics of the SPMe error):
  current [C-rate]          -- the error grows with current (electrolyte/
                               solid-phase gradients SPMe linearises);
  neg/pos surface stoich.   -- OCP slope and exchange-current magnitude set
                               how sensitive V is to the neglected
                               through-thickness reaction distribution;
  electrolyte delta c       -- x-averaged c_e(pos) - c_e(neg) [mol/m3],
                               SPMe's own electrolyte polarisation state,
                               which lags current changes (memory);
  ambient temperature [K]   -- diffusivities/conductivities are Arrhenius.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FEATURE_NAMES = ("C-rate", "neg surface stoich", "pos surface stoich",
                 "electrolyte dc [mol.m-3]", "temperature [K]")

CACHE_VERSION = 1


def feature_symbols(variables, nominal_capacity_Ah):
    """PyBaMM expressions of the features from a model's variables dict."""
    import pybamm  # noqa: F401  (engine)

    return [
        variables["Current [A]"] / nominal_capacity_Ah,
        variables["X-averaged negative particle surface stoichiometry"],
        variables["X-averaged positive particle surface stoichiometry"],
        variables["X-averaged positive electrolyte concentration [mol.m-3]"]
        - variables["X-averaged negative electrolyte concentration [mol.m-3]"],
        variables["Volume-averaged cell temperature [K]"],
    ]


@dataclass
class Profile:
    """A current profile: piecewise-constant current in C-rate.

    steps: list of (duration [s], C-rate; positive = discharge).
    """

    name: str
    steps: list
    kind: str = "cc"
    meta: dict = field(default_factory=dict)

    def arrays(self, dt=10.0):
        t, c = [0.0], [self.steps[0][1]]
        t0 = 0.0
        for dur, rate in self.steps:
            # Short linear ramps (1 s) keep the interpolant well-posed.
            t += [t0 + 1e-3, t0 + dur]
            c += [rate, rate]
            t0 += dur
        return np.array(t), np.array(c)


def cc_profile(c_rate, hours=None):
    """Constant current (C-rate > 0 discharge from 95 % SOC, < 0 charge from 10 %)."""
    dur = 3600.0 / abs(c_rate) * 0.98 if hours is None else hours * 3600
    soc0 = 0.95 if c_rate > 0 else 0.10
    return Profile(f"cc_{c_rate:g}C", [(dur, c_rate)], "cc", {"c_rate": c_rate, "soc0": soc0})


def pulse_profile(c_rate, n=6, on=300.0, off=600.0):
    steps = []
    for _ in range(n):
        steps += [(on, c_rate), (off, 0.0)]
    return Profile(f"pulse_{c_rate:g}C", steps, "pulse", {"c_rate": c_rate})


def drive_cycle_profile(seed, duration=3000.0, mean_c=0.8, max_c=2.0):
    """Synthetic drive cycle: random pulse train.

    Statistics: segment durations ~ U(10, 60) s; currents ~ N(mean_c, 0.7*mean_c)
    clipped to [-0.6*max_c, max_c] (negatives are regen-braking charge);
    15 % of segments are rests.
    """
    rng = np.random.default_rng(seed)
    steps, t = [], 0.0
    while t < duration:
        d = float(rng.uniform(10, 60))
        if rng.random() < 0.15:
            c = 0.0
        else:
            c = float(np.clip(rng.normal(mean_c, 0.7 * mean_c), -0.6 * max_c, max_c))
        steps.append((d, c))
        t += d
    return Profile(f"drive_s{seed}", steps, "drive", {"seed": seed})


def _key(profile, temperature, parameter_set, soc0):
    payload = json.dumps([CACHE_VERSION, profile.steps, temperature, parameter_set, soc0],
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def run_pair(profile, temperature=298.15, parameter_set="Chen2020", soc0=0.95,
             cache_dir=None, dt=10.0):
    """Solve SPMe and DFN for one profile; return dict of arrays.

    Keys: t [s], features (N, 5), v_spme [V], v_dfn [V], residual [V]
    (DFN - SPMe), over the time both ran; plus name/kind/temperature.
    Cached as .npz keyed by all inputs (atomic write).
    """
    cache_dir = Path(cache_dir or os.environ.get(
        "MULTISCALE_CACHE", Path.home() / ".cache" / "multiscale")) / "battery"
    key = _key(profile, temperature, parameter_set, soc0)
    path = cache_dir / f"{profile.name}_{temperature:g}_{key}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
        out.update(name=profile.name, kind=profile.kind, temperature=temperature)
        return out

    import pybamm

    param = pybamm.ParameterValues(parameter_set)
    cap = param["Nominal cell capacity [A.h]"]
    tt, cc = profile.arrays()
    param.update({
        "Current function [A]": pybamm.Interpolant(tt, cc * cap, pybamm.t),
        "Ambient temperature [K]": temperature,
        "Initial temperature [K]": temperature,
    })
    t_eval = np.arange(0.0, tt[-1], dt)
    sols = {}
    for name, model in (("spme", pybamm.lithium_ion.SPMe()), ("dfn", pybamm.lithium_ion.DFN())):
        sim = pybamm.Simulation(model, parameter_values=param)
        sols[name] = sim.solve(t_eval=t_eval, t_interp=t_eval, initial_soc=soc0)
    t_end = min(sols["spme"].t[-1], sols["dfn"].t[-1])
    t = t_eval[t_eval <= t_end]
    s = sols["spme"]
    feats = np.stack([
        s["Current [A]"](t) / cap,
        s["X-averaged negative particle surface stoichiometry"](t),
        s["X-averaged positive particle surface stoichiometry"](t),
        s["X-averaged positive electrolyte concentration [mol.m-3]"](t)
        - s["X-averaged negative electrolyte concentration [mol.m-3]"](t),
        s["Volume-averaged cell temperature [K]"](t),
    ], axis=1)
    v_s = s["Voltage [V]"](t)
    v_d = sols["dfn"]["Voltage [V]"](t)
    out = dict(t=t, features=feats, v_spme=v_s, v_dfn=v_d, residual=v_d - v_s)
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".npz")
    os.close(fd)
    np.savez(tmp, **out)
    os.replace(tmp, path)
    out.update(name=profile.name, kind=profile.kind, temperature=temperature)
    return out


def generate(jobs, cache_dir=None, progress=True, scheduler="threads"):
    """Run many (profile, temperature) pairs with Dask; list of run dicts."""
    import dask

    tasks = [dask.delayed(run_pair)(p, T, soc0=p.meta.get("soc0", 0.95), cache_dir=cache_dir)
             for p, T in jobs]
    if progress:
        from dask.diagnostics import ProgressBar

        with ProgressBar():
            return list(dask.compute(*tasks, scheduler=scheduler, num_workers=2))
    return list(dask.compute(*tasks, scheduler=scheduler, num_workers=2))
