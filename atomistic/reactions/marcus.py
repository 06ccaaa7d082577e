"""Marcus theory from energy-gap statistics: reorganisation energy, driving force, alpha(dG).

The vertical energy gap dE(R) = E_P(R) - E_R(R) (eV) between the product and
reactant diabatic states, sampled along MD in the reactant state (R) and in
the product state (P), carries everything linear-response Marcus theory needs:

    <dE>_R = dG + lambda,     <dE>_P = dG - lambda,
    var_R(dE) = var_P(dE) = 2 lambda kT.

Two independent estimators of the reorganisation energy follow:

- Stokes shift (from the means):  lambda_St  = (<dE>_R - <dE>_P) / 2
- variance (fluctuations):        lambda_var = beta var(dE) / 2 (each state; averaged)

and the reaction free energy dG = (<dE>_R + <dE>_P) / 2. Where they disagree
the system is not linear-response (unequal curvatures, anharmonic wells); the
result keeps both so a user sees it. The transfer coefficient of a reaction
with driving force dG is the slope of the Marcus barrier
Ea = (lambda + dG)^2 / (4 lambda):

    alpha(dG) = dEa/d(dG) = 1/2 + dG / (2 lambda)       (valid for |dG| < lambda).

Standard errors come from block averages (``n_blocks`` contiguous blocks of
each time series), which accounts for the correlation of MD samples as long
as a block is much longer than the gap's correlation time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase.units import kB

from ..errors import InputError


def marcus_alpha(dG: float | np.ndarray, reorganisation_energy: float) -> float | np.ndarray:
    """alpha(dG) = 1/2 + dG / (2 lambda) (dG, lambda in eV); the slope dEa/d(dG) of the Marcus barrier."""
    if reorganisation_energy <= 0:
        raise InputError(f"reorganisation_energy = {reorganisation_energy}; expected > 0 eV")
    return 0.5 + np.asarray(dG, float) / (2.0 * reorganisation_energy)


def marcus_barrier(dG: float | np.ndarray, reorganisation_energy: float) -> float | np.ndarray:
    """Ea = (lambda + dG)^2 / (4 lambda) (eV)."""
    if reorganisation_energy <= 0:
        raise InputError(f"reorganisation_energy = {reorganisation_energy}; expected > 0 eV")
    return (reorganisation_energy + np.asarray(dG, float)) ** 2 / (4.0 * reorganisation_energy)


@dataclass
class ReorganisationEnergy:
    """Marcus parameters from energy-gap statistics (eV; errors are standard errors).

    lambda_stokes: (<dE>_R - <dE>_P) / 2.   lambda_variance: mean of beta var_R / 2 and beta var_P / 2,
    lambda_variance_reactant / _product: each state's own variance estimate.
    reaction_free_energy: dG = (<dE>_R + <dE>_P) / 2.
    temperature_K: the MD temperature both samples were drawn at.
    n_samples: (n_R, n_P).
    """

    lambda_stokes: float
    lambda_stokes_err: float
    lambda_variance: float
    lambda_variance_err: float
    lambda_variance_reactant: float
    lambda_variance_product: float
    reaction_free_energy: float
    reaction_free_energy_err: float
    temperature_K: float
    n_samples: tuple[int, int]

    @property
    def reorganisation_energy(self) -> float:
        """The Stokes-shift estimate (insensitive to the temperature; the one to hand on)."""
        return self.lambda_stokes

    @property
    def relative_disagreement(self) -> float:
        """|lambda_St - lambda_var| / lambda_St: a linear-response check (0 for harmonic wells)."""
        return abs(self.lambda_stokes - self.lambda_variance) / abs(self.lambda_stokes)

    def alpha(self, dG: float | None = None) -> tuple[float, float]:
        """(alpha, standard error) at driving force ``dG`` (eV; default the sampled dG).

        The error propagates lambda's (and, for the default dG, dG's) standard errors.
        """
        lam, s_lam = self.lambda_stokes, self.lambda_stokes_err
        own = dG is None
        g = self.reaction_free_energy if own else float(dG)
        a = float(marcus_alpha(g, lam))
        var = (g / (2 * lam ** 2) * s_lam) ** 2
        if own:
            var += (self.reaction_free_energy_err / (2 * lam)) ** 2
        return a, float(np.sqrt(var))

    def to_dict(self) -> dict:
        a, a_err = self.alpha()
        return {"lambda_stokes_eV": self.lambda_stokes, "lambda_stokes_err_eV": self.lambda_stokes_err,
                "lambda_variance_eV": self.lambda_variance,
                "lambda_variance_err_eV": self.lambda_variance_err,
                "lambda_variance_reactant_eV": self.lambda_variance_reactant,
                "lambda_variance_product_eV": self.lambda_variance_product,
                "reaction_free_energy_eV": self.reaction_free_energy,
                "reaction_free_energy_err_eV": self.reaction_free_energy_err,
                "alpha_at_dG": a, "alpha_at_dG_err": a_err,
                "temperature_K": self.temperature_K, "n_samples": list(self.n_samples)}


def _blocks(x: np.ndarray, n_blocks: int) -> list[np.ndarray]:
    m = len(x) // n_blocks
    return [x[k * m:(k + 1) * m] for k in range(n_blocks)]


def _series(name: str, x, n_blocks: int) -> np.ndarray:
    x = np.asarray(x, float).ravel()
    if x.size < 2 * n_blocks:
        raise InputError(f"{name}: {x.size} samples; expected at least {2 * n_blocks} "
                         f"(two per block, n_blocks = {n_blocks})")
    if not np.all(np.isfinite(x)):
        raise InputError(f"{name}: NaN or infinite energy gaps")
    return x


def reorganisation_energy(gap_reactant, gap_product, temperature_K: float,
                          n_blocks: int = 10) -> ReorganisationEnergy:
    """Reorganisation energy and driving force from energy-gap time series.

    Args:
        gap_reactant: (n_R,) dE = E_P - E_R (eV) along MD in the reactant state.
        gap_product: (n_P,) the same gap along MD in the product state.
        temperature_K: the (common) MD temperature (K).
        n_blocks: blocks per series for the standard errors (>= 2).
    """
    if temperature_K <= 0:
        raise InputError(f"temperature_K = {temperature_K}; expected > 0 K")
    if n_blocks < 2:
        raise InputError(f"n_blocks = {n_blocks}; expected >= 2")
    gr = _series("gap_reactant", gap_reactant, n_blocks)
    gp = _series("gap_product", gap_product, n_blocks)
    beta = 1.0 / (kB * temperature_K)
    br, bp = _blocks(gr, n_blocks), _blocks(gp, n_blocks)
    mean_r = np.array([b.mean() for b in br])
    mean_p = np.array([b.mean() for b in bp])
    var_r = np.array([b.var(ddof=1) for b in br])
    var_p = np.array([b.var(ddof=1) for b in bp])

    def se(v):
        return float(v.std(ddof=1) / np.sqrt(len(v)))

    lam_st = 0.5 * (gr.mean() - gp.mean())
    lam_st_err = 0.5 * np.hypot(se(mean_r), se(mean_p))
    lam_r = 0.5 * beta * gr.var(ddof=1)
    lam_p = 0.5 * beta * gp.var(ddof=1)
    lam_var = 0.5 * (lam_r + lam_p)
    lam_var_err = 0.25 * beta * np.hypot(se(var_r), se(var_p))
    dG = 0.5 * (gr.mean() + gp.mean())
    return ReorganisationEnergy(
        lambda_stokes=float(lam_st), lambda_stokes_err=float(lam_st_err),
        lambda_variance=float(lam_var), lambda_variance_err=float(lam_var_err),
        lambda_variance_reactant=float(lam_r), lambda_variance_product=float(lam_p),
        reaction_free_energy=float(dG), reaction_free_energy_err=float(lam_st_err),
        temperature_K=float(temperature_K), n_samples=(gr.size, gp.size))
