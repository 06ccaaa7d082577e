"""A 2D lattice of adsorbate dipoles: lattice sums, depolarisation, work-function shift.

Units are ASE's: dipole moments in e*Angstrom, polarizabilities as volumes
alpha/(4 pi eps0) in Angstrom^3, areal densities in Angstrom^-2, fields in
V/Angstrom, energies in eV.

Sign convention (used everywhere in this module and by ``couplers``): the
surface normal points out of the electrode (into vacuum or electrolyte).
A dipole ``mu > 0`` points outward (its positive end away from the
surface); a field ``E > 0`` points outward. An outward dipole layer of
areal density ``n`` raises the potential outside by ``n mu / eps0`` and so
lowers the work function (Helmholtz):

    Delta Phi = -e n mu / eps0           (eV, for mu in e*A and n in A^-2:
                                          Delta Phi = -4 pi * 14.3996 * n mu)

Depolarisation (Topping): each dipole feels the field of all others,
``E_dep = -mu * S / (4 pi eps0)`` with the lattice sum ``S = sum' r^-3``.
For a lattice dilated uniformly with coverage, ``S = k n^(3/2)`` with a
dimensionless Topping constant ``k`` of the lattice shape (square 9.0336,
hexagonal 8.8927 per n^(3/2); per spacing a^-3 these are 9.0336 and
11.0342). A polarizable dipole ``mu = mu0 + alpha E`` then has

    mu(n, E) = (mu0 + alpha E) / (1 + alpha S(n))        (alpha as a volume)

and the energy per adsorbate, relative to an isolated adsorbate in zero field,

    W(n, E) = (mu0^2 S - 2 mu0 E - alpha E^2) / (2 (1 + alpha S)) * (e^2/4 pi eps0 units)

which reduces to the Stark form ``-mu0 E - alpha E^2 / 2`` at S = 0 and to
the dipole-dipole repulsion ``mu0^2 S / 2 / (1 + alpha S)`` at E = 0.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

#: e^2 / (4 pi eps0) in eV*Angstrom (ase.units.Bohr * ase.units.Hartree, CODATA 2014).
COULOMB = 14.399645351950543
#: e / eps0 in V*Angstrom: the potential step of a dipole layer n*mu = 1 e/Angstrom.
E_OVER_EPS0 = 4.0 * math.pi * COULOMB

#: Published Topping lattice sums per spacing, sum' (a / r)^3 (Topping 1927), to the digits
#: usually quoted; ``dipole_lattice_sum`` gives 9.0336216831 and 11.0341757349.
TOPPING_PER_SPACING = {"square": 9.0336, "hexagonal": 11.0342}


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{name} = {value!r}; expected a finite number > 0")
    return value


def lattice_vectors(kind: str, spacing: float) -> np.ndarray:
    """In-plane lattice vectors, shape (2, 2) in Angstrom, of a 'square' or 'hexagonal' lattice."""
    a = _positive("spacing", spacing)
    if kind == "square":
        return np.array([[a, 0.0], [0.0, a]])
    if kind == "hexagonal":
        return np.array([[a, 0.0], [0.5 * a, 0.5 * math.sqrt(3.0) * a]])
    raise InputError(f"kind = {kind!r}; expected 'square' or 'hexagonal'")


def _as_lattice(vectors) -> np.ndarray:
    v = np.asarray(vectors, dtype=float)
    if v.shape == (3, 3):  # an ASE cell: take the in-plane vectors of a slab normal to z
        if abs(v[0, 2]) > 1e-8 or abs(v[1, 2]) > 1e-8:
            raise InputError("vectors: cell vectors a1, a2 have z components; expected a slab "
                             "with the surface normal along z")
        v = v[:2, :2]
    if v.shape != (2, 2) or not np.all(np.isfinite(v)):
        raise InputError(f"vectors: shape {v.shape}; expected two finite in-plane vectors, shape (2, 2)")
    if abs(np.linalg.det(v)) < 1e-12:
        raise InputError("vectors: the two lattice vectors are parallel (zero cell area)")
    return v


def dipole_lattice_sum(vectors, *, tol: float = 1e-14) -> float:
    """S = sum over lattice points r != 0 of |r|^-3, in Angstrom^-3.

    ``vectors``: the 2D lattice vectors, shape (2, 2) in Angstrom (or an ASE
    cell, shape (3, 3), with the surface normal along z; pass the cell of the
    adsorbate lattice, i.e. one adsorbate per cell).

    Evaluated by Ewald splitting of the Epstein zeta function
    (Mellin transform of |r|^-3, split at eta^2 = pi / A): real- and
    reciprocal-space terms both decay like exp(-pi |n|^2), so a few shells
    give machine precision for any lattice shape.
    """
    from scipy.special import erfc, gammaincc

    v = _as_lattice(vectors)
    area = abs(float(np.linalg.det(v)))
    recip = 2.0 * math.pi * np.linalg.inv(v).T  # rows b_i with a_i . b_j = 2 pi delta_ij
    eta2 = math.pi / area
    s = 1.5
    gamma_s = math.gamma(s)  # sqrt(pi) / 2
    # enough shells for exp(-eta2 r^2) < tol on the shortest direction of a skewed cell
    shortest = min(np.linalg.norm(v, axis=1).min(), abs(np.linalg.det(v)) / np.linalg.norm(v, axis=1).max())
    nmax = int(math.ceil(math.sqrt(-math.log(tol) / eta2) / shortest)) + 2
    idx = np.arange(-nmax, nmax + 1)
    i, j = np.meshgrid(idx, idx, indexing="ij")
    ij = np.stack([i.ravel(), j.ravel()], axis=1)
    ij = ij[np.any(ij != 0, axis=1)]
    r2 = np.sum((ij @ v) ** 2, axis=1)
    real = np.sum(gammaincc(s, eta2 * r2) * gamma_s / r2 ** s)
    # reciprocal space: (pi/A) (G^2/4)^(s-1) Gamma(1-s, G^2/(4 eta^2)), Gamma(-1/2, x) in closed form
    rshort = min(np.linalg.norm(recip, axis=1).min(),
                 abs(np.linalg.det(recip)) / np.linalg.norm(recip, axis=1).max())
    gmax = int(math.ceil(math.sqrt(-math.log(tol) * 4 * eta2) / rshort)) + 2
    gidx = np.arange(-gmax, gmax + 1)
    gi, gj = np.meshgrid(gidx, gidx, indexing="ij")
    gij = np.stack([gi.ravel(), gj.ravel()], axis=1)
    gij = gij[np.any(gij != 0, axis=1)]
    g2 = np.sum((gij @ recip) ** 2, axis=1)
    x = g2 / (4.0 * eta2)
    gamma_m_half = 2.0 * np.exp(-x) / np.sqrt(x) - 2.0 * math.sqrt(math.pi) * erfc(np.sqrt(x))
    recip_sum = (math.pi / area) * np.sum((g2 / 4.0) ** (s - 1.0) * gamma_m_half)
    g0 = (math.pi / area) * eta2 ** (s - 1.0) / (s - 1.0)
    self_term = -eta2 ** s / s
    return float((real + recip_sum + g0 + self_term) / gamma_s)


def topping_constant(vectors) -> float:
    """k = S / n^(3/2), dimensionless: the lattice sum per (areal density)^(3/2).

    Independent of the lattice's size, only of its shape (square 9.0336,
    hexagonal 8.8927).
    """
    v = _as_lattice(vectors)
    n = 1.0 / abs(float(np.linalg.det(v)))
    return dipole_lattice_sum(v) / n ** 1.5


def helmholtz_shift(density, dipole, *, relative_permittivity: float = 1.0):
    """Work-function shift Delta Phi = -e n mu / (eps0 eps_r), in eV (array-friendly).

    density: adsorbates per area, Angstrom^-2; dipole: outward dipole per
    adsorbate, e*Angstrom (already depolarised: the dipole *in* the layer);
    relative_permittivity: screening of the layer's field by a medium
    (1 in vacuum). Equals minus the potential step (V) across the layer.
    """
    eps = _positive("relative_permittivity", relative_permittivity)
    return -E_OVER_EPS0 * np.asarray(density, dtype=float) * np.asarray(dipole, dtype=float) / eps


@functools.lru_cache(maxsize=64)
def _cached_lattice_sum(vectors: tuple) -> float:
    # isotherm solves evaluate the layer energy hundreds of times per potential
    return dipole_lattice_sum(vectors)


@dataclass(frozen=True)
class DipoleLayer:
    """A polarizable dipole lattice whose sites fill with coverage theta.

    mu0: dipole of an isolated adsorbate at zero field, e*Angstrom (outward > 0).
    alpha: its polarizability volume alpha/(4 pi eps0), Angstrom^3 (>= 0).
    site_vectors: lattice vectors of the full monolayer (theta = 1), shape (2, 2) Angstrom.
    scaling: how the lattice sum depends on coverage:
      'ordered'     the adsorbate lattice dilates uniformly: S = k n^(3/2) (Topping);
      'lattice_gas' random occupation of fixed sites (mean field): S = theta * S_sites.
    covariance: optional 2x2 covariance of (mu0, alpha) from a fit.
    """

    mu0: float
    alpha: float
    site_vectors: tuple
    scaling: str = "ordered"
    covariance: np.ndarray | None = field(default=None, compare=False)

    def __post_init__(self):
        if not math.isfinite(self.mu0):
            raise InputError(f"mu0 = {self.mu0!r}; expected a finite dipole in e*Angstrom")
        if not math.isfinite(self.alpha) or self.alpha < 0:
            raise InputError(f"alpha = {self.alpha!r}; expected a finite polarizability volume >= 0 "
                             "(Angstrom^3)")
        if self.scaling not in ("ordered", "lattice_gas"):
            raise InputError(f"scaling = {self.scaling!r}; expected 'ordered' or 'lattice_gas'")
        object.__setattr__(self, "site_vectors", tuple(map(tuple, _as_lattice(self.site_vectors))))

    @property
    def site_density(self) -> float:
        """Adsorbates per Angstrom^2 at theta = 1."""
        return 1.0 / abs(float(np.linalg.det(np.array(self.site_vectors))))

    @property
    def site_sum(self) -> float:
        """Lattice sum S of the full monolayer, Angstrom^-3."""
        return _cached_lattice_sum(self.site_vectors)

    def _theta(self, theta):
        t = np.asarray(theta, dtype=float)
        if np.any(~np.isfinite(t)) or np.any(t < 0) or np.any(t > 1):
            raise InputError(f"theta = {theta!r}; expected coverages in [0, 1]")
        return t

    def lattice_sum(self, theta):
        """S(theta) in Angstrom^-3 (see ``scaling``)."""
        t = self._theta(theta)
        return self.site_sum * (t ** 1.5 if self.scaling == "ordered" else t)

    def dipole(self, theta, field=0.0):
        """Depolarised dipole per adsorbate, e*Angstrom; field: outward, V/Angstrom."""
        s = self.lattice_sum(theta)
        return (self.mu0 + self.alpha * np.asarray(field) / COULOMB) / (1.0 + self.alpha * s)

    def work_function_shift(self, theta, field=0.0, *, relative_permittivity: float = 1.0):
        """Delta Phi(theta) in eV (Helmholtz with the depolarised dipole)."""
        t = self._theta(theta)
        return helmholtz_shift(t * self.site_density, self.dipole(t, field),
                               relative_permittivity=relative_permittivity)

    def energy(self, theta, field=0.0):
        """W(theta, E): energy per adsorbate vs an isolated one at zero field, eV.

        Dipole-dipole repulsion of the polarizable lattice plus its Stark
        energy in the outward field E (V/Angstrom).
        """
        s = self.lattice_sum(theta)
        # alpha E in e*A needs E in e/A^2 units: E / COULOMB converts V/A to e/(4 pi eps0 A^2)
        e = np.asarray(field, dtype=float) / COULOMB
        return COULOMB * (self.mu0 ** 2 * s - 2 * self.mu0 * e - self.alpha * e ** 2) / (
            2.0 * (1.0 + self.alpha * s))

    def differential_energy(self, theta, field=0.0):
        """d(theta W)/d theta: the change of the adsorption energy of one more adsorbate, eV.

        This is what enters an adsorption isotherm (the chemical potential of
        the adsorbed layer), not the integral energy W.
        """
        t = self._theta(theta)
        s = self.lattice_sum(t)
        e = np.asarray(field, dtype=float) / COULOMB
        p = 1.5 if self.scaling == "ordered" else 1.0
        # theta dS/dtheta = p S ; dW/dS = (mu0 + alpha E)^2 / (2 (1 + alpha S)^2) (times COULOMB)
        dW_dS = COULOMB * (self.mu0 + self.alpha * e) ** 2 / (2.0 * (1.0 + self.alpha * s) ** 2)
        return self.energy(t, field) + p * s * dW_dS

    def with_parameters(self, mu0: float, alpha: float) -> "DipoleLayer":
        return DipoleLayer(mu0, alpha, self.site_vectors, self.scaling)


@dataclass(frozen=True)
class DepolarisationFit:
    """Result of ``fit_depolarisation``: the layer model and its parameter uncertainty.

    layer: the fitted DipoleLayer (covariance attached); mu0, alpha and their
    standard errors (e*Angstrom, Angstrom^3); covariance (2x2, of mu0, alpha);
    residual_rms (e*Angstrom); n_points.
    """

    layer: DipoleLayer
    mu0: float
    alpha: float
    mu0_stderr: float
    alpha_stderr: float
    covariance: np.ndarray
    residual_rms: float
    n_points: int

    def work_function_band(self, theta, *, samples: int = 2000, seed: int = 0,
                           relative_permittivity: float = 1.0):
        """Mean and standard deviation of Delta Phi(theta), eV, over the parameter covariance."""
        t = np.atleast_1d(np.asarray(theta, dtype=float))
        rng = np.random.default_rng(seed)
        draws = rng.multivariate_normal([self.mu0, self.alpha], self.covariance, size=samples)
        draws[:, 1] = np.clip(draws[:, 1], 0.0, None)
        phi = np.array([self.layer.with_parameters(m, a).work_function_shift(
            t, relative_permittivity=relative_permittivity) for m, a in draws])
        return phi.mean(axis=0), phi.std(axis=0, ddof=1)


def fit_depolarisation(theta, dipoles, site_vectors, *, stderr=None,
                       scaling: str = "ordered") -> DepolarisationFit:
    """Fit mu(theta) = mu0 / (1 + alpha S(theta)) to coverage-dependent dipoles.

    theta: coverages, shape (N,), in (0, 1]; dipoles: outward dipole per
    adsorbate, e*Angstrom, shape (N,) (e.g. ``slab_dipole`` of dipole-
    corrected slabs at each coverage divided by the number of adsorbates);
    stderr: optional per-point standard errors (e*Angstrom); site_vectors:
    lattice of the full monolayer. Weighted nonlinear least squares; the
    covariance is scaled by the reduced chi^2 when stderr is not given
    (absolute otherwise). Needs >= 3 points at distinct coverages.
    """
    from scipy.optimize import curve_fit

    t = np.asarray(theta, dtype=float)
    m = np.asarray(dipoles, dtype=float)
    if t.ndim != 1 or m.shape != t.shape:
        raise InputError(f"dipoles: shape {m.shape} does not match theta {t.shape}")
    if len(np.unique(t)) < 3:
        raise InputError(f"theta: {len(np.unique(t))} distinct coverages; need >= 3 to fit mu0 and "
                         "alpha with an error estimate")
    if np.any(~np.isfinite(m)):
        raise InputError("dipoles: contains NaN or infinite values")
    sig = None if stderr is None else np.asarray(stderr, dtype=float)
    if sig is not None and (sig.shape != t.shape or np.any(sig <= 0)):
        raise InputError(f"stderr: expected {t.shape} positive values")
    layer = DipoleLayer(float(m[np.argmin(t)]), 0.0, site_vectors, scaling)
    s = layer.lattice_sum(t)
    # 1/mu is linear in S: a start value without guessing
    if np.all(m != 0) and np.all(np.sign(m) == np.sign(m[0])):
        slope, icpt = np.polyfit(s, 1.0 / m, 1)
        mu_start, a_start = 1.0 / icpt, max(slope / icpt, 1e-3)
    else:
        mu_start, a_start = float(m[np.argmin(t)]), 1.0

    def model(sv, mu0, alpha):
        return mu0 / (1.0 + alpha * sv)

    popt, pcov = curve_fit(model, s, m, p0=[mu_start, a_start], sigma=sig,
                           absolute_sigma=sig is not None, bounds=([-np.inf, 0.0], [np.inf, np.inf]))
    if not np.all(np.isfinite(pcov)):
        # exact data: zero residuals leave curve_fit's scale undefined; the covariance is zero
        pcov = np.zeros((2, 2))
    resid = m - model(s, *popt)
    fitted = DipoleLayer(float(popt[0]), float(popt[1]), site_vectors, scaling, covariance=pcov)
    return DepolarisationFit(fitted, float(popt[0]), float(popt[1]), float(math.sqrt(max(pcov[0, 0], 0))),
                             float(math.sqrt(max(pcov[1, 1], 0))), pcov,
                             float(np.sqrt(np.mean(resid ** 2))), len(t))


def slab_dipole(atoms, *, n_adsorbates: int = 1) -> float:
    """Outward (z) dipole per adsorbate, e*Angstrom, from a calculated slab.

    ``atoms`` carries a calculator that reports a dipole moment (GPAW with
    a dipole correction, ``poissonsolver={'dipolelayer': 'xy'}``, or any
    ASE calculator implementing 'dipole'); the adsorbate sits on the +z
    side. Subtract the clean slab's dipole yourself when it is not zero.
    """
    if n_adsorbates < 1:
        raise InputError(f"n_adsorbates = {n_adsorbates}; expected >= 1")
    return float(atoms.get_dipole_moment()[2]) / n_adsorbates


def vacuum_level_difference(atoms, *, points: int = 3) -> float:
    """Top-minus-bottom vacuum level, eV, of a dipole-corrected slab calculation.

    Needs a calculator with ``get_electrostatic_potential()`` (GPAW; with
    ``poissonsolver={'dipolelayer': 'xy'}`` and pbc (True, True, False)),
    returning the electrons' electrostatic energy on a grid with z last.
    Averages ``points`` grid planes at each end of the cell. For a dipole
    layer on the top side, this is its work-function shift, which the
    Helmholtz relation gives as -e n mu / eps0 with n = 1 / cell area.
    """
    calc = atoms.calc
    if calc is None or not hasattr(calc, "get_electrostatic_potential"):
        raise InputError("atoms.calc: needs get_electrostatic_potential() (e.g. GPAW with a dipole layer)")
    if points < 1:
        raise InputError(f"points = {points}; expected >= 1")
    vz = np.asarray(calc.get_electrostatic_potential()).mean(axis=(0, 1))
    return float(vz[-points:].mean() - vz[:points].mean())
