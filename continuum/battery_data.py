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
  ambient temperature [K]   -- diffusivities/conductivities are Arrhenius;
  filtered C-rate, 100 s    -- first-order low-pass of the current: how long
  and 1000 s                   the present current has been flowing (the
                               "time since the last current change" as a
                               smooth model state). The through-thickness
                               reaction and stoichiometry gradients that SPMe
                               drops build up and relax on the electrolyte
                               (L^2/D_e ~ 170 s) and particle (R^2/D_s ~
                               1000 s, Chen2020 negative) time scales. They
                               are ODE states added to the model
                               (``add_feature_states``), starting at 0 (the
                               cell rested before t = 0), so the hybrid model
                               computes them itself;
  log |dU/dsto| of each       -- the OCP slope at the surface stoichiometry
  electrode                    (central difference of the parameter set's
                               own OCP function, tabulated once per
                               parameter set as a cubic pybamm.Interpolant
                               so the model evaluates a table lookup, not
                               four OCPs): the DFN - SPMe gap comes
                               from the spread of stoichiometry/reaction
                               through the thickness, which moves V by
                               dU/dsto times that spread; graphite's staging
                               plateaus make this slope vary by decades, and
                               giving it explicitly spares the network from
                               learning the OCP's fine structure.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FILTER_TAUS_S = (100.0, 1000.0)

# Solved for (cached per run); the OCP-slope features are functions of these.
BASE_FEATURE_NAMES = ("C-rate", "neg surface stoich", "pos surface stoich",
                      "electrolyte dc [mol.m-3]", "temperature [K]",
                      *(f"C-rate filtered {t:g} s" for t in FILTER_TAUS_S))
FEATURE_NAMES = (*BASE_FEATURE_NAMES, "neg log|dU/dsto|", "pos log|dU/dsto|")

_DSTO = 0.005  # central-difference step in stoichiometry

# Model variable holding each feature (added by add_feature_states).
FEATURE_VARIABLES = tuple(f"Residual feature: {n}" for n in FEATURE_NAMES)

CACHE_VERSION = 2


def _scalar(symbol):
    """Drop the 0-D current-collector domain (yz-average, an identity there).

    Domain-less (1, 1) symbols can be stacked into one vector for the
    vectorised network; with a 1-D/2-D current collector this is the
    cell-average, which is what the residual was trained on.
    """
    import pybamm

    return pybamm.yz_average(symbol) if symbol.domain == ["current collector"] else symbol


# OCP-slope table grid: for sto in [0.02, 0.98] a cubic spline on 2001 points
# is within 1e-6 (log units) of the central difference for analytic OCPs
# (4e-9 Chen2020, 1e-6 Marquis2019) and 0.02 for OKane2022, whose graphite OCP
# is itself a data table. Within ~0.01 of 0 or
# 1 the OCP asymptotes make the spline ring (errors of order 1 in the log);
# cut-off voltages keep cells out of there, and data and model read the same
# table, so they agree there too. A "linear" table would need ~20x the
# points, and casadi copies a linear table's data at every call (a 20001-point
# table tripled the cost of a voltage event); a cubic spline is a casadi
# Function holding its coefficients.
_STO_TABLE = np.linspace(0.0, 1.0, 2001)
_INTERP = "cubic"


def _central_slope(param, values, sto, T):
    """Exact central-difference OCP slopes [V] of both electrodes at (sto, T) arrays."""
    import pybamm

    s = pybamm.Vector(np.asarray(sto, float))
    out = []
    for dom in (param.n.prim, param.p.prim):
        g = (dom.U(s + _DSTO, T) - dom.U(s - _DSTO, T)) / (2 * _DSTO)
        out.append(np.ravel(values.process_symbol(g).evaluate()))
    return out


def _log_abs(g):
    # sqrt(g^2 + 1e-6) keeps the log smooth and finite where g ~ 0.
    return np.log(np.sqrt(np.square(g) + 1e-6))


