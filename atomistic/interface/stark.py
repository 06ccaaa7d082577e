"""Stark response: energy vs applied field, fitted as dE = -mu E - alpha E^2 / 2.

Units: fields in V/Angstrom (outward normal of a surface, or any fixed
direction for a molecule), energies in eV, dipoles in e*Angstrom,
polarizability ``alpha`` in e*Angstrom^2/V (= e^2 Angstrom^2 / eV, GPAW's
unit); ``alpha_volume`` = alpha / (4 pi eps0) in Angstrom^3.

Any ASE calculator that accepts a field works: ``stark_scan`` takes a
factory ``field -> calculator``. ``gpaw_field_calculator`` builds GPAW
with its ``ConstantElectricField`` external potential, and
``gpaw_linear_response_polarizability`` gives GPAW's own linear-response
(Casida LrTDDFT, sum over all transitions of an LCAO basis, omega -> 0)
value to check the finite-field one against.

The fit is a weighted polynomial least squares; its covariance comes from
the residuals (or from given standard errors). A quadratic is only valid
at small fields: when the data show higher-order terms larger than
``max_higher_order`` of the quadratic response at the largest field, the
fit refuses ("fields too large for the fitted polynomial"), and so does
``StarkFit.energy`` outside the fitted field range.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .dipole_layer import COULOMB, E_OVER_EPS0
from ..errors import CalculationFailed, InputError
from ..structures import checks_atoms


@dataclass(frozen=True)
class StarkFit:
    """dE(E) = -mu E - alpha E^2 / 2 around e0 (eV), fitted on |E| <= max_field (V/Angstrom).

    mu: e*Angstrom (energy falls for a dipole along the field); alpha:
    e*Angstrom^2/V; covariance: 2x2 of (mu, alpha); e0: energy at zero
    field (eV) and e0_stderr; residual_rms: eV; higher_order: the largest
    relative size of cubic + quartic terms at max_field (0 when too few
    points to tell); alpha_from_dipoles: d mu / dE from supplied dipoles,
    or None.
    """

    mu: float
    alpha: float
    covariance: np.ndarray
    e0: float
    max_field: float
    residual_rms: float
    n_points: int
    higher_order: float = 0.0
    alpha_from_dipoles: float | None = None

    @property
    def mu_stderr(self) -> float:
        return math.sqrt(max(self.covariance[0, 0], 0.0))

    @property
    def alpha_stderr(self) -> float:
        return math.sqrt(max(self.covariance[1, 1], 0.0))

    @property
    def alpha_volume(self) -> float:
        """alpha / (4 pi eps0), Angstrom^3."""
        return self.alpha * COULOMB

    @property
    def alpha_volume_stderr(self) -> float:
        return self.alpha_stderr * COULOMB

    def energy(self, field, *, extrapolate: float = 1.0):
        """Energy (eV) at ``field`` (V/Angstrom); refuses |field| > extrapolate * max_field."""
        f = np.asarray(field, dtype=float)
        limit = extrapolate * self.max_field
        if np.any(~np.isfinite(f)) or np.any(np.abs(f) > limit * (1 + 1e-9)):
            worst = float(np.max(np.abs(f))) if np.all(np.isfinite(f)) else float("nan")
            raise InputError(
                f"field = {worst:.4g} V/A is too large for the fitted polynomial: the Stark fit "
                f"covers |E| <= {self.max_field:.4g} V/A (extrapolate={extrapolate}); "
                "fit with larger fields (checking higher-order terms) or stay inside the range")
        return self.e0 - self.mu * f - 0.5 * self.alpha * f ** 2

    def dipole(self, field):
        """mu + alpha E, e*Angstrom, inside the fitted range."""
        self.energy(field)  # range check
        return self.mu + self.alpha * np.asarray(field, dtype=float)


def fit_stark(fields, energies, *, stderr=None, dipoles=None,
              max_higher_order: float = 0.02) -> StarkFit:
    """Fit E(F) = e0 - mu F - alpha F^2 / 2 to energies at applied fields.

    fields: V/Angstrom, shape (N,), N >= 3 distinct values including both
    signs or zero; energies: eV, shape (N,) (a molecule's total energy or
    an adsorption energy); stderr: optional per-point standard errors (eV;
    the covariance is then absolute, otherwise scaled by the residuals);
    dipoles: optional dipoles along the field (e*Angstrom), fitted as the
    line mu + alpha F for a second estimate of alpha.

    With >= 5 fields the quartic fit is compared with the quadratic one; if
    cubic + quartic terms exceed ``max_higher_order`` times the quadratic
    response |mu F + alpha F^2/2| at the largest field, InputError: the
    fields are too large for the fitted polynomial.
    """
    f = np.asarray(fields, dtype=float)
    e = np.asarray(energies, dtype=float)
    if f.ndim != 1 or e.shape != f.shape:
        raise InputError(f"energies: shape {e.shape} does not match fields {f.shape}")
    if np.any(~np.isfinite(f)) or np.any(~np.isfinite(e)):
        raise InputError("fields/energies: contain NaN or infinite values")
    if len(np.unique(f)) < 3:
        raise InputError(f"fields: {len(np.unique(f))} distinct values; need >= 3 for mu and alpha")
    w = np.ones_like(f) if stderr is None else 1.0 / np.asarray(stderr, dtype=float)
    if np.any(~np.isfinite(w)) or np.any(w <= 0) or w.shape != f.shape:
        raise InputError(f"stderr: expected {f.shape} positive values")
    fmax = float(np.max(np.abs(f)))
    # scale the field to O(1) so the normal equations are well conditioned
    x = f / fmax
    design = np.stack([np.ones_like(x), -x, -0.5 * x ** 2], axis=1)
    coef, cov = _wlsq(design, e, w, absolute=stderr is not None)
    scale = np.array([1.0, fmax, fmax ** 2])
    coef = coef / scale
    cov = cov / np.outer(scale, scale)
    resid = e - (coef[0] - coef[1] * f - 0.5 * coef[2] * f ** 2)

    higher = 0.0
    if len(np.unique(f)) >= 5:
        d4 = np.concatenate([design, (x ** 3)[:, None], (x ** 4)[:, None]], axis=1)
        c4, cov4 = _wlsq(d4, e, w, absolute=stderr is not None)
        quad = abs(c4[1]) + 0.5 * abs(c4[2])  # |mu F + alpha F^2/2| bound at |x| = 1
        hi = abs(c4[3]) + abs(c4[4])
        hi_err = math.sqrt(max(cov4[3, 3], 0) + max(cov4[4, 4], 0))
        higher = hi / quad if quad > 0 else math.inf
        # only refuse when the higher-order terms are both large and resolved above the noise
        if higher > max_higher_order and hi > 3 * hi_err:
            raise InputError(
                f"fields up to {fmax:.4g} V/A are too large for the fitted polynomial: cubic+quartic "
                f"terms are {100 * higher:.2g}% of the quadratic response there (limit "
                f"{100 * max_higher_order:.2g}%); use smaller fields")

    alpha_d = None
    if dipoles is not None:
        d = np.asarray(dipoles, dtype=float)
        if d.shape != f.shape or np.any(~np.isfinite(d)):
            raise InputError(f"dipoles: expected {f.shape} finite values")
        alpha_d = float(np.polyfit(f, d, 1)[0])
    return StarkFit(mu=float(coef[1]), alpha=float(coef[2]), covariance=cov[1:, 1:], e0=float(coef[0]),
                    max_field=fmax, residual_rms=float(np.sqrt(np.mean(resid ** 2))), n_points=len(f),
                    higher_order=float(higher), alpha_from_dipoles=alpha_d)


def _wlsq(design, y, w, *, absolute: bool):
    a = design * w[:, None]
    b = y * w
    coef, *_ = np.linalg.lstsq(a, b, rcond=None)
    inv = np.linalg.pinv(a.T @ a)
    dof = len(y) - design.shape[1]
    if absolute:
        return coef, inv
    s2 = float(np.sum((b - a @ coef) ** 2) / dof) if dof > 0 else 0.0
    return coef, inv * s2


@checks_atoms()
def stark_scan(atoms, fields, calculator_factory, *, direction=(0.0, 0.0, 1.0), progress=None):
    """Energies (eV) and dipoles along ``direction`` (e*Angstrom, NaN if not reported) per field.

    calculator_factory(field) -> a fresh ASE calculator applying ``field``
    (V/Angstrom along ``direction``); ``atoms`` is copied for each field.
    """
    axis = np.asarray(direction, dtype=float)
    if axis.shape != (3,) or not np.linalg.norm(axis) > 0:
        raise InputError(f"direction = {direction!r}; expected a non-zero 3-vector")
    axis = axis / np.linalg.norm(axis)
    energies, dipoles = [], []
    for i, fv in enumerate(fields):
        a = atoms.copy()
        a.calc = calculator_factory(float(fv))
        try:
            energies.append(a.get_potential_energy())
        except Exception as exc:  # engines raise their own types; keep the field in the message
            raise CalculationFailed(f"calculation at field {fv} V/A failed: {exc}") from exc
        try:
            dipoles.append(float(np.dot(a.get_dipole_moment(), axis)))
        except Exception:  # a calculator without dipoles: the energy fit still works
            dipoles.append(float("nan"))
        if progress:
            progress(f"field {i + 1}/{len(fields)}: {fv:+.4g} V/A")
    return np.array(energies), np.array(dipoles)


#: GPAW settings for small molecules: LCAO, LDA, tight SCF (the energy changes by ~1e-4 eV at 0.1 V/A).
GPAW_MOLECULE = dict(mode="lcao", basis="dzp", xc="LDA", h=0.2, symmetry="off", nbands="nao",
                     convergence={"energy": 1e-8, "density": 1e-8, "eigenstates": 1e-12})


def gpaw_field_calculator(field: float, *, direction=(0.0, 0.0, 1.0), **gpaw_kwargs):
    """GPAW with ConstantElectricField(field V/Angstrom, direction); defaults GPAW_MOLECULE."""
    from .._engines import import_engine

    gpaw = import_engine("gpaw")
    external = import_engine("gpaw.external")
    kw = {**GPAW_MOLECULE, "txt": None, **gpaw_kwargs}
    if field:
        kw["external"] = external.ConstantElectricField(field, list(direction))
    return gpaw.GPAW(legacy_gpaw=True, **kw)


def gpaw_linear_response_polarizability(atoms, **gpaw_kwargs) -> np.ndarray:
    """GPAW's linear-response static polarizability tensor, shape (3, 3), e*Angstrom^2/V.

    Casida LrTDDFT (ALDA kernel) over every occupied -> unoccupied pair of
    the calculation (in LCAO with nbands='nao' that is the whole basis),
    summed as alpha = sum_I f_I / omega_I^2 at omega = 0 with length-form
    dipole matrix elements (``gpaw.lrtddft.spectrum.polarizability``). In
    the same basis this is the analytic derivative of the dipole with
    respect to a static field, i.e. what finite fields approximate.
    """
    from .._engines import import_engine

    import_engine("gpaw")
    lrtddft = import_engine("gpaw.lrtddft")
    spectrum = import_engine("gpaw.lrtddft.spectrum")
    a = atoms.copy()
    a.calc = gpaw_field_calculator(0.0, **gpaw_kwargs)
    a.get_potential_energy()
    lr = lrtddft.LrTDDFT(a.calc, txt=None)
    return np.real(spectrum.polarizability(lr, 0.0, form="r", tensor=True))


@dataclass(frozen=True)
class DipoleConsistency:
    """Stark dipole vs the dipole implied by a work-function shift (e*Angstrom).

    mu_stark +- mu_stark_stderr; mu_from_work_function = -eps_r eps0 Delta Phi / (e n);
    difference and z (difference over the combined standard error); agree: |z| <= z_max
    or |difference| <= rtol * |mu_stark|.
    """

    mu_stark: float
    mu_stark_stderr: float
    mu_from_work_function: float
    mu_from_work_function_stderr: float
    difference: float
    z: float
    agree: bool


def check_dipole_consistency(stark: StarkFit, density: float, work_function_shift: float, *,
                             work_function_stderr: float = 0.0, relative_permittivity: float = 1.0,
                             rtol: float = 0.05, z_max: float = 3.0) -> DipoleConsistency:
    """Does the Stark dipole agree with the work-function shift of the adsorbate layer?

    density: adsorbates per Angstrom^2 of the layer the work function was
    computed for (dilute enough that depolarisation is small, or compare
    with the depolarised dipole); work_function_shift: eV. Uses the
    Helmholtz relation Delta Phi = -e n mu / (eps0 eps_r).
    """
    if not density > 0:
        raise InputError(f"density = {density!r}; expected > 0 adsorbates per Angstrom^2")
    mu_wf = -work_function_shift * relative_permittivity / (E_OVER_EPS0 * density)
    mu_wf_err = abs(work_function_stderr * relative_permittivity / (E_OVER_EPS0 * density))
    diff = stark.mu - mu_wf
    err = math.hypot(stark.mu_stderr, mu_wf_err)
    z = diff / err if err > 0 else (0.0 if diff == 0 else math.inf)
    agree = abs(z) <= z_max or abs(diff) <= rtol * abs(stark.mu)
    return DipoleConsistency(stark.mu, stark.mu_stderr, mu_wf, mu_wf_err, diff, z, agree)
