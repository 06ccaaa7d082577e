"""Electrified interface, continuum side: Poisson-Boltzmann + Stern layer + surface dipole jump.

The electrode at potential U (V vs the bulk electrolyte) is followed by, in order:

1. a surface dipole layer (adsorbates, surface termination): a potential step
   ``dipole_jump`` chi (V) of zero thickness, so the layers behind it see U - chi;
2. a Stern (Helmholtz) layer free of ions: a capacitor C_H (F/m^2), given directly
   (``stern_capacitance``) or as ``stern_thickness`` d / ``stern_permittivity`` eps_S
   (C_H = eps0 eps_S / d); it enters as a Robin condition on the diffuse layer,
   U - chi - phi_d = sigma / C_H;
3. the diffuse layer, x >= 0 from the outer Helmholtz plane (OHP): the
   Poisson-Boltzmann equation, optionally with Bikerman sterics (``ion_size``),

       -eps0 eps_r phi'' = F sum_i z_i c_i,  c_i = c_i,b exp(-z_i e phi / kT) / (1 + nu sum_j f_j (exp(-z_j e phi/kT) - 1)),

   with phi = 0 at x = ``length`` (bulk).

The diffuse layer is solved on FEniCSx by the toolkit's one PNP solver,
``continuum.pnp.PNPSolver``, on a geometric slab mesh (``PNPSolver.slab(h_min=...)``):
its steady state with a reservoir and a blocking electrode is the equilibrium, which it
solves as this Poisson-Boltzmann(-Bikerman) problem in the potential alone (the species
eliminated by the Boltzmann(-Bikerman) law), with the Stern (Robin) electrode, the
planar first-integral predictor (Stern-aware) and the step-limited Newton driver; that
keeps Newton at 2-4 iterations up to 40 kT/e. The differential capacitance comes from
the solver's tangent (linearised PB) solve, ``PNPSolver.charge_sensitivity``: the exact
derivative of the discrete sigma(U), not a finite difference.

Sign conventions: sigma is the electrode charge per area (positive when U - chi > 0
for an ion-only diffuse layer); fields are E = -dphi/dx along +x, from the electrode
into the electrolyte, so E > 0 when sigma > 0.
"""
from __future__ import annotations

import collections
import dataclasses
import math

import numpy as np

from .electrolyte import EPS0, N_A, bikerman_concentrations, debye_length, packing_fraction, thermal_voltage
from .errors import InputError
from .gouy_chapman import stern_diffuse_potential
from .pnp import PNPSolver

_CACHE_SIZE = 8