@functools.lru_cache(maxsize=8)
def ocp_slope_tables(parameter_set="Chen2020"):
    """Tabulated OCP slopes of ``parameter_set`` on ``_STO_TABLE`` (cached per set).

    PyBaMM's OCP is U_ref(sto) + (T - T_ref) dUdT(sto) (+ asymptotes in sto),
    exactly linear in T, so the central-difference slope is
    g(sto, T) = a(sto) + (T - T_ref) b(sto) with a = g(., T_ref) and
    b = g(., T_ref + 1) - a. Returns {"T_ref": float, "n": (a, b), "p": (a, b)},
    b None where dUdT is zero (e.g. Chen2020): then the feature is
    tabulated directly as log|a|.
    """
    import pybamm

    values = pybamm.ParameterValues(parameter_set)
    param = pybamm.LithiumIonParameters()
    T_ref = float(values["Reference temperature [K]"])
    a = _central_slope(param, values, _STO_TABLE, pybamm.Scalar(T_ref))
    a1 = _central_slope(param, values, _STO_TABLE, pybamm.Scalar(T_ref + 1.0))
    out = {"T_ref": T_ref}
    for k, ak, ak1 in zip("np", a, a1):
        b = ak1 - ak
        out[k] = (ak, b if np.any(np.abs(b) > 1e-12 * np.max(np.abs(ak))) else None)
    return out


def ocp_slope_features(sto_n, sto_p, T, parameter_set="Chen2020"):
    """log |dU/dsto| [log(V)] of each electrode at the given stoichiometries (symbols).

    The central-difference slope of the parameter set's own OCP, read from
    linear ``pybamm.Interpolant`` tables (``ocp_slope_tables``) instead of
    four symbolic OCP evaluations: the voltage cut-off events evaluate the
    features at every solver step, and a table lookup is ~12 casadi
    instructions where the OCPs were ~135 per electrode. Accuracy: see
    ``_STO_TABLE`` (tested in tests/test_battery_hybrid.py); the data
    pipeline (``derived_features``) reads the same tables, so data and
    model agree exactly. The tables are built from the named parameter set
    when the model is built: a residual is tied to that set anyway.
    """
    import pybamm

    tab = ocp_slope_tables(parameter_set)
    out = []
    for k, sto in (("n", sto_n), ("p", sto_p)):
        a, b = tab[k]
        g = pybamm.Interpolant(_STO_TABLE, a, sto, name=f"ocp_slope_{k}", interpolator=_INTERP)
        if b is not None:
            g = g + (T - tab["T_ref"]) * pybamm.Interpolant(
                _STO_TABLE, b, sto, name=f"ocp_slope_dT_{k}", interpolator=_INTERP)
        # The log is taken after the lookup: tabulating log|g| itself would
        # smear its sharp dips where g crosses zero (interpolated OCPs).
        out.append(pybamm.log(pybamm.sqrt(g**2 + 1e-6)))
    return out


def ocp_slope_exact(sto_n, sto_p, T, parameter_set="Chen2020"):
    """The untabulated feature (central difference of the OCP), for checking the tables.

    sto_n, sto_p, T: arrays (N,). Returns (N, 2).
    """
    import pybamm

    values = pybamm.ParameterValues(parameter_set)
    param = pybamm.LithiumIonParameters()
    T = pybamm.Vector(np.asarray(T, float))
    gn = _central_slope(param, values, sto_n, T)[0]
    gp = _central_slope(param, values, sto_p, T)[1]
    return np.stack([_log_abs(gn), _log_abs(gp)], axis=1)


def derived_features(base, parameter_set="Chen2020"):
    """Numeric OCP-slope features for base feature rows (N, len(BASE_FEATURE_NAMES)) -> (N, 2).

    Evaluates the same expression (the same tables) as the model does, so
    data and model agree.
    """
    import pybamm

    base = np.asarray(base, float)
    vec = [pybamm.Vector(base[:, i]) for i in (1, 2, 4)]
    return np.stack([np.ravel(f.evaluate())
                     for f in ocp_slope_features(*vec, parameter_set=parameter_set)], axis=1)


