"""Analytic planar double layers: Gouy-Chapman, Bikerman (steric), Gouy-Chapman-Stern, Grahame.

The z:z closed forms take a symmetric electrolyte of bulk concentration ``concentration``
(mol/m^3, each ion) and ``valence`` z, SI in and out: potentials in V (diffuse-layer potential
vs bulk, or electrode potential for the Stern forms), charges in C/m^2, capacitances in F/m^2,
distances in m. They accept scalars or numpy arrays of potentials. :func:`grahame_charge` takes
any electrolyte (``concentrations``, ``valences``). These are the references the FEniCSx
PNP/Poisson-Boltzmann solver (``continuum.pnp``, ``continuum.double_layer``) is checked against.

The reduced planar-layer helpers (:func:`stern_diffuse_potential`, :func:`planar_layer`), which
the solver uses as its Newton predictor, work in the solver's scaling: ``psi`` in kT/e, lengths in
Debye lengths, Bikerman ``packing`` nu (see ``continuum.electrolyte``).

- Gouy-Chapman: sigma = sqrt(8 eps kT n) sinh(z e phi / 2kT),
  C = (eps / lambda_D) cosh(z e phi / 2kT).
- Bikerman (lattice gas of ion size a, packing nu = 2 a^3 n; Kilic, Bazant,
  Ajdari, PRE 75, 021502 (2007)): sigma = sign(phi) sqrt((2 eps kT / a^3)
  ln(1 + 2 nu sinh^2(z e phi / 2kT))); tends to Gouy-Chapman as a -> 0.
- Gouy-Chapman-Stern: a Helmholtz capacitance C_H in series with the diffuse
  layer, U - phi_d = sigma(phi_d) / C_H and 1/C = 1/C_H + 1/C_d(phi_d).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from .electrolyte import (E_CHARGE, EPS0, K_B, N_A, check_electrolyte, debye_length, packing_fraction,
                          planar_first_integral)
from .errors import InputError


def _check(concentration, valence, permittivity, temperature, ion_size=None):
    if not (np.isfinite(concentration) and concentration > 0):
        raise InputError(f"concentration: {concentration!r}; expected a positive finite mol/m^3")
    if int(valence) != valence or valence <= 0:
        raise InputError(f"valence: {valence!r}; expected a positive integer z of a z:z electrolyte")
    if not (np.isfinite(permittivity) and permittivity >= 1):
        raise InputError(f"permittivity: {permittivity!r}; expected a relative permittivity >= 1")
    if not (np.isfinite(temperature) and temperature > 0):
        raise InputError(f"temperature: {temperature!r}; expected a positive K")
    if ion_size is not None:
        if not (np.isfinite(ion_size) and ion_size > 0):
            raise InputError(f"ion_size: {ion_size!r}; expected a positive m")
        nu = 2 * concentration * N_A * ion_size ** 3
        if nu >= 1:
            raise InputError(f"ion_size: {ion_size!r} m packs the bulk to nu = {nu:.3g}; expected nu < 1")


def _debye_length(concentration, valence, permittivity, temperature) -> float:
    _check(concentration, valence, permittivity, temperature)
    return debye_length([concentration, concentration], [valence, -valence], permittivity, temperature)


def gouy_chapman_potential(x, potential, concentration, valence=1, permittivity=78.5, temperature=298.15):
    """Gouy-Chapman potential (V) at distance(s) x (m) from a plane at potential ``potential`` (V).

    phi(x) = (4kT/ze) artanh(tanh(z e phi0 / 4kT) exp(-x / lambda_D)); ``concentration``: mol/m^3 of
    each ion of the z:z electrolyte; ``permittivity``: relative; ``temperature``: K.
    """
    lD = _debye_length(concentration, valence, permittivity, temperature)
    kT_ze = K_B * temperature / (valence * E_CHARGE)
    g = np.tanh(np.asarray(potential) / (4 * kT_ze))
    return 4 * kT_ze * np.arctanh(g * np.exp(-np.asarray(x) / lD))


def gouy_chapman_charge(potential, concentration, valence=1, permittivity=78.5, temperature=298.15):
    """Diffuse-layer charge balanced by the electrode, C/m^2, at diffuse potential ``potential`` (V) (Grahame).

    ``concentration``: mol/m^3 of each ion; ``permittivity``: relative; ``temperature``: K.
    """
    _check(concentration, valence, permittivity, temperature)
    kT = K_B * temperature
    n = concentration * N_A
    return math.sqrt(8 * permittivity * EPS0 * kT * n) * np.sinh(valence * E_CHARGE * np.asarray(potential) / (2 * kT))


def gouy_chapman_capacitance(potential, concentration, valence=1, permittivity=78.5, temperature=298.15):
    """Gouy-Chapman differential capacitance d sigma/d phi (F/m^2): (eps/lambda_D) cosh(z e phi / 2kT).

    ``potential``: diffuse-layer potential (V); ``concentration``: mol/m^3 of each ion; ``permittivity``: relative; ``temperature``: K.
    """
    lD = _debye_length(concentration, valence, permittivity, temperature)
    return permittivity * EPS0 / lD * np.cosh(valence * E_CHARGE * np.asarray(potential) / (2 * K_B * temperature))


def bikerman_charge(potential, concentration, ion_size, valence=1, permittivity=78.5, temperature=298.15):
    """Bikerman (steric lattice-gas) diffuse charge, C/m^2, at diffuse potential ``potential`` (V).

    ``ion_size``: lattice spacing a (m); ``concentration``: mol/m^3 of each ion; ``permittivity``: relative; ``temperature``: K.
    """
    _check(concentration, valence, permittivity, temperature, ion_size)
    kT = K_B * temperature
    nu = 2 * concentration * N_A * ion_size ** 3
    psi = valence * E_CHARGE * np.asarray(potential, dtype=float) / kT
    return np.sign(psi) * np.sqrt(2 * permittivity * EPS0 * kT / ion_size ** 3
                                  * np.log1p(2 * nu * np.sinh(psi / 2) ** 2))


def bikerman_capacitance(potential, concentration, ion_size, valence=1, permittivity=78.5, temperature=298.15):
    """Bikerman differential capacitance d sigma/d phi (F/m^2).

    C = (eps/lambda_D) |sinh(zpsi)| / [(1 + 2 nu sinh^2(zpsi/2)) sqrt((2/nu) ln(1 + 2 nu sinh^2(zpsi/2)))]
    (Kilic et al. 2007), continued by its limit eps/lambda_D at the potential of zero charge.
    ``potential``: diffuse-layer potential (V); ``ion_size``: m; ``concentration``: mol/m^3 of each ion; ``permittivity``: relative; ``temperature``: K.
    """
    _check(concentration, valence, permittivity, temperature, ion_size)
    lD = _debye_length(concentration, valence, permittivity, temperature)
    nu = 2 * concentration * N_A * ion_size ** 3
    psi = valence * E_CHARGE * np.asarray(potential, dtype=float) / (K_B * temperature)
    small = np.abs(psi) < 1e-6
    safe = np.where(small, 1.0, psi)
    s2s = np.sinh(safe / 2) ** 2
    val = np.abs(np.sinh(safe)) / ((1 + 2 * nu * s2s) * np.sqrt(2 / nu * np.log1p(2 * nu * s2s)))
    # Near psi = 0 the ratio is 1 - O(psi^2) (Debye-Hueckel), so the limit is exact to 1e-12 there.
    out = permittivity * EPS0 / lD * np.where(small, 1.0, val)
    return out if out.ndim else float(out)


@dataclasses.dataclass(frozen=True)
class SternResult:
    """Gouy-Chapman-Stern closed form at electrode potential(s) U (V vs bulk).

    surface_charge: C/m^2; capacitance: 1/(1/C_H + 1/C_d) in F/m^2; diffuse_potential:
    phi_d (V) at the outer Helmholtz plane; diffuse_capacitance: C_d(phi_d) in F/m^2.
    """
    potential: np.ndarray
    surface_charge: np.ndarray
    capacitance: np.ndarray
    diffuse_potential: np.ndarray
    diffuse_capacitance: np.ndarray
    stern_capacitance: float


def series_capacitance(stern_capacitance, diffuse_capacitance):
    """Two capacitors in series, F/m^2: 1/C = 1/C_H + 1/C_d."""
    return 1.0 / (1.0 / stern_capacitance + 1.0 / np.asarray(diffuse_capacitance))


def gouy_chapman_stern(potential, concentration, stern_capacitance, valence=1, permittivity=78.5,
                       temperature=298.15, ion_size=None, dipole_jump=0.0) -> SternResult:
    """Gouy-Chapman(-Bikerman)-Stern: solve U - chi - phi_d = sigma_d(phi_d) / C_H for phi_d.

    ``potential`` U: electrode potential(s) vs bulk (V); ``stern_capacitance`` C_H: F/m^2;
    ``dipole_jump`` chi (V) is a potential step at the surface taken off U before the
    Stern and diffuse layers; ``ion_size``: m (Bikerman), or None; ``concentration``: mol/m^3 of
    each ion; ``permittivity``: relative; ``temperature``: K. Bisection on phi_d in [0, U - chi] (the left side falls,
    the right side rises monotonically) to 1e-15 relative, then the series capacitance.
    """
    if not (np.isfinite(stern_capacitance) and stern_capacitance > 0):
        raise InputError(f"stern_capacitance: {stern_capacitance!r}; expected a positive F/m^2")
    if ion_size is None:
        charge = lambda p: gouy_chapman_charge(p, concentration, valence, permittivity, temperature)
        cap = lambda p: gouy_chapman_capacitance(p, concentration, valence, permittivity, temperature)
    else:
        charge = lambda p: bikerman_charge(p, concentration, ion_size, valence, permittivity, temperature)
        cap = lambda p: bikerman_capacitance(p, concentration, ion_size, valence, permittivity, temperature)
    U = np.atleast_1d(np.asarray(potential, dtype=float)) - dipole_jump
    lo, hi = np.minimum(U, 0.0), np.maximum(U, 0.0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        g = mid + charge(mid) / stern_capacitance - U
        lo, hi = np.where(g < 0, mid, lo), np.where(g < 0, hi, mid)
    phid = 0.5 * (lo + hi)
    cd = np.asarray(cap(phid), dtype=float)
    shape = np.shape(potential)
    return SternResult(potential=np.asarray(potential, dtype=float),
                       surface_charge=stern_capacitance * (U - phid).reshape(shape),
                       capacitance=series_capacitance(stern_capacitance, cd).reshape(shape),
                       diffuse_potential=phid.reshape(shape), diffuse_capacitance=cd.reshape(shape),
                       stern_capacitance=float(stern_capacitance))


def grahame_charge(potential, concentrations, valences, permittivity=78.5, temperature=298.15,
                   ion_size=None) -> float:
    """Surface charge (C/m^2) of a planar diffuse layer at ``potential`` (V vs bulk) for any electrolyte.

    Grahame's equation from the first integral of Poisson-Boltzmann(-Bikerman):
    sigma = sign(phi) (eps kT / e lambda_D) sqrt(F(e phi / kT)) with
    F(psi) = 2 sum_i w_i (exp(-z_i psi) - 1 + z_i psi), w_i = c_i / sum_j z_j^2 c_j (the linear
    term sums to zero in a neutral bulk); Bikerman: (2 sum w / nu) ln(1 + nu sum_i f_i (...)).
    ``concentrations``: bulk mol/m^3 per species (electroneutral); ``valences``: integers;
    ``permittivity``: relative; ``temperature``: K; ``ion_size``: m (None: ideal ions).
    Reduces to :func:`gouy_chapman_charge` for a z:z electrolyte.
    """
    _, z, c = check_electrolyte([f"s{i}" for i in range(len(valences))], valences, concentrations)
    if not (np.isfinite(permittivity) and permittivity >= 1):
        raise InputError(f"permittivity: {permittivity!r}; expected a relative permittivity >= 1")
    if not (np.isfinite(temperature) and temperature > 0):
        raise InputError(f"temperature: {temperature!r}; expected a positive K")
    kT_e = K_B * temperature / E_CHARGE
    lD = debye_length(c, z, permittivity, temperature)
    psi = float(potential) / kT_e
    F = float(planar_first_integral(psi, c, z, packing_fraction(c, ion_size))[0])
    return math.copysign(permittivity * EPS0 * kT_e / lD * math.sqrt(max(F, 0.0)), psi)


def stern_diffuse_potential(psi, concentrations, valences, stern_length, packing=None) -> float:
    """Diffuse-layer potential psi_d (kT/e) of a planar Stern + semi-infinite diffuse layer (reduced units).

    ``psi``: electrode potential (kT/e); ``stern_length`` l_S in Debye lengths (the Stern layer in the
    electrolyte's permittivity); ``packing``: Bikerman nu or None. Solves
    psi - psi_d = l_S |psi'(0)| sign(psi) with the first integral, by bisection: the left side falls
    and the right side rises monotonically in psi_d.
    """
    lo, hi = (0.0, psi) if psi >= 0 else (psi, 0.0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        g = mid + np.sign(mid) * stern_length * math.sqrt(
            max(float(planar_first_integral(mid, concentrations, valences, packing)[0]), 0.0)) - psi
        if g < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def planar_layer(psi, concentrations, valences, packing=None):
    """psi(d) of the semi-infinite planar equilibrium layer at electrode potential ``psi`` (kT/e), reduced.

    Any valences, ideal or Bikerman (bulk packing ``packing``); ``d``: distance from the electrode in
    Debye lengths (array). From the first integral (psi')^2 = F(psi)
    (:func:`continuum.electrolyte.planar_first_integral`), d(psi) = int_psi^psi0 ds / sqrt(F(s)) is
    tabulated by quadrature in ln|psi| and inverted. It is the solver's Newton predictor: the
    equilibrium of an isolated planar layer, so Newton only corrects for the finite cell, the mesh, a
    Stern layer or a curved electrode, instead of climbing an exp(30) charge from a Debye-Hueckel guess.
    """
    sgn = 1.0 if psi >= 0 else -1.0
    a0 = abs(float(psi))
    if a0 < 1e-12:
        return lambda d: np.zeros_like(np.asarray(d, dtype=float))
    # |psi| from a0 down to 1e-12 a0, log-spaced; below that the layer is Debye-Hueckel.
    mag = a0 * np.logspace(0, -12, 4000)
    slope = np.sqrt(np.maximum(planar_first_integral(sgn * mag, concentrations, valences, packing), 1e-300))
    integrand = mag / slope
    lnm = np.log(mag)
    x = np.concatenate([[0.0], np.cumsum(0.5 * (integrand[1:] + integrand[:-1]) * -np.diff(lnm))])
    x_end, m_end = x[-1], mag[-1]

    def layer(d):
        d = np.asarray(d, dtype=float)
        inner = np.exp(np.interp(d, x, lnm))
        return sgn * np.where(d <= x_end, inner, m_end * np.exp(-(d - x_end)))
    return layer
