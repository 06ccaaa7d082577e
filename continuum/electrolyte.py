"""The electrolyte: physical constants, bulk checks, Debye length, Bikerman density, planar first integral.

Every continuum module takes its constants and its electrolyte formulas from here, so that a
solver, a closed form and a mesh rule can never disagree on them. The constants are CODATA values
from ``scipy.constants`` (SI); none is typed by hand.

Vocabulary (the same in every public function of ``continuum``): ``valences`` (integers z_i, one per
species), ``concentrations`` (bulk mol/m^3, one per species; a z:z closed form takes one
``concentration`` and one ``valence``), ``permittivity`` (relative, of the electrolyte),
``temperature`` (K), ``potential`` (V vs the bulk), ``ion_size`` (m, Bikerman lattice spacing).

Reduced helpers (the solvers' internal scaling) say so: ``psi`` is a potential in units of kT/e and
lengths are in Debye lengths; ``packing`` is the Bikerman bulk packing fraction
nu = a^3 N_A sum_j c_j (dimensionless, None for ideal ions).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import constants as _sc

from .errors import InputError

E_CHARGE: float = _sc.e               # C, elementary charge
K_B: float = _sc.k                    # J/K, Boltzmann constant
EPS0: float = _sc.epsilon_0           # F/m, vacuum permittivity
N_A: float = _sc.N_A                  # 1/mol, Avogadro constant
FARADAY: float = _sc.e * _sc.N_A      # C/mol, exact in the SI (scipy's tabulated value is rounded)


def thermal_voltage(temperature: float) -> float:
    """kT/e in V at ``temperature`` (K)."""
    return K_B * float(temperature) / E_CHARGE


def check_electrolyte(species, valences, concentrations) -> tuple[list[str], list[int], np.ndarray]:
    """Checked (species names, valences, bulk concentrations in mol/m^3) of an electroneutral bulk.

    Raises InputError naming the field: unequal lengths, a non-integer or zero valence, a
    non-positive or non-finite concentration, or a net bulk charge sum_i z_i c_i != 0.
    """
    species = list(species)
    try:
        conc = np.atleast_1d(np.asarray(concentrations, dtype=float))
    except (TypeError, ValueError):
        raise InputError(f"concentrations: {concentrations!r}; expected numbers in mol/m^3") from None
    zs = list(np.atleast_1d(valences))
    if not (len(species) == len(zs) == conc.size) or conc.ndim != 1:
        raise InputError(f"species, valences, concentrations: lengths {len(species)}, {len(zs)}, "
                         f"{conc.size}; expected equal")
    if any(int(v) != v or int(v) == 0 for v in zs):
        raise InputError(f"valences: {zs}; expected non-zero integers")
    zs = [int(v) for v in zs]
    if np.any(~np.isfinite(conc)) or np.any(conc <= 0):
        raise InputError(f"concentrations: {conc.tolist()}; expected positive finite mol/m^3")
    net = float(np.dot(zs, conc))
    if abs(net) > 1e-9 * float(np.dot(np.abs(zs), conc)):
        raise InputError(f"concentrations: net bulk charge sum z_i c_i = {net:g} mol/m^3 with valences {zs}; "
                         "expected an electroneutral bulk")
    return species, zs, conc


def debye_length(concentrations, valences, permittivity: float = 78.5, temperature: float = 298.15) -> float:
    """Debye length (m): sqrt(eps0 eps_r kT / (e^2 N_A sum_i z_i^2 c_i)).

    ``concentrations``: bulk mol/m^3 per species; ``valences``: z_i; ``permittivity``: relative;
    ``temperature``: K.
    """
    if not (np.isfinite(permittivity) and permittivity > 0):
        raise InputError(f"permittivity: {permittivity!r}; expected a positive relative permittivity")
    if not (np.isfinite(temperature) and temperature > 0):
        raise InputError(f"temperature: {temperature!r}; expected a positive K")
    ionic = float(sum(zi * zi * ci for zi, ci in zip(valences, concentrations))) * N_A
    if not ionic > 0:
        raise InputError(f"concentrations: {list(concentrations)!r}; expected a positive ionic strength")
    return math.sqrt(permittivity * EPS0 * K_B * temperature / (E_CHARGE ** 2 * ionic))


def packing_fraction(concentrations, ion_size) -> float | None:
    """Bikerman bulk packing fraction nu = a^3 N_A sum_j c_j (dimensionless; None when ``ion_size`` is None).

    ``concentrations``: bulk mol/m^3; ``ion_size`` a: m. Raises InputError unless 0 < nu < 1.
    """
    if ion_size is None:
        return None
    if not (np.isfinite(ion_size) and ion_size > 0):
        raise InputError(f"ion_size: {ion_size!r}; expected a positive m")
    nu = float(ion_size) ** 3 * N_A * float(np.sum(concentrations))
    if not nu < 1:
        raise InputError(f"ion_size: {ion_size:g} m packs the bulk to nu = a^3 N_A sum c = {nu:.3g}; expected < 1")
    return nu


def bikerman_concentrations(psi, concentrations, valences, packing=None, g=None, exp=np.exp):
    """c_i / c_i,bulk of the Bikerman lattice gas (ideal ions when ``packing`` is None), a list per species.

    c_i / c_i,b = A_i / (1 - nu + nu sum_j f_j A_j), A_i = exp(g_i - z_i psi), with ``psi`` the reduced
    potential (kT/e), ``g`` the reduced electrochemical potentials (None: 0, the equilibrium with the
    bulk), f_j = c_j,b / sum_k c_k,b from the bulk ``concentrations`` (mol/m^3, or anything proportional)
    and ``packing`` nu (:func:`packing_fraction`). Written once for every backend: ``exp`` is numpy's for
    arrays and ``ufl.exp`` for the solvers' weak forms (``packing`` and ``concentrations`` may then be
    dolfinx Constants, so that compiled forms do not depend on their values).
    """
    A = [exp((0.0 if g is None else g[i]) - zi * psi) for i, zi in enumerate(valences)]
    if packing is None:
        return A
    total = sum(concentrations)
    den = 1 - packing + packing * sum(cj / total * a for cj, a in zip(concentrations, A))
    return [a / den for a in A]


def planar_first_integral(psi, concentrations, valences, packing=None):
    """(dpsi/dx)^2 of the semi-infinite planar equilibrium layer at reduced potential(s) ``psi`` (kT/e).

    Lengths in Debye lengths; ``concentrations`` (bulk, any unit) must be electroneutral. Ideal ions:
    F(psi) = 2 sum_i w_i (exp(-z_i psi) - 1) with w_i = c_i / sum_j z_j^2 c_j; Bikerman (bulk packing
    ``packing`` nu): the lattice-gas form (2 sum w / nu) ln(1 + nu sum_i f_i (exp(-z_i psi) - 1)),
    which tends to the ideal one as nu -> 0. Returns an array of the shape of ``psi`` (at least 1D).
    """
    c = np.asarray(concentrations, dtype=float)
    zz = np.asarray(valences, dtype=float)
    w = c / float(np.dot(np.square(zz), c))
    t = -zz[:, None] * np.atleast_1d(np.asarray(psi, dtype=float))[None, :]
    # exp(t) - 1 - t instead of exp(t) - 1: the linear terms cancel in the neutral bulk
    # (sum_i w_i z_i = sum_i f_i z_i = 0), and dropping them analytically keeps F ~ psi^2
    # accurate down to psi ~ 1e-300 instead of drowning in round-off (which had made
    # F <= 0 and the predictor's tabulated x blow up for small potentials).
    small = np.abs(t) < 1e-3
    ts = np.where(small, t, 0.0)
    boltz = np.where(small, ts * ts * (0.5 + ts * (1 / 6 + ts / 24)), np.expm1(t) - t)
    if packing is None:
        return 2 * np.sum(w[:, None] * boltz, axis=0)
    f = c / c.sum()
    return 2 * w.sum() / packing * np.log1p(packing * np.sum(f[:, None] * boltz, axis=0))