def add_feature_states(model, parameter_set="Chen2020"):
    """Add the filtered-current ODE states and one variable per feature to ``model``.

    ``model`` is a built PyBaMM lithium-ion model (SPMe or a subclass);
    ``parameter_set`` names the OCPs the slope features are tabulated from.
    The states do not feed back into the cell equations, so the voltage is
    unchanged. Returns the list of feature symbols (domain-less, (1, 1)).
    """
    import pybamm

    v = model.variables
    c_rate = v["Current [A]"] / model.param.Q
    feats = [
        c_rate,
        v["X-averaged negative particle surface stoichiometry"],
        v["X-averaged positive particle surface stoichiometry"],
        v["X-averaged positive electrolyte concentration [mol.m-3]"]
        - v["X-averaged negative electrolyte concentration [mol.m-3]"],
        v["Volume-averaged cell temperature [K]"],
    ]
    for tau in FILTER_TAUS_S:
        f = pybamm.Variable(f"C-rate filtered {tau:g} s [-]")
        model.rhs[f] = (c_rate - f) / tau
        model.initial_conditions[f] = pybamm.Scalar(0.0)
        feats.append(f)
    feats = [_scalar(f) for f in feats]
    feats += ocp_slope_features(feats[1], feats[2], feats[4], parameter_set)
    model.variables.update(dict(zip(FEATURE_VARIABLES, feats)))
    return feats


def feature_model(parameter_set="Chen2020"):
    """A plain SPMe with the feature states and variables added (for data)."""
    import pybamm

    model = pybamm.lithium_ion.SPMe()
    add_feature_states(model, parameter_set)
    return model


@dataclass
class Profile:
    """A current profile: piecewise-constant current in C-rate.

    steps: list of (duration [s], C-rate; positive = discharge).
    """

    name: str
    steps: list
    kind: str = "cc"
    meta: dict = field(default_factory=dict)

    def breakpoints(self):
        """Times [s] where the current profile has a kink (both ends of every ramp).

        Pass these as ``t_eval`` to IDAKLU: it stops and re-initialises at
        each, so no current step is smeared or stepped over.
        """
        return self.arrays()[0]

    def arrays(self):
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


def drive_cycle_profile(seed, duration=3000.0, mean_c=0.8, max_c=2.0, regen_rests=False):
    """Synthetic drive cycle from a seeded generator (``seed`` fixes it exactly).

    ``regen_rests=False`` (the original family): a random pulse train;
    segment durations ~ U(10, 60) s; currents ~ N(mean_c, 0.7*mean_c)
    clipped to [-0.6*max_c, max_c] (negatives are regen-braking charge);
    15 % of segments are rests. Starts from 95 % SOC.

    ``regen_rests=True`` (stop-and-go trips): each trip is 1-4 driving
    segments (U(10, 60) s at N(mean_c, 0.5*mean_c) clipped to [0.1, max_c]),
    then a regen burst (U(4, 15) s of charge at U(0.15, 0.5)*max_c, i.e.
    charging current during a discharge), then a rest (zero current,
    U(10, 120) s; every fourth trip or so U(300, 600) s, a parked car).
    Starts from 75 % SOC, so regen bursts stay below the upper
    cut-off. Trips repeat until ``duration``.
    """
    rng = np.random.default_rng(seed)
    steps, t = [], 0.0
    if not regen_rests:
        while t < duration:
            d = float(rng.uniform(10, 60))
            if rng.random() < 0.15:
                c = 0.0
            else:
                c = float(np.clip(rng.normal(mean_c, 0.7 * mean_c), -0.6 * max_c, max_c))
            steps.append((d, c))
            t += d
        return Profile(f"drive_s{seed}", steps, "drive", {"seed": seed})
    while t < duration:
        trip = [(float(rng.uniform(10, 60)),
                 float(np.clip(rng.normal(mean_c, 0.5 * mean_c), 0.1, max_c)))
                for _ in range(int(rng.integers(1, 5)))]
        trip.append((float(rng.uniform(4, 15)), -float(rng.uniform(0.15, 0.5)) * max_c))
        rest = rng.uniform(300, 600) if rng.random() < 0.25 else rng.uniform(10, 120)
        trip.append((float(rest), 0.0))
        steps += trip
        t += sum(d for d, _ in trip)
    return Profile(f"drive_regen_s{seed}", steps, "drive_regen",
                   {"seed": seed, "regen_rests": True, "soc0": 0.75})


