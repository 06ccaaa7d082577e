"""The electrified interface: adsorbate dipoles and the double layer, solved together.

At electrode potential U (V vs the bulk electrolyte; U = 0 is the potential
of zero charge of the bare electrode) the loop is

    chi -> Poisson-Boltzmann(U, dipole_jump=chi) -> sigma, field E at the surface
        -> coverage theta from the adsorption isotherm with the field-dependent
           adsorption energy -> depolarised dipole mu(theta, E)
        -> Helmholtz work-function shift Delta Phi(theta, E) = chi -> ...

until theta and chi stop changing (Anderson-accelerated damped fixed point;
``ConvergenceError`` with the residual history when it does not). The
double layer is ``continuum.double_layer.solve_double_layer``; its
``dipole_jump`` chi is the work-function shift in V: behind an outward
dipole layer the double layer sees U - chi, so the potential of zero charge
moves with the work function.

Isotherm (Frumkin, with the dipole lattice as the lateral interaction):

    theta / (1 - theta) = a exp(-G(theta, E, U) / kT),
    G = G0 + d(theta W)/d theta (theta, E) + g theta - gamma e U,

with W the dipole-lattice energy per adsorbate (``atomistic.interface.dipole_layer``):
its zero-coverage limit is the Stark energy -mu0 E - alpha E^2 / 2, so the
adsorption energy depends on the field exactly as the Stark fit says.
Where this mean-field isotherm has several solutions (attraction beyond
-4 kT: the layer phase-separates) it is undefined, and the loop refuses
with ``InputError`` naming the potential; so does a surface field outside
the Stark fit's range.

Differential capacitance C(U) = d sigma / d U of the converged interface
comes from a cubic smoothing spline of sigma(U) (residuals at the loop's noise level) and its
derivative, per committee member; the spread of the members gives the band,
and ``held_out_calibration`` checks it by predicting each member from the
others (committees: ``couplers.interface_committee``; the handoff file and the
figure: ``couplers.interface_report``).

Units: potentials V, charges C/m^2, capacitance F/m^2, fields V/m in the
continuum and V/Angstrom at the atomistic side (converted here, once),
energies eV, dipoles e*Angstrom.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from atomistic.interface.dipole_layer import DipoleLayer
from continuum import errors as continuum_errors

from .errors import ConvergenceError, InputError

K_B_EV = 8.617333262e-5  # eV/K
V_PER_M_TO_V_PER_A = 1e-10


@dataclass(frozen=True)
class Adsorbate:
    """One adsorbate species on the electrode.

    layer: its dipole lattice (mu0 e*A, alpha A^3, site lattice; see DipoleLayer);
    adsorption_energy: G0, eV, at zero coverage and zero field vs the
      dissolved species at unit activity (negative favours adsorption);
    activity: a, dimensionless (c / c_ref) of the dissolved species;
    frumkin: g, eV per unit coverage, lateral interaction beyond the dipoles
      (negative = attraction);
    electrosorption_valency: gamma, G falls by gamma e U (partial charge
      transfer; 0 for a purely field-driven adsorbate);
    max_field: V/A, the largest |field| the Stark fit behind mu0/alpha covers
      (None: no limit);
    dipole_permittivity: relative permittivity screening the dipole layer's
      potential step (1 when mu already is the dipole in the medium).
    """

    layer: DipoleLayer
    adsorption_energy: float
    activity: float = 1.0
    frumkin: float = 0.0
    electrosorption_valency: float = 0.0
    max_field: float | None = None
    dipole_permittivity: float = 1.0

    def __post_init__(self):
        for name in ("adsorption_energy", "frumkin", "electrosorption_valency"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v):
                raise InputError(f"{name} = {v!r}; expected a finite number")
        if not (isinstance(self.activity, (int, float)) and math.isfinite(self.activity) and self.activity > 0):
            raise InputError(f"activity = {self.activity!r}; expected a finite number > 0")
        if self.max_field is not None and not self.max_field > 0:
            raise InputError(f"max_field = {self.max_field!r}; expected > 0 V/A or None")
        if not (math.isfinite(self.dipole_permittivity) and self.dipole_permittivity >= 1):
            raise InputError(f"dipole_permittivity = {self.dipole_permittivity!r}; expected >= 1")

    @classmethod
    def from_stark(cls, stark, site_vectors, adsorption_energy: float, *, scaling: str = "ordered",
                   **kwargs) -> "Adsorbate":
        """Build from an ``atomistic.interface.stark.StarkFit`` of the adsorption energy vs field."""
        layer = DipoleLayer(stark.mu, stark.alpha_volume, site_vectors, scaling)
        return cls(layer, adsorption_energy, max_field=stark.max_field, **kwargs)

    def with_parameters(self, *, mu0=None, alpha=None, **kwargs) -> "Adsorbate":
        """A copy with other mu0 / alpha (e.g. one committee member's) or other fields."""
        layer = self.layer.with_parameters(self.layer.mu0 if mu0 is None else mu0,
                                           self.layer.alpha if alpha is None else alpha)
        return replace(self, layer=layer, **kwargs)

    def free_energy(self, theta, field, potential):
        """G(theta, E, U), eV: the differential adsorption free energy (field in V/A)."""
        self._check_field(field, potential)
        return (self.adsorption_energy + self.layer.differential_energy(theta, field)
                + self.frumkin * np.asarray(theta) - self.electrosorption_valency * potential)

    def _check_field(self, field, potential):
        if self.max_field is not None and abs(field) > self.max_field:
            raise InputError(
                f"surface field {field:.4g} V/A at U = {potential:.4g} V is too large for the fitted "
                f"Stark polynomial (fitted for |E| <= {self.max_field:.4g} V/A); narrow the potential "
                "window or refit the Stark response with larger fields")

    def coverage(self, field: float, potential: float, temperature: float) -> float:
        """Equilibrium theta at surface field ``field`` (V/A), potential U (V), temperature (K).

        InputError when the isotherm has more than one solution (undefined:
        phase coexistence) or the field is outside the Stark fit.
        """
        kt = K_B_EV * temperature
        # logit grid: f is dense near theta -> 0 and 1 where the log terms dominate
        s = np.linspace(-60.0, 60.0, 1201)
        theta = 1.0 / (1.0 + np.exp(-s))
        f = s - math.log(self.activity) + self.free_energy(theta, field, potential) / kt
        sign = np.sign(f)
        changes = np.nonzero(sign[:-1] * sign[1:] < 0)[0]
        exact = np.nonzero(sign == 0)[0]
        if len(changes) + len(exact) == 0:
            raise InputError(f"isotherm has no solution with 0 < theta < 1 at U = {potential:.4g} V "
                             f"(G ranges {f.min() * kt:.3g}..{f.max() * kt:.3g} eV); check adsorption_energy")
        if len(changes) + len(exact) > 1:
            raise InputError(
                f"isotherm undefined at U = {potential:.4g} V: {len(changes) + len(exact)} coverages satisfy it "
                f"(lateral attraction, frumkin = {self.frumkin:g} eV, beyond -4 kT makes the mean-field layer "
                "phase-separate); restrict the potential window to where it is single-valued")
        if len(exact):
            return float(theta[exact[0]])
        from scipy.optimize import brentq

        i = int(changes[0])

        def g(x):
            t = 1.0 / (1.0 + math.exp(-x))
            return x - math.log(self.activity) + float(self.free_energy(t, field, potential)) / kt

        root = brentq(g, s[i], s[i + 1], xtol=1e-13)
        return 1.0 / (1.0 + math.exp(-root))


@dataclass(frozen=True)
class InterfaceState:
    """The converged interface at one potential.

    potential U (V); coverage theta; dipole mu (e*A, depolarised, in the
    field); dipole_jump chi (V, = work-function shift in eV);
    surface_charge sigma (C/m^2); surface_field (V/m, in the Stern layer);
    fixed_layer_capacitance: dsigma/dU at frozen chi (F/m^2, the double
    layer's own tangent); iterations; history: per iteration
    (theta, chi, |theta residual|, |chi residual| V).
    """

    potential: float
    coverage: float
    dipole: float
    dipole_jump: float
    surface_charge: float
    surface_field: float
    fixed_layer_capacitance: float
    iterations: int
    history: tuple = field(default=(), repr=False)


def _solver_default():
    from continuum.double_layer import solve_double_layer

    return solve_double_layer


def solve_interface(potential: float, adsorbate: Adsorbate, electrolyte: dict, *,
                    initial: tuple[float, float] | None = None, damping: float = 0.5,
                    tol_coverage: float = 1e-7, tol_potential: float = 1e-7, max_iterations: int = 30,
                    double_layer: Callable | None = None) -> InterfaceState:
    """Self-consistent adsorbate layer + double layer at electrode potential ``potential`` (V).

    electrolyte: keyword arguments of ``continuum.double_layer.solve_double_layer``
    (concentrations, valences, permittivity, temperature, stern_*, ion_size, ...);
    initial: (theta, chi) to start from (continuation along a sweep);
    damping: mixing of the first step and after a restart (0 < damping <= 1);
    double_layer: a solver with solve_double_layer's signature (default that one).

    Raises ConvergenceError (with the residual history) after max_iterations,
    InputError where the isotherm is undefined or the field leaves the Stark fit.
    """
    if not 0 < damping <= 1:
        raise InputError(f"damping = {damping!r}; expected 0 < damping <= 1")
    if max_iterations < 1:
        raise InputError(f"max_iterations = {max_iterations!r}; expected >= 1")
    solve = double_layer or _solver_default()
    temperature = float(electrolyte.get("temperature", 298.15))
    vt = K_B_EV * temperature  # scale chi by kT/e so both unknowns are O(1)

    def step(x):
        theta, chi = x[0], x[1] * vt
        try:
            dl = solve(potential, dipole_jump=chi, **electrolyte)
        except continuum_errors.InputError as exc:  # one error tree for callers of the coupler
            raise InputError(f"electrolyte: {exc}") from exc
        except continuum_errors.ConvergenceError as exc:
            raise ConvergenceError(f"double layer at U = {potential:.4g} V, chi = {chi:.4g} V: {exc}") from exc
        e_field = dl.surface_field * V_PER_M_TO_V_PER_A
        theta_new = adsorbate.coverage(e_field, potential, temperature)
        chi_new = float(adsorbate.layer.work_function_shift(
            theta_new, e_field, relative_permittivity=adsorbate.dipole_permittivity))
        return np.array([theta_new, chi_new / vt]), dl, e_field

    if initial is None:
        gx, dl, _ = step(np.array([0.0, 0.0]))
        x = gx  # one plain pass gives a physical start (the bare-electrode isotherm); counted below
        first = 1
    else:
        x = np.array([float(initial[0]), float(initial[1]) / vt])
        first = 0
    history = []
    dx_hist, dr_hist = [], []
    prev = None
    beta = damping
    for it in range(1 + first, max_iterations + 1):
        gx, dl, e_field = step(x)
        r = gx - x
        history.append((float(x[0]), float(x[1] * vt), abs(float(r[0])), abs(float(r[1] * vt))))
        if abs(r[0]) < tol_coverage and abs(r[1] * vt) < tol_potential:
            layer = adsorbate.layer
            return InterfaceState(potential=float(potential), coverage=float(gx[0]),
                                  dipole=float(layer.dipole(gx[0], e_field)), dipole_jump=float(gx[1] * vt),
                                  surface_charge=float(dl.surface_charge), surface_field=float(dl.surface_field),
                                  fixed_layer_capacitance=float(dl.capacitance), iterations=it,
                                  history=tuple(history))
        if prev is not None:
            if np.linalg.norm(r) > 2.0 * np.linalg.norm(prev[1]):
                # the extrapolation overshot: restart Anderson with stronger damping
                dx_hist, dr_hist, beta = [], [], beta / 2
            else:
                dx_hist.append(x - prev[0])
                dr_hist.append(r - prev[1])
                dx_hist, dr_hist = dx_hist[-3:], dr_hist[-3:]
        prev = (x.copy(), r.copy())
        if dr_hist:
            dX, dR = np.array(dx_hist).T, np.array(dr_hist).T
            gamma, *_ = np.linalg.lstsq(dR, r, rcond=None)
            x_new = x + beta * r - (dX + beta * dR) @ gamma
            if not np.all(np.isfinite(x_new)):
                x_new = x + beta * r
        else:
            x_new = x + beta * r
        x_new[0] = min(max(x_new[0], 0.0), 1.0)
        x = x_new
    last = history[-1] if history else (float(x[0]), float(x[1] * vt), math.nan, math.nan)
    raise ConvergenceError(
        f"electrified interface at U = {potential:.4g} V did not converge in {max_iterations} iterations "
        f"(last residuals: theta {last[2]:.3g}, chi {last[3]:.3g} V; tolerances {tol_coverage:g}, "
        f"{tol_potential:g} V); history (theta, chi V): "
        + ", ".join(f"({h[0]:.4g}, {h[1]:.4g})" for h in history[-6:])
        + "; try smaller damping or a finer potential step")


@dataclass(frozen=True)
class InterfaceSweep:
    """Converged interface across a potential window, shapes (n,).

    potential (V), coverage, dipole (e*A), work_function_shift (eV, = chi),
    surface_charge (C/m^2), surface_field (V/m), capacitance: dsigma/dU of
    the coupled interface (F/m^2, smoothing-spline derivative),
    fixed_layer_capacitance (F/m^2, at frozen chi), iterations per point,
    states: the InterfaceState objects.
    """

    potential: np.ndarray
    coverage: np.ndarray
    dipole: np.ndarray
    work_function_shift: np.ndarray
    surface_charge: np.ndarray
    surface_field: np.ndarray
    capacitance: np.ndarray
    fixed_layer_capacitance: np.ndarray
    iterations: np.ndarray
    states: tuple = field(default=(), repr=False)


def smooth_derivative(x, y, *, noise: float | None = None) -> np.ndarray:
    """dy/dx of a cubic smoothing spline through (x, y), at x; x increasing, n >= 5.

    Differentiating raw data amplifies its noise, so the spline may leave
    residuals up to the noise level: sum of squared residuals <= n noise^2
    (the discrepancy principle). noise: standard deviation of y (same unit);
    None estimates it from the 4th differences of y (std / sqrt(70) is the
    noise of white noise; for smooth data it over-estimates slightly and
    smooths a little more, never less).
    """
    from scipy.interpolate import UnivariateSpline

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape or len(x) < 5:
        raise InputError(f"potentials: {len(x)} points; expected >= 5 for a smoothed derivative")
    if np.any(np.diff(x) <= 0):
        raise InputError("potentials: expected strictly increasing values")
    if noise is None:
        noise = float(np.std(np.diff(y, 4)) / math.sqrt(70.0)) if len(x) >= 9 else 0.0
    if not (math.isfinite(noise) and noise >= 0):
        raise InputError(f"noise = {noise!r}; expected a finite standard deviation >= 0")
    import warnings

    from scipy.interpolate import CubicSpline

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return UnivariateSpline(x, y, k=3, s=len(x) * noise ** 2)(x, 1)
        except Exception:  # noise so small fitpack runs out of knots: its limit is the interpolant
            return CubicSpline(x, y)(x, 1)


def sweep_interface(potentials, adsorbate: Adsorbate, electrolyte: dict, *, progress=None,
                    **solve_options) -> InterfaceSweep:
    """solve_interface at each potential (V, increasing, >= 5), continuing from the previous one."""
    us = np.asarray(potentials, dtype=float)
    if us.ndim != 1 or len(us) < 5 or np.any(np.diff(us) <= 0) or not np.all(np.isfinite(us)):
        raise InputError(f"potentials: expected >= 5 strictly increasing finite values, got {us!r}")
    # start at the point nearest the PZC (smallest fields), continue outward both ways
    start = int(np.argmin(np.abs(us)))
    order = [start] + list(range(start + 1, len(us))) + list(range(start - 1, -1, -1))
    states: dict[int, InterfaceState] = {}
    for k, i in enumerate(order):
        neighbour = states.get(i - 1) if i > start else states.get(i + 1)
        init = None if neighbour is None else (neighbour.coverage, neighbour.dipole_jump)
        states[i] = solve_interface(float(us[i]), adsorbate, electrolyte, initial=init, **solve_options)
        if progress:
            progress(f"U = {us[i]:+.3f} V: theta = {states[i].coverage:.4f}, "
                     f"{states[i].iterations} iterations ({k + 1}/{len(us)})")
    st = [states[i] for i in range(len(us))]
    sigma = np.array([s.surface_charge for s in st])
    return InterfaceSweep(
        potential=us, coverage=np.array([s.coverage for s in st]), dipole=np.array([s.dipole for s in st]),
        work_function_shift=np.array([s.dipole_jump for s in st]), surface_charge=sigma,
        surface_field=np.array([s.surface_field for s in st]),
        # sigma carries the loop's error: C * (chi tolerance); that is the noise the spline may smooth
        capacitance=smooth_derivative(us, sigma, noise=max(abs(s.fixed_layer_capacitance) for s in st)
                                      * solve_options.get("tol_potential", 1e-7)),
        fixed_layer_capacitance=np.array([s.fixed_layer_capacitance for s in st]),
        iterations=np.array([s.iterations for s in st]), states=tuple(st))
