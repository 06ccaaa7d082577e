"""Marcus reorganisation energy from energy-gap MD on displaced harmonic wells, vs the analytic lambda.

Run:  .venv/bin/python bench/marcus.py          (about 1-2 min on 2 shared cores)

Model: 8 atoms (mass 10 amu) in two harmonic wells, k = 2 eV/A^2, minima
displaced so that lambda = k/2 |d|^2 = 0.5 eV, product offset dG = -0.2 eV,
T = 300 K. Linear-response Marcus theory is exact here, so both estimators
must converge to lambda:

- Stokes shift: (<dE>_R - <dE>_P) / 2,
- variance: beta var(dE) / 2 (mean of the two states),

from 40 000 gap samples per state (BAOAB Langevin, dt = 0.5/omega, friction
omega, a sample every 2 steps). Target: both within 2 % of lambda.

alpha(dG) = 1/2 + dG/(2 lambda) recovered two ways at five driving forces:
(a) from the MD lambda (``ReorganisationEnergy.alpha``); (b) with no Marcus
formula at all: the activation energy Ea(dG) as the minimum of E_R on the
crossing seam E_R = E_P (constrained minimisation, SLSQP), fitted with
``fit_transfer_coefficient`` (quadratic), whose slope is alpha and whose
curvature gives lambda.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ase import Atoms, units  # noqa: E402

from atomistic.reactions.energy_gap import sample_energy_gap  # noqa: E402
from atomistic.reactions.harmonic_well import HarmonicWell  # noqa: E402
from atomistic.reactions.marcus import marcus_alpha, reorganisation_energy  # noqa: E402
from atomistic.reactions.transfer_coefficient import fit_transfer_coefficient  # noqa: E402
from bench._record import markdown_table, record  # noqa: E402

N, K, MASS, LAM, DG, T = 8, 2.0, 10.0, 0.5, -0.2, 300.0


def wells(dG=DG, seed=1):
    rng = np.random.default_rng(seed)
    atoms = Atoms("H" * N, positions=rng.normal(0, 2, (N, 3)), masses=[MASS] * N)
    d = rng.normal(size=(N, 3))
    d *= np.sqrt(2 * LAM / K / (d * d).sum())
    return atoms, HarmonicWell(atoms.positions, K, 0.0), HarmonicWell(atoms.positions + d, K, dG)


def seam_barrier(atoms, R, P):
    """min E_R on the seam E_R = E_P (eV), by constrained minimisation: no Marcus formula used."""
    from scipy.optimize import minimize

    def e(calc, x):
        a = atoms.copy()
        a.positions = x.reshape(-1, 3)
        a.calc = calc
        return a.get_potential_energy()

    x0 = 0.5 * (R.minimum + P.minimum).ravel()
    res = minimize(lambda x: e(R, x), x0, method="SLSQP", tol=1e-12,
                   constraints=[{"type": "eq", "fun": lambda x: e(P, x) - e(R, x)}])
    return float(res.fun) - R.offset


def main():
    t0 = time.perf_counter()
    atoms, R, P = wells()
    omega = np.sqrt(K / MASS) * units.fs  # 1/fs
    kw = dict(temperature_K=T, n_samples=40000, interval=2, timestep_fs=0.5 / omega,
              friction=omega, equilibrate=200)
    t = time.perf_counter()
    gr = sample_energy_gap(atoms, R, P, state="reactant", seed=1, **kw)
    gp = sample_energy_gap(atoms, R, P, state="product", seed=2, **kw)
    t_md = time.perf_counter() - t
    res = reorganisation_energy(gr, gp, T, n_blocks=20)

    def row(name, val, err, ref, target):
        rel = val / ref - 1
        return [name, f"{val:.4f} ± {err:.4f}", ref, round(val / ref, 4), f"{100 * rel:+.2f} %",
                target, "met" if abs(rel) <= 0.02 else "missed"]

    lam_rows = [
        row("λ, Stokes shift (<ΔE>_R - <ΔE>_P)/2", res.lambda_stokes, res.lambda_stokes_err, LAM,
            "±2 %"),
        row("λ, variance β var(ΔE)/2", res.lambda_variance, res.lambda_variance_err, LAM, "±2 %"),
        ["ΔG = (<ΔE>_R + <ΔE>_P)/2 (eV)", f"{res.reaction_free_energy:.4f} ± "
         f"{res.reaction_free_energy_err:.4f}", DG, "-",
         f"{res.reaction_free_energy - DG:+.4f} eV", "-", "-"],
    ]
    lam_table = markdown_table(["quantity (eV)", "ours (MD)", "analytic", "ratio", "diff",
                                "target", "status"], lam_rows)

    # alpha(dG): MD lambda vs the slope of seam barriers (no Marcus formula), vs analytic
    dGs = np.array([-0.3, -0.15, 0.0, 0.15, 0.3])
    barriers = np.array([seam_barrier(*wells(dG)) for dG in dGs])
    fit = fit_transfer_coefficient(dGs, barriers, reference_electrode="driving force scale (eV)",
                                   model="quadratic", at_potential=0.0)
    a_rows = []
    worst = 0.0
    for g in dGs:
        exact = float(marcus_alpha(g, LAM))
        a_md, a_md_err = res.alpha(g)
        a_fit = fit.alpha_at(g)
        worst = max(worst, abs(a_md - exact), abs(a_fit - exact))
        a_rows.append([f"{g:+.2f}", round(exact, 4), f"{a_md:.4f} ± {a_md_err:.4f}",
                       round(a_fit, 4), f"{a_md - exact:+.4f}", f"{a_fit - exact:+.4f}"])
    a_table = markdown_table(["ΔG (eV)", "α analytic 1/2+ΔG/(2λ)", "α from MD λ",
                              "α from seam barriers (fit slope)", "diff (MD)", "diff (seam)"],
                             a_rows)
    notes = (f"Displaced harmonic wells: {N} atoms, k = {K} eV/Å², m = {MASS} amu, λ = {LAM} eV, "
             f"ΔG = {DG} eV, T = {T} K; {kw['n_samples']} gap samples per state, BAOAB dt = "
             f"{kw['timestep_fs']:.1f} fs (ω dt = 0.5), MD wall time {t_md:.0f} s. λ from the "
             f"seam-barrier curvature: {fit.reorganisation_energy:.5f} eV. Largest |α - analytic| "
             f"over the five ΔG: {worst:.4f}. Variance estimator per state: R "
             f"{res.lambda_variance_reactant:.4f}, P {res.lambda_variance_product:.4f} eV. "
             f"Total wall {time.perf_counter() - t0:.0f} s.")
    body = lam_table + "\n\n" + a_table + "\n\n" + notes
    print(body)
    record("marcus", ".venv/bin/python bench/marcus.py", body)


if __name__ == "__main__":
    main()