def _key(profile, temperature, parameter_set, soc0):
    payload = json.dumps([CACHE_VERSION, profile.steps, temperature, parameter_set, soc0],
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def run_pair(profile, temperature=298.15, parameter_set="Chen2020", soc0=0.95,
             cache_dir=None, dt=10.0):
    """Solve SPMe and DFN for one profile; return dict of arrays.

    Keys: t [s], features (N, len(FEATURE_NAMES)), v_spme [V], v_dfn [V], residual [V]
    (DFN - SPMe), over the time both ran; plus name/kind/temperature.
    Cached as .npz keyed by all inputs (atomic write).
    """
    cache_dir = Path(cache_dir or os.environ.get(
        "MULTISCALE_CACHE", Path.home() / ".cache" / "multiscale")) / "battery"
    key = _key(profile, temperature, parameter_set, soc0)
    path = cache_dir / f"{profile.name}_{temperature:g}_{key}.npz"
    if path.exists():
        from foundation.reading import reading

        from .errors import InputError

        # a damaged cache entry names itself (delete it to recompute) instead of a numpy traceback
        with reading(path, "battery dataset cache file (delete it to recompute)", InputError), \
                np.load(path, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
        return _finish(out, profile, temperature, parameter_set)

    import pybamm

    param = pybamm.ParameterValues(parameter_set)
    cap = param["Nominal cell capacity [A.h]"]
    tt, cc = profile.arrays()
    param.update({
        "Current function [A]": pybamm.Interpolant(tt, cc * cap, pybamm.t),
        "Ambient temperature [K]": temperature,
        "Initial temperature [K]": temperature,
    })
    # IDAKLU stops and re-initialises at every t_eval point: give it the
    # current steps (so no step is smeared) and read the grid via t_interp.
    t_stop = profile.breakpoints()
    t_grid = np.arange(0.0, t_stop[-1], dt)
    sols = {}
    for name, model in (("spme", feature_model(parameter_set)), ("dfn", pybamm.lithium_ion.DFN())):
        sim = pybamm.Simulation(model, parameter_values=param)
        sols[name] = sim.solve(t_eval=t_stop, t_interp=t_grid, initial_soc=soc0)
    t_end = min(sols["spme"].t[-1], sols["dfn"].t[-1])
    t = t_grid[t_grid <= t_end]
    s = sols["spme"]
    feats = np.stack([np.ravel(s[n](t)) for n in FEATURE_VARIABLES[:len(BASE_FEATURE_NAMES)]],
                     axis=1)
    v_s = s["Voltage [V]"](t)
    v_d = sols["dfn"]["Voltage [V]"](t)
    out = dict(t=t, features=feats, v_spme=v_s, v_dfn=v_d, residual=v_d - v_s)
    from foundation.files import atomic_path

    with atomic_path(path) as tmp:
        np.savez(tmp, **out)
    return _finish(out, profile, temperature, parameter_set)


def _finish(out, profile, temperature, parameter_set):
    """Append the derived (OCP-slope) feature columns and the run's labels."""
    base = out["features"]
    out["features"] = np.concatenate([base, derived_features(base, parameter_set)], axis=1)
    out.update(name=profile.name, kind=profile.kind, temperature=temperature)
    return out


def generate(jobs, cache_dir=None, progress=True, scheduler="threads"):
    """Run many (profile, temperature) pairs with Dask; list of run dicts (``progress``: report
    them, True/False or a callable taking ``"paired runs k/n"`` lines, see
    :func:`foundation.progress.dask_progress`)."""
    import dask

    tasks = [dask.delayed(run_pair)(p, T, soc0=p.meta.get("soc0", 0.95), cache_dir=cache_dir)
             for p, T in jobs]
    from foundation.progress import dask_progress

    # a bar on a terminal; in a log file a plain line every few seconds, not a carriage-return storm
    with dask_progress(progress, what="paired runs"):
        return list(dask.compute(*tasks, scheduler=scheduler, num_workers=2))
