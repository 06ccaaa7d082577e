"""couplers.battery: learned SPMe -> DFN voltage residual as a PyBaMM model.

``Residual`` holds a trained MLP (float64 weights), feature scaling, training
ranges and the parameter-set name. ``HybridSPMe`` is an SPMe whose
"Voltage [V]" = SPMe voltage + bounded, range-guarded MLP correction, built
from PyBaMM symbols (pybamm.Matrix weights, pybamm.tanh), so Simulation,
Experiment, voltage cut-off events and all solvers see the corrected voltage.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass

import numpy as np

from continuum.battery_data import FEATURE_NAMES, FEATURE_VARIABLES, add_feature_states

from .errors import InputError


class ParameterSetMismatch(InputError):
    """A residual trained for one parameter set applied to another."""


@dataclass
class Residual:
    """Trained residual network (tanh MLP) and everything needed to apply it.

    weights/biases: lists of float64 arrays, layer k maps (n_k,) -> (n_{k+1},).
    mean/scale: feature standardisation, shape (n_features,). lo/hi: training
    ranges (n_features,), in feature units (FEATURE_NAMES order).
    bound_V: |correction| <= bound_V [V]. out_scale: residual scale [V].
    """

    weights: list
    biases: list
    mean: np.ndarray
    scale: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    parameter_set: str
    out_scale: float = 0.01
    bound_V: float = 0.05

    @classmethod
    def zero(cls, parameter_set="Chen2020"):
        n = len(FEATURE_NAMES)
        return cls([np.zeros((1, n))], [np.zeros(1)], np.zeros(n), np.ones(n),
                   np.full(n, -np.inf), np.full(n, np.inf), parameter_set)

    # numpy forward: (N, n_features) -> (N,) [V], without guard/bound
    def raw_numpy(self, x):
        h = (np.asarray(x, float) - self.mean) / self.scale
        for k, (W, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ W.T + b
            if k < len(self.weights) - 1:
                h = np.tanh(h)
        return h[:, 0] * self.out_scale

    def fade_numpy(self, x):
        """Smooth fade weight in [0, 1]: 1 inside training ranges."""
        z = (np.asarray(x, float) - self.mean) / self.scale
        lo = (self.lo - self.mean) / self.scale
        hi = (self.hi - self.mean) / self.scale
        d2 = np.maximum(z - hi, 0) ** 2 + np.maximum(lo - z, 0) ** 2
        return np.exp(-d2.sum(axis=1) / self.FADE_WIDTH**2)

    FADE_WIDTH = 0.25  # in standardised units: fully faded ~0.5 sigma outside

    def correction_numpy(self, x):
        r = self.raw_numpy(x)
        return self.bound_V * np.tanh(r / self.bound_V) * self.fade_numpy(x)

    def out_of_range(self, x):
        x = np.asarray(x, float)
        return np.any((x < self.lo) | (x > self.hi), axis=1)

    def symbols(self, feats):
        """PyBaMM expression (shape (1, 1)) of the guarded correction [V].

        feats: domain-less (1, 1) feature symbols in FEATURE_NAMES order.
        The voltage cut-off events evaluate this at every solver step, each
        event as its own casadi function, and the casadi virtual machine
        pays per instruction (~0.1 us, scalar or 48-vector alike), so the
        expression is kept to a few instructions: the features are stacked
        into one (n, 1) vector, each layer is one ``pybamm.Matrix @ h + pybamm.Vector`` with an
        element-wise ``pybamm.tanh``, 1 / scale is folded into the first
        layer and out_scale / bound_V into the last, and the fade reuses the
        centred features with pre-scaled constants. Same function
        as ``correction_numpy`` up to rounding.
        """
        import pybamm

        n = len(feats)
        x = pybamm.Function(_stack, *feats, name="residual feature stack")
        # Centre first (exact for a feature that was constant in training,
        # whose scale may be ~1e-12), then fold 1/scale into the first layer.
        xm = x - pybamm.Vector(self.mean)
        inv = 1.0 / self.scale
        last = len(self.weights) - 1
        h = xm
        for k, (W, b) in enumerate(zip(self.weights, self.biases)):
            W, b = np.asarray(W, float), np.asarray(b, float)
            if k == 0:  # W ((x - mean) / scale) + b
                W = W * inv
            if k == last:  # bound * tanh(out_scale * raw / bound)
                W, b = W * (self.out_scale / self.bound_V), b * (self.out_scale / self.bound_V)
            h = pybamm.tanh(pybamm.Matrix(W) @ h + pybamm.Vector(b))
        out = self.bound_V * h
        lo, hi = self.lo, self.hi
        if not (np.all(np.isinf(lo)) and np.all(np.isinf(hi))):
            # Distance outside [lo, hi] per feature: max(|x - c| - r, 0), c and r
            # the box centre and half-width (relative to mean). An unbounded
            # side gets a finite stand-in 1e6 sigma out (never reached).
            far = 1e6 * self.scale
            lo = np.where(np.isfinite(lo), lo, self.mean - far) - self.mean
            hi = np.where(np.isfinite(hi), hi, self.mean + far) - self.mean
            c, r = (hi + lo) / 2, (hi - lo) / 2
            u = pybamm.maximum(pybamm.AbsoluteValue(xm - pybamm.Vector(c)) - pybamm.Vector(r), 0)
            # exp(-sum((u / scale)^2) / FADE_WIDTH^2) as one row-vector product.
            wts = -(inv / self.FADE_WIDTH) ** 2
            out = out * pybamm.exp(pybamm.Matrix(wts.reshape(1, n)) @ (u**2))
        return out

    def to_dict(self):
        return dict(weights=[w.tolist() for w in self.weights],
                    biases=[b.tolist() for b in self.biases],
                    mean=self.mean.tolist(), scale=self.scale.tolist(),
                    lo=self.lo.tolist(), hi=self.hi.tolist(),
                    parameter_set=self.parameter_set, out_scale=self.out_scale,
                    bound_V=self.bound_V, features=list(FEATURE_NAMES))

    def save(self, path):
        """Write the model as JSON (atomically, see ``foundation.files``)."""
        from foundation.files import write_text

        write_text(path, json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path, parameter_set=None):
        """A residual saved by :meth:`save`; a file that is missing, not JSON, lacks an entry or
        holds NaN weights raises InputError naming it (``foundation.reading``)."""
        from foundation.reading import reading

        with reading(path, "battery residual file", InputError) as p:
            d = json.loads(p.read_bytes().decode("utf-8"))
            if not isinstance(d, dict):
                raise InputError(f"{path}: a {type(d).__name__}; expected a residual saved by "
                                 "Residual.save")
            arrays = {k: np.asarray(d[k], dtype=float) for k in ("mean", "scale", "lo", "hi")}
            layers = [[np.asarray(w, dtype=float) for w in d[k]] for k in ("weights", "biases")]
            scalars = (d["parameter_set"], float(d["out_scale"]), float(d["bound_V"]))
        # lo/hi may be infinite (an unbounded feature); the network's numbers must be finite
        if not all(np.all(np.isfinite(a)) for a in [arrays["mean"], arrays["scale"], *layers[0],
                                                      *layers[1]]):
            raise InputError(f"{path}: NaN or infinite weights in the battery residual; retrain it")
        if d.get("features") != list(FEATURE_NAMES):
            raise InputError(
                f"residual in {path}: features {d.get('features')} != this version's "
                f"{list(FEATURE_NAMES)}; retrain it")
        if parameter_set is not None and d["parameter_set"] != parameter_set:
            raise ParameterSetMismatch(
                f"residual in {path} was trained for parameter set "
                f"{d['parameter_set']!r}, not {parameter_set!r}; retrain it for "
                f"{parameter_set!r}")
        return cls(layers[0], layers[1], arrays["mean"], arrays["scale"], arrays["lo"], arrays["hi"],
                   *scalars)


def _stack(*xs):
    """Stack (1, 1) features into an (n, 1) column: one casadi vertcat, or numpy.

    Used through ``pybamm.Function`` (the discretisation has no handler for a
    concatenation of domain-less symbols); the sum of unit vectors times
    features it replaces cost 3n casadi instructions in every event call.
    """
    import casadi

    if isinstance(xs[0], (casadi.MX, casadi.SX, casadi.DM)):
        return casadi.vertcat(*xs)
    return np.concatenate([np.reshape(v, (1, -1)) for v in xs], axis=0)


def _import_pybamm():
    import pybamm

    return pybamm


def _make_class():
    pybamm = _import_pybamm()

    class HybridSPMe(pybamm.lithium_ion.SPMe):
        """SPMe + learned voltage correction toward DFN.

        Parameters: options (not mutated), name, residual (Residual or path;
        None = zero correction), parameter_set (checked against the residual),
        voltage_events: "combined" (default) puts both voltage limits in one
        termination event min(V - V_low, V_high - V) named "Minimum voltage
        [V]", so the correction is evaluated once per solver step instead of
        once per event (see docs/battery.md, Speed; ratios there are like for
        like: SPMe given the same one event). The
        name is PyBaMM's, so ``pybamm.Experiment`` moves this safety event
        1 V out of the way of its own cut-offs as it does for SPMe (min(a, b)
        + 1 = min(a + 1, b + 1)); the price is that a plain solve ending at
        the *upper* limit reports "event: Minimum voltage [V]":
        ``model.termination(solution)`` names the limit reached.
        "separate" keeps PyBaMM's two events and names.
        Variables added: "SPMe voltage [V]", "Voltage correction [V]",
        "Lower/Upper voltage cut-off [V]" and one "Residual feature: <name>"
        per feature (FEATURE_VARIABLES); two
        ODE states (filtered C-rate) that do not feed back into the cell.
        """

        def __init__(self, options=None, name="HybridSPMe", build=True,
                     residual=None, parameter_set="Chen2020", voltage_events="combined"):
            if voltage_events not in ("combined", "separate"):
                raise InputError(f"voltage_events={voltage_events!r}: use 'combined' "
                                 "(one cut-off event, the correction evaluated once "
                                 "per step) or 'separate' (PyBaMM's two events)")
            self.voltage_events = voltage_events
            if isinstance(residual, (str, os.PathLike)):
                residual = Residual.load(residual, parameter_set)
            elif residual is None:
                residual = Residual.zero(parameter_set)
            elif residual.parameter_set != parameter_set:
                raise ParameterSetMismatch(
                    f"residual was trained for {residual.parameter_set!r}, "
                    f"not {parameter_set!r}")
            self.residual = residual
            self.parameter_set_name = parameter_set
            opts = dict(options) if options else None  # never mutate caller's dict
            super().__init__(opts, name, build=build)

        @property
        def default_parameter_values(self):
            # The residual was trained for one parameter set; a Simulation
            # built without parameter_values must use it (SPMe's default is
            # Marquis2019, whose cell the residual knows nothing about).
            return pybamm.ParameterValues(self.parameter_set_name)

        def check_range(self, solution):
            """Warn (and return the fraction) where a solution left the training range.

            There the correction fades smoothly to zero, i.e. back to SPMe.
            """
            x = np.stack([np.ravel(solution[n].entries) for n in FEATURE_VARIABLES], axis=1)
            frac = float(np.mean(self.residual.out_of_range(x)))
            if frac > 0:
                warnings.warn(f"HybridSPMe: {100 * frac:.1f}% of the solution lies outside "
                              "the residual's training range; the correction fades to "
                              "zero there (plain SPMe)", stacklevel=2)
            return frac

        def build_model(self):
            super().build_model()
            self._add_correction()

        def _add_correction(self):
            v = self.variables["Voltage [V]"]
            feats = add_feature_states(self, self.parameter_set_name)  # ODEs + feature variables
            corr = self.residual.symbols(feats)
            v_h = v + corr
            self.variables.update({
                "SPMe voltage [V]": v,
                "Voltage correction [V]": corr,
                "Voltage [V]": v_h,
                "Battery voltage [V]": v_h * self.param.n_cells,
                "Lower voltage cut-off [V]": self.param.voltage_low_cut,
                "Upper voltage cut-off [V]": self.param.voltage_high_cut,
            })
            # Voltage cut-off events (and the switch events of the casadi
            # solver's "fast with events" mode) must see the corrected voltage:
            # each is +-(V - limit), so adding +-corr swaps V for V + corr.
            sign = {"Minimum voltage [V]": 1, "Maximum voltage [V]": -1,
                    "Minimum voltage switch [V]": 1, "Maximum voltage switch [V]": 1}
            # The cut-off events are evaluated at every solver step; they run the network
            # only where a limit is within its reach (see _reach_gate).
            by_name = {ev.name: ev for ev in self.events}
            gated = corr
            if _MIN_V in by_name and _MAX_V in by_name:
                gated = _reach_gate(by_name[_MIN_V].expression, by_name[_MAX_V].expression,
                                    corr, self.residual.bound_V)
            events = [
                pybamm.Event(ev.name, ev.expression + sign[ev.name] * (
                    gated if ev.name in (_MIN_V, _MAX_V) else corr), ev.event_type)
                if ev.name in sign else ev for ev in self.events]
            if self.voltage_events == "combined":
                events = _combine_cutoff_events(pybamm, events)
            self.events = events

        def termination(self, solution):
            """``solution.termination`` with the voltage limit actually reached.

            With ``voltage_events="combined"`` one event stands for both
            limits under PyBaMM's name "Minimum voltage [V]"; this tells an
            upper cut-off ("event: Maximum voltage [V]") from a lower one by
            the final voltage's distance to each limit.
            """
            term = solution.termination
            if self.voltage_events != "combined" or term != f"event: {_MIN_V}":
                return term
            v = float(np.ravel(solution["Voltage [V]"].entries)[-1])
            lo = float(np.ravel(solution["Lower voltage cut-off [V]"].entries)[-1])
            hi = float(np.ravel(solution["Upper voltage cut-off [V]"].entries)[-1])
            return f"event: {_MIN_V if abs(v - lo) <= abs(hi - v) else _MAX_V}"

    return HybridSPMe


_MIN_V, _MAX_V = "Minimum voltage [V]", "Maximum voltage [V]"


def _gate(margin, corr):
    """0 where ``margin`` > 0, else ``corr``; in casadi only the branch taken is evaluated."""
    import casadi

    if isinstance(margin, (casadi.MX, casadi.SX)):
        return casadi.if_else(margin > 0, 0, corr, True)
    return np.where(margin > 0, 0.0, corr)


def _reach_gate(low_event, high_event, corr, bound_V):
    """The correction as the cut-off events need it: evaluated only when a limit is within reach.

    low_event, high_event: SPMe's own V - V_low and V_high - V [V]. |corr| < bound_V
    always (bound * tanh * fade), so while both exceed bound_V the corrected events
    V + corr - V_low and V_high - V - corr are positive whatever corr is: no root lies
    there and 0 stands in for corr (IDAKLU looks only for sign changes, and the events
    then stay above bound_V). Within bound_V of a limit the events are exactly the
    corrected ones, so every root, and where the solver places it, is unchanged.
    casadi's short-circuit ``if_else`` skips the network on the far side: for most of a
    discharge the events cost what SPMe's do. The "Voltage [V]" variable is not gated.
    """
    import pybamm

    margin = pybamm.minimum(low_event, high_event) - pybamm.Scalar(bound_V)
    return pybamm.Function(_gate, margin, corr, name="correction within cut-off reach")


def _combine_cutoff_events(pybamm, events):
    """Replace the two voltage cut-off events by one: min(V - V_low, V_high - V).

    IDAKLU evaluates each termination event as its own casadi function at
    every step, so two events compute the SPMe voltage and the correction
    twice; inside one expression casadi shares them. PyBaMM combines an
    experiment's step terminations the same way (``Combined termination
    [experiment]``).
    """
    by_name = {ev.name: ev for ev in events}
    lo, hi = by_name.get(_MIN_V), by_name.get(_MAX_V)
    if lo is None or hi is None:
        return events
    both = pybamm.Event(_MIN_V, pybamm.minimum(lo.expression, hi.expression), lo.event_type)
    return [both if ev is lo else ev for ev in events if ev is not hi]


def combine_voltage_events(model):
    """Give any built PyBaMM battery model the one combined voltage cut-off event.

    The same layout as ``HybridSPMe(voltage_events="combined")``:
    "Minimum voltage [V]" becomes min(V - V_low, V_high - V) and "Maximum
    voltage [V]" goes. For like-for-like timings (SPMe or DFN with the
    hybrid's event layout). Changes ``model.events`` in place, returns ``model``.
    """
    model.events = _combine_cutoff_events(_import_pybamm(), model.events)
    return model


_CLS = None


def __getattr__(name):
    global _CLS
    if name == "HybridSPMe":
        if _CLS is None:
            _CLS = _make_class()
        return _CLS
    raise AttributeError(name)
