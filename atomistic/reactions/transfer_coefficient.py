"""Butler–Volmer transfer coefficient from barriers at several electrode potentials.

The transfer coefficient is the slope of the activation energy with the
electrode's electrostatic energy: for a reduction (electron taken from the
electrode, barrier rising as the electrode potential U rises)

    alpha_red = dEa_red / d(eU),        alpha_ox = -dEa_ox / d(eU) = 1 - alpha_red,

so both lie in [0, 1] for a normal reaction. ``fit_transfer_coefficient``
fits Ea(U) by (weighted) least squares, either a line (constant alpha,
Butler–Volmer) or a parabola (Marcus curvature: Ea = (lambda + dG)^2 /
(4 lambda) with dG linear in eU, so d^2Ea/d(eU)^2 = 1/(2 lambda) and
alpha = 1/2 + dG/(2 lambda) varies with U); the slope at ``at_potential``
is alpha, with a confidence interval from the fit's covariance (Student t on
the residual scatter when the barriers carry no error bars; normal on the
given error bars, inflated by the reduced chi^2 when the scatter exceeds
them). A quadratic fit also returns the Marcus reorganisation energy
lambda = 1 / (4 c) implied by the curvature c.

Potentials are numbers in volts *against a named reference electrode*
(``reference_electrode``, e.g. "SHE", "Li/Li+"): a potential without one is
refused, since alpha is reported for a cell model that has its own reference.
In eV per elementary charge eU is numerically U in V.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

DIRECTIONS = ("reduction", "oxidation")


@dataclass
class TransferCoefficient:
    """A fitted Ea(U) and the transfer coefficient it implies.

    alpha: transfer coefficient of ``direction`` at ``at_potential`` (dimensionless).
    alpha_err: its standard error; alpha_ci: (low, high) at ``confidence``.
    alpha_anodic, alpha_anodic_ci: the oxidation (anodic) coefficient, the one
        PyBaMM's asymmetric Butler–Volmer takes (1 - alpha for a reduction fit).
    model: "linear" or "quadratic"; coefficients: Ea = c0 + c1 x + c2 x^2 with
        x = U - at_potential (eV, eV/V, eV/V^2), covariance (p, p).
    reorganisation_energy, reorganisation_energy_err: Marcus lambda = 1/(4 c2) (eV),
        quadratic fits with c2 > 0 only (None otherwise).
    potentials (V vs reference_electrode), barriers, barrier_std (eV): the data.
    chi2_reduced: residual scatter over the given error bars (None without them);
    p_curvature: F-test p-value of the quadratic term (None with fewer than 4 points).
    """

    alpha: float
    alpha_err: float
    alpha_ci: tuple[float, float]
    alpha_anodic: float
    alpha_anodic_ci: tuple[float, float]
    direction: str
    model: str
    at_potential: float
    reference_electrode: str
    confidence: float
    coefficients: np.ndarray
    covariance: np.ndarray
    potentials: np.ndarray
    barriers: np.ndarray
    barrier_std: np.ndarray | None
    chi2_reduced: float | None
    p_curvature: float | None
    reorganisation_energy: float | None = None
    reorganisation_energy_err: float | None = None

    def barrier_at(self, potential: float | np.ndarray) -> np.ndarray:
        """Fitted Ea (eV) at potential(s) in V vs ``reference_electrode``."""
        x = np.asarray(potential, float) - self.at_potential
        return sum(c * x ** k for k, c in enumerate(self.coefficients))

    def alpha_at(self, potential: float) -> float:
        """Transfer coefficient of ``direction`` at another potential (V vs reference)."""
        sign = 1.0 if self.direction == "reduction" else -1.0
        x = float(potential) - self.at_potential
        c = self.coefficients
        return float(sign * (c[1] + (2 * c[2] * x if len(c) > 2 else 0.0)))

    def to_dict(self) -> dict:
        return {"alpha": self.alpha, "alpha_err": self.alpha_err, "alpha_ci": list(self.alpha_ci),
                "alpha_anodic": self.alpha_anodic, "alpha_anodic_ci": list(self.alpha_anodic_ci),
                "direction": self.direction, "model": self.model,
                "at_potential_V": self.at_potential, "reference_electrode": self.reference_electrode,
                "confidence": self.confidence, "coefficients": self.coefficients.tolist(),
                "potentials_V": self.potentials.tolist(), "barriers_eV": self.barriers.tolist(),
                "barrier_std_eV": None if self.barrier_std is None else self.barrier_std.tolist(),
                "chi2_reduced": self.chi2_reduced, "p_curvature": self.p_curvature,
                "reorganisation_energy_eV": self.reorganisation_energy,
                "reorganisation_energy_err_eV": self.reorganisation_energy_err}


def _lstsq(x, y, w, degree):
    X = np.vander(x, degree + 1, increasing=True)
    Xw = X * np.sqrt(w)[:, None]
    yw = y * np.sqrt(w)
    coef, *_ = np.linalg.lstsq(Xw, yw, rcond=None)
    chi2 = float(((yw - Xw @ coef) ** 2).sum())
    return coef, np.linalg.inv(Xw.T @ Xw), chi2


def fit_transfer_coefficient(potentials, barriers, barrier_std=None, *,
                             reference_electrode: str | None, direction: str = "reduction",
                             model: str = "auto", at_potential: float | None = None,
                             confidence: float = 0.95,
                             member_barriers=None) -> TransferCoefficient:
    """Fit Ea(U) and return the transfer coefficient alpha = +-dEa/d(eU) with a confidence interval.

    Args:
        potentials: (n,) electrode potentials (V vs ``reference_electrode``).
        barriers: (n,) activation energies of ``direction`` at those potentials (eV).
        barrier_std: (n,) their standard errors (eV), e.g. committee ``NEBResult.barrier_std``;
            None: errors estimated from the fit's residuals (needs more points than parameters).
        reference_electrode: the electrode the potentials are measured against ("SHE", "Li/Li+", ...).
        direction: "reduction" (alpha = dEa/d(eU)) or "oxidation" (alpha = -dEa/d(eU)).
        model: "linear" (Butler–Volmer), "quadratic" (Marcus curvature) or "auto"
            (quadratic when an F-test finds the curvature significant at 5 %, needs >= 4 points).
        at_potential: where alpha is evaluated (V vs reference); default the mean potential.
        confidence: two-sided confidence level of ``alpha_ci``.
        member_barriers: (M, n) per-committee-member barriers (``NEBResult.member_barriers`` at
            each potential). A member's errors are correlated across potentials, so treating
            ``barrier_std`` as independent would overstate the slope's error; with members the
            same model is fitted to each member's curve and the spread of their coefficients
            (plus the residual scatter of the mean fit, when there are spare points) is the
            covariance, with a normal quantile.
    """
    from scipy import stats

    if not reference_electrode or not str(reference_electrode).strip():
        raise InputError("reference_electrode: missing; electrode potentials mean nothing without "
                         "the electrode they are measured against: pass e.g. "
                         "reference_electrode='SHE' or 'Li/Li+'")
    if direction not in DIRECTIONS:
        raise InputError(f"direction = {direction!r}; expected one of {DIRECTIONS}")
    if model not in ("linear", "quadratic", "auto"):
        raise InputError(f"model = {model!r}; expected 'linear', 'quadratic' or 'auto'")
    if not 0 < confidence < 1:
        raise InputError(f"confidence = {confidence}; expected a level in (0, 1), e.g. 0.95")
    U = np.asarray(potentials, float).ravel()
    Ea = np.asarray(barriers, float).ravel()
    if U.shape != Ea.shape:
        raise InputError(f"barriers: {Ea.size} values for {U.size} potentials; expected one per potential")
    if not (np.all(np.isfinite(U)) and np.all(np.isfinite(Ea))):
        raise InputError("potentials/barriers: NaN or infinite values")
    if np.unique(U).size < 2:
        raise InputError(f"potentials = {U.tolist()}: at least two distinct potentials are needed")
    sigma = None
    if barrier_std is not None:
        sigma = np.asarray(barrier_std, float).ravel()
        if sigma.shape != U.shape or np.any(~np.isfinite(sigma)) or np.any(sigma <= 0):
            raise InputError("barrier_std: expected one positive, finite error (eV) per potential")
    need = {"linear": 2, "quadratic": 3, "auto": 2}[model] + (1 if sigma is None else 0)
    if np.unique(U).size < need:
        raise InputError(f"potentials: {np.unique(U).size} distinct values; a {model} fit "
                         f"{'without barrier_std ' if sigma is None else ''}needs at least {need}")
    x0 = float(U.mean() if at_potential is None else at_potential)
    x = U - x0
    w = np.ones_like(U) if sigma is None else 1.0 / sigma ** 2

    p_curv = None
    if U.size >= 4 and np.unique(U).size >= 4:
        _, _, chi_lin = _lstsq(x, Ea, w, 1)
        _, _, chi_quad = _lstsq(x, Ea, w, 2)
        dof = U.size - 3
        if chi_quad > 0:
            F = (chi_lin - chi_quad) / (chi_quad / dof)
            p_curv = float(stats.f.sf(F, 1, dof))
        else:
            p_curv = 0.0
    if model == "auto":
        model = "quadratic" if (p_curv is not None and p_curv < 0.05) else "linear"
    degree = 1 if model == "linear" else 2
    coef, cov0, chi2 = _lstsq(x, Ea, w, degree)
    dof = U.size - (degree + 1)
    if sigma is None:
        s2 = chi2 / dof
        cov = cov0 * s2
        q = float(stats.t.ppf(0.5 + confidence / 2, dof))
        chi2_red = None
    else:
        chi2_red = chi2 / dof if dof > 0 else None
        inflate = max(1.0, chi2_red) if chi2_red is not None else 1.0
        cov = cov0 * inflate
        q = float(stats.t.ppf(0.5 + confidence / 2, dof) if inflate > 1.0
                  else stats.norm.ppf(0.5 + confidence / 2))
    if member_barriers is not None:
        Em = np.asarray(member_barriers, float)
        if Em.ndim != 2 or Em.shape[1] != U.size or Em.shape[0] < 2 or not np.all(np.isfinite(Em)):
            raise InputError(f"member_barriers: shape {Em.shape}; expected (members >= 2, "
                             f"{U.size}) finite barriers (eV)")
        ones = np.ones_like(U)
        coef, cov0, chi2 = _lstsq(x, Em.mean(axis=0), ones, degree)
        per_member = np.array([_lstsq(x, e, ones, degree)[0] for e in Em])
        cov = np.atleast_2d(np.cov(per_member.T, ddof=1))
        if dof > 0:
            cov = cov + cov0 * chi2 / dof
        q = float(stats.norm.ppf(0.5 + confidence / 2))
        chi2_red = None
    sign = 1.0 if direction == "reduction" else -1.0
    alpha = float(sign * coef[1])
    err = float(np.sqrt(cov[1, 1]))
    ci = (alpha - q * err, alpha + q * err)
    alpha_red = alpha if direction == "reduction" else 1.0 - alpha
    anodic = 1.0 - alpha_red
    anodic_ci = ((1.0 - ci[1], 1.0 - ci[0]) if direction == "reduction" else ci)
    lam = lam_err = None
    if degree == 2 and coef[2] > 0:
        lam = float(1.0 / (4.0 * coef[2]))
        lam_err = float(np.sqrt(cov[2, 2]) / (4.0 * coef[2] ** 2))
    return TransferCoefficient(
        alpha=alpha, alpha_err=err, alpha_ci=(float(ci[0]), float(ci[1])), alpha_anodic=float(anodic),
        alpha_anodic_ci=(float(anodic_ci[0]), float(anodic_ci[1])), direction=direction,
        model=model, at_potential=x0, reference_electrode=str(reference_electrode),
        confidence=float(confidence), coefficients=coef, covariance=cov, potentials=U, barriers=Ea,
        barrier_std=sigma, chi2_reduced=chi2_red, p_curvature=p_curv,
        reorganisation_energy=lam, reorganisation_energy_err=lam_err)


def plot_transfer_fit(fit: TransferCoefficient, path, title: str = "") -> None:
    """Barriers vs potential with the fit and its confidence band, alpha in the legend (PNG)."""
    from matplotlib.figure import Figure
    from scipy import stats

    from foundation.files import save_figure

    U = np.linspace(fit.potentials.min(), fit.potentials.max(), 100)
    x = U - fit.at_potential
    X = np.vander(x, len(fit.coefficients), increasing=True)
    sd = np.sqrt(np.einsum("ij,jk,ik->i", X, fit.covariance, X))
    # the quantile the fit used (t or normal), recovered from its interval
    q = ((fit.alpha_ci[1] - fit.alpha) / fit.alpha_err if fit.alpha_err > 0
         else stats.norm.ppf(0.5 + fit.confidence / 2))
    Ea = fit.barrier_at(U)
    fig = Figure(figsize=(5, 3.6))
    ax = fig.subplots()
    ax.errorbar(fit.potentials, fit.barriers, yerr=fit.barrier_std, fmt="o", color="C0",
                capsize=3, label="NEB barriers")
    ax.plot(U, Ea, "-", color="C1",
            label=f"{fit.model} fit: α_{'red' if fit.direction == 'reduction' else 'ox'} = "
                  f"{fit.alpha:.3f} [{fit.alpha_ci[0]:.3f}, {fit.alpha_ci[1]:.3f}]")
    ax.fill_between(U, Ea - q * sd, Ea + q * sd,
                    color="C1", alpha=0.2, label=f"{100 * fit.confidence:.0f}% band")
    ax.set_xlabel(f"U (V vs {fit.reference_electrode})")
    ax.set_ylabel(f"Ea, {fit.direction} (eV)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