@dataclasses.dataclass(frozen=True)
class DoubleLayerResult:
    """One equilibrium double layer, SI.

    potential: U (V vs bulk); dipole_jump: chi (V); surface_charge: sigma (C/m^2, the
    electrode's charge per area: its discrete Gauss flux, minus the diffuse ionic charge but for
    the charge balancing the field left at x = length, e^(-length/lambda_D) small); diffuse_potential:
    phi_d (V) at the OHP vs bulk; stern_drop: U - chi - phi_d (V; 0 without a Stern
    layer); surface_field: field (V/m) at the electrode surface, i.e. inside the
    Stern layer, sigma / (eps0 eps_S) with eps_S = stern_permittivity (or
    ``permittivity`` when not given) -- the field an adsorbate at the surface feels;
    diffuse_field: field (V/m) on the electrolyte side of the OHP, sigma / (eps0 eps_r);
    capacitance: differential capacitance dsigma/dU (F/m^2) from the tangent solve;
    x: (n,) m from the OHP into the electrolyte; phi: (n,) V; concentrations:
    (n_species, n) mol/m^3; debye_length: m; newton_iterations: this solve;
    stern_capacitance: C_H (F/m^2) or None; stern_thickness: d (m) when known, else None.
    """
    potential: float
    dipole_jump: float
    surface_charge: float
    diffuse_potential: float
    stern_drop: float
    surface_field: float
    diffuse_field: float
    capacitance: float
    x: np.ndarray
    phi: np.ndarray
    concentrations: np.ndarray
    debye_length: float
    newton_iterations: int
    stern_capacitance: float | None
    stern_thickness: float | None
    valences: tuple
    temperature: float
    permittivity: float

    @property
    def thermal_voltage(self) -> float:
        """kT/e in V."""
        return thermal_voltage(self.temperature)

    def profile_from_electrode(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, phi) from the electrode surface, m and V: the dipole step at x = 0 (U to U - chi),
        the linear Stern drop over [0, d], then the diffuse profile shifted by d.

        Needs the Stern thickness (``stern_thickness``, or ``stern_capacitance`` with
        ``stern_permittivity``); without a Stern layer d = 0.
        """
        if self.stern_capacitance is not None and self.stern_thickness is None:
            raise InputError("stern_thickness: unknown (a Stern capacitance alone fixes no thickness); "
                             "give stern_permittivity too to draw the profile from the electrode")
        d = self.stern_thickness or 0.0
        # The electrode at x = 0 carries U; the dipole step and the Stern drop come before the OHP.
        x = np.concatenate([[0.0], self.x + d])
        phi = np.concatenate([[self.potential], self.phi])
        if d:
            x = np.insert(x, 1, 0.0)
            phi = np.insert(phi, 1, self.potential - self.dipole_jump)
        return x, phi


@dataclasses.dataclass(frozen=True)
class CapacitanceCurve:
    """Differential capacitance across a potential sweep, SI, shapes (n_potentials,).

    potential: U (V); capacitance: dsigma/dU (F/m^2), from the linearised-PB tangent
    solve at each converged state (exact derivative of the discrete model; its error
    is the discretisation error of sigma itself, ~1e-8 relative at the default mesh
    below 30 kT/e); surface_charge: sigma (C/m^2); diffuse_potential: phi_d (V);
    surface_field: V/m (see DoubleLayerResult); newton_iterations per point.
    """
    potential: np.ndarray
    capacitance: np.ndarray
    surface_charge: np.ndarray
    diffuse_potential: np.ndarray
    surface_field: np.ndarray
    newton_iterations: np.ndarray
    method: str = "FEniCSx Poisson-Boltzmann, dsigma/dU from the linearised-PB tangent solve"


def _finite(name, value, lo=None, lo_open=False, what=""):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: {value!r}; expected a number {what}".rstrip()) from None
    if not math.isfinite(v) or (lo is not None and (v <= lo if lo_open else v < lo)):
        raise InputError(f"{name}: {value!r}; expected {what or 'a finite number'}")
    return v


def _validate(concentrations, valences, permittivity, temperature, stern_capacitance, stern_thickness,
              stern_permittivity, ion_size, length, cells, degree):
    """Check and normalise the model parameters; every error names the field."""
    try:
        c = np.atleast_1d(np.asarray(concentrations, dtype=float))
    except (TypeError, ValueError):
        raise InputError(f"concentrations: {concentrations!r}; expected numbers in mol/m^3") from None
    if c.ndim != 1 or c.size == 0:
        raise InputError(f"concentrations: shape {c.shape}; expected one bulk value (mol/m^3) per species")
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise InputError(f"concentrations: {c.tolist()}; expected positive finite bulk mol/m^3 "
                         "(drop a species instead of giving it zero)")
    z = list(np.atleast_1d(valences))
    if len(z) != c.size:
        raise InputError(f"valences: {len(z)} given for {c.size} concentrations; expected one integer each")
    if any(int(v) != v or int(v) == 0 for v in z):
        raise InputError(f"valences: {z}; expected non-zero integers")
    z = tuple(int(v) for v in z)
    net = float(np.dot(z, c))
    if abs(net) > 1e-9 * float(np.dot(np.abs(z), c)):
        raise InputError(f"concentrations: net bulk charge sum z_i c_i = {net:g} mol/m^3 with valences {list(z)}; "
                         "expected an electroneutral bulk")
    eps = _finite("permittivity", permittivity, 1.0, what="a relative permittivity >= 1")
    T = _finite("temperature", temperature, 0.0, True, "a positive temperature in K")
    if stern_capacitance is not None and stern_thickness is not None:
        raise InputError("stern_capacitance and stern_thickness: both given; expected one way to set the Stern layer")
    if stern_permittivity is not None:
        eps_s = _finite("stern_permittivity", stern_permittivity, 1.0, what="a relative permittivity >= 1")
        if stern_capacitance is None and stern_thickness is None:
            raise InputError("stern_permittivity: given without stern_thickness or stern_capacitance; "
                             "expected it with one of them")
    else:
        eps_s = None
    C_H = d = None
    if stern_capacitance is not None:
        C_H = _finite("stern_capacitance", stern_capacitance, 0.0, True, "a positive F/m^2")
        d = EPS0 * eps_s / C_H if eps_s is not None else None
    elif stern_thickness is not None:
        d = _finite("stern_thickness", stern_thickness, 0.0, True, "a positive thickness in m")
        eps_s = eps if eps_s is None else eps_s
        C_H = EPS0 * eps_s / d
    a = None
    if ion_size is not None:
        a = _finite("ion_size", ion_size, 0.0, True, "a positive ion diameter in m")
        nu = a ** 3 * N_A * float(c.sum())
        if nu >= 1:
            raise InputError(f"ion_size: {a:g} m fills the bulk (packing a^3 N_A sum c = {nu:.3g}); expected < 1")
    lD = debye_length(c, z, eps, T)
    L = 20 * lD if length is None else _finite("length", length, 0.0, True, "a positive length in m")
    if L < 5 * lD:
        raise InputError(f"length: {L:g} m is {L / lD:.3g} Debye lengths; expected >= 5 so the far end is bulk")
    n = 400 if cells is None else cells
    if int(n) != n or n < 10:
        raise InputError(f"cells: {cells!r}; expected an integer >= 10")
    if degree not in (1, 2, 3):
        raise InputError(f"degree: {degree!r}; expected 1, 2 or 3")
    return dict(c=tuple(c.tolist()), z=z, eps=eps, T=T, C_H=C_H, d=d, eps_s=eps_s, a=a, L=L, n=int(n),
                degree=int(degree), lD=lD)


_solvers: collections.OrderedDict = collections.OrderedDict()


def _solver(p, h_min_nd):
    """A PNPSolver (equilibrium mode) for these parameters, reused across calls (the coupler calls this
    in a loop)."""
    stern_length = None if p["C_H"] is None else p["eps"] * EPS0 / p["C_H"]  # Robin length, eps_r units
    key = (p["c"], p["z"], p["eps"], p["T"], stern_length, p["a"], p["L"], p["n"], p["degree"], h_min_nd)
    if key in _solvers:
        _solvers.move_to_end(key)
        return _solvers[key]
    s = PNPSolver.slab([f"species{i}" for i in range(len(p["z"]))], list(p["z"]), list(p["c"]), None,
                       permittivity=p["eps"], temperature=p["T"], length=p["L"], n_cells=p["n"],
                       degree=p["degree"], h_min=h_min_nd * p["lD"], stern_length=stern_length, ion_size=p["a"])
    _solvers[key] = s
    if len(_solvers) > _CACHE_SIZE:
        _solvers.popitem(last=False)
    return s


def _h_min(p, max_drop):
    """First-cell size of the geometric mesh, in Debye lengths, for drops up to ``max_drop`` (V).

    The thinnest structure is the local Debye length at the OHP, lambda_D / sqrt(c_wall / c_b),
    with c_wall from the Boltzmann(-Bikerman) law at the diffuse potential (the planar
    Stern + diffuse first integral gives that potential). One hundredth of it, rounded
    down to a power of ten so nearby potentials share a mesh, and at most 1e-3: not
    finer than needed, because cells far below the layer width make the linear
    (tangent) solve for the capacitance lose digits.
    """
    psi0 = abs(max_drop) / thermal_voltage(p["T"])
    nu = packing_fraction(p["c"], p["a"])
    psid = psi0
    if p["C_H"] is not None:
        ls = p["eps"] * EPS0 / p["C_H"] / p["lD"]
        psid = max(abs(stern_diffuse_potential(s * psi0, p["c"], p["z"], ls, nu)) for s in (1.0, -1.0))
    clipped = lambda t: np.exp(np.clip(t, None, 700))
    worst = max(max(bikerman_concentrations(s * psid, p["c"], p["z"], nu, exp=clipped)) for s in (1.0, -1.0))
    want = 1e-2 / math.sqrt(max(worst, 1.0))
    return min(1e-3, 10.0 ** math.floor(math.log10(want)))


def _solve(p, s, U, chi):
    r = s.solve_steady(U - chi)
    C = s.charge_sensitivity()
    sigma = r.surface_charge
    phid = float(r.phi[0])
    eps_s = p["eps_s"] if p["eps_s"] is not None else p["eps"]
    return DoubleLayerResult(
        potential=float(U), dipole_jump=float(chi), surface_charge=float(sigma), diffuse_potential=phid,
        stern_drop=float(U - chi - phid) if p["C_H"] is not None else 0.0,
        surface_field=float(sigma / (EPS0 * eps_s)), diffuse_field=float(sigma / (EPS0 * p["eps"])),
        capacitance=float(C), x=r.x, phi=r.phi, concentrations=r.c, debye_length=r.debye_length,
        newton_iterations=int(r.newton_iterations), stern_capacitance=p["C_H"], stern_thickness=p["d"],
        valences=p["z"], temperature=p["T"], permittivity=p["eps"])


def solve_double_layer(potential, *, concentrations, valences, permittivity=78.5, temperature=298.15,
                       stern_capacitance=None, stern_thickness=None, stern_permittivity=None,
                       dipole_jump=0.0, ion_size=None, length=None, cells=None, degree=2,
                       min_cell=None) -> DoubleLayerResult:
    """Equilibrium double layer at electrode potential ``potential`` (V vs bulk), SI throughout.

    concentrations: bulk mol/m^3 per species (positive); valences: integers (the bulk
    must be electroneutral); permittivity: relative, of the electrolyte (>= 1);
    temperature: K; stern_capacitance: C_H in F/m^2, or stern_thickness (m) with
    stern_permittivity (relative; defaults to ``permittivity``), or neither for ions
    up to the electrode; dipole_jump: chi (V), the layers behind the surface dipole
    see potential - chi (the potential of zero charge moves to chi); ion_size: m,
    Bikerman lattice-gas sterics; length: m of electrolyte (default 20 Debye lengths);
    cells: mesh cells (default 400, geometric from min_cell); degree: Lagrange degree;
    min_cell: first-cell size in m (default: 1/100 of the local Debye length at the
    OHP, rounded down to a power of ten, at most 1e-3 lambda_D).

    Raises InputError naming the field for unphysical input, ConvergenceError if
    Newton fails.
    """
    p = _validate(concentrations, valences, permittivity, temperature, stern_capacitance, stern_thickness,
                  stern_permittivity, ion_size, length, cells, degree)
    U = _finite("potential", potential, what="a finite electrode potential in V")
    chi = _finite("dipole_jump", dipole_jump, what="a finite potential step in V")
    h = (_finite("min_cell", min_cell, 0.0, True, "a positive length in m") / p["lD"]
         if min_cell is not None else _h_min(p, U - chi))
    return _solve(p, _solver(p, h), U, chi)


def differential_capacitance(potentials, *, concentrations, valences, permittivity=78.5, temperature=298.15,
                             stern_capacitance=None, stern_thickness=None, stern_permittivity=None,
                             dipole_jump=0.0, ion_size=None, length=None, cells=None, degree=2,
                             min_cell=None) -> CapacitanceCurve:
    """C(U) = dsigma/dU (F/m^2) and sigma(U) over ``potentials`` (V), one mesh for the whole sweep.

    Same keywords as :func:`solve_double_layer`. Each point is an independent
    equilibrium solve (planar predictor, no continuation needed) plus one linear
    tangent solve; the mesh is chosen once for the largest |U - chi| so sigma(U)
    and C(U) are smooth across the sweep.
    """
    p = _validate(concentrations, valences, permittivity, temperature, stern_capacitance, stern_thickness,
                  stern_permittivity, ion_size, length, cells, degree)
    Us = np.atleast_1d(np.asarray(potentials, dtype=float))
    if Us.ndim != 1 or Us.size == 0 or not np.all(np.isfinite(Us)):
        raise InputError(f"potentials: {np.asarray(potentials)!r}; expected a 1D array of finite V")
    chi = _finite("dipole_jump", dipole_jump, what="a finite potential step in V")
    h = (_finite("min_cell", min_cell, 0.0, True, "a positive length in m") / p["lD"]
         if min_cell is not None else _h_min(p, float(np.max(np.abs(Us - chi)))))
    s = _solver(p, h)
    res = [_solve(p, s, U, chi) for U in Us]
    return CapacitanceCurve(potential=Us, capacitance=np.array([r.capacitance for r in res]),
                            surface_charge=np.array([r.surface_charge for r in res]),
                            diffuse_potential=np.array([r.diffuse_potential for r in res]),
                            surface_field=np.array([r.surface_field for r in res]),
                            newton_iterations=np.array([r.newton_iterations for r in res]))
