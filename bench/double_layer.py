"""Double-layer benchmark: FEniCSx PB/GCS vs closed forms, Newton at high potential, C(U) cost,
and the calibration of fluctuation-capacitance error bars.

Run: .venv/bin/python bench/double_layer.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._record import markdown_table, record  # noqa: E402
from continuum.double_layer import differential_capacitance, solve_double_layer  # noqa: E402
from continuum.errors import ConvergenceError  # noqa: E402
from continuum.gouy_chapman import (bikerman_capacitance, bikerman_charge, gouy_chapman_capacitance,  # noqa: E402
                                    gouy_chapman_charge, gouy_chapman_potential, gouy_chapman_stern)
from continuum.electrolyte import E_CHARGE, K_B, debye_length  # noqa: E402
from continuum.pnp import PNPSolver1D  # noqa: E402

KT = K_B * 298.15 / E_CHARGE
SALT = dict(valences=[1, -1])


def status(ok):
    return "met" if ok else "missed"


def gcs_table():
    rows = []
    U = np.array([-0.8, -0.5, -0.2, -0.05, 0.0, 0.05, 0.2, 0.5, 0.8])
    worst = 0.0
    for C_H in (0.1, 0.3):
        for c in (1.0, 10.0, 100.0, 1000.0):
            t = time.perf_counter()
            cv = differential_capacitance(U, concentrations=[c, c], stern_capacitance=C_H, **SALT)
            wall = time.perf_counter() - t
            ref = gouy_chapman_stern(U, c, C_H)
            dC = np.abs(cv.capacitance / ref.capacitance - 1)
            dS = np.abs(cv.surface_charge - ref.surface_charge) / np.max(np.abs(ref.surface_charge))
            k = int(np.argmax(dC))
            worst = max(worst, dC.max())
            rows.append([C_H, c, f"{U[k]:+.2f}", cv.capacitance[k], ref.capacitance[k], cv.capacitance[k] / ref.capacitance[k],
                         dC.max(), dS.max(), int(cv.newton_iterations.max()), wall / len(U), status(dC.max() <= 1e-4)])
    return worst, ("### Gouy-Chapman-Stern capacitance vs the series formula 1/C = 1/C_H + 1/C_GC "
                   "(1:1, 9 potentials in [-0.8, 0.8] V each; target 1e-4 relative)\n\n"
                   + markdown_table(["C_H (F/m^2)", "c (mol/m^3)", "worst U (V)", "C ours (F/m^2)",
                                     "C series formula", "ratio", "max rel err C", "max rel err sigma",
                                     "max Newton its", "s per point (solve + tangent)", "status"], rows))


def profile_table():
    rows = []
    lD = debye_length([100.0, 100.0], [1, -1], 78.5, 298.15)
    for psi0 in (1.0, 4.0, 10.0, 20.0, 30.0, 39.0):
        r = solve_double_layer(psi0 * KT, concentrations=[100.0, 100.0], **SALT)
        ex = gouy_chapman_potential(r.x, psi0 * KT, 100.0)
        err = np.sqrt(np.trapezoid((r.phi - ex) ** 2, r.x) / np.trapezoid(ex ** 2, r.x))
        dS = r.surface_charge / gouy_chapman_charge(psi0 * KT, 100.0) - 1
        dC = r.capacitance / gouy_chapman_capacitance(psi0 * KT, 100.0) - 1
        rows.append([psi0, r.x[1] / lD, err, dS, dC, r.newton_iterations, status(err <= 1e-3 and abs(dS) < 1e-2)])
    return ("### PB potential profile vs Gouy-Chapman (1:1, 100 mol/m^3, P2, 400 cells, default mesh); "
            "targets from the PNP issue: rel L2 of phi <= 1e-3, sigma within 1%\n\n"
            + markdown_table(["psi0 (kT/e)", "first node (lambda_D)", "rel L2 err phi", "sigma/GC - 1",
                              "C/GC - 1", "Newton its", "status"], rows))


def convergence_table():
    rows = []
    lD = debye_length([100.0, 100.0], [1, -1], 78.5, 298.15)
    for deg, target in ((1, 1.9), (2, 2.9)):
        errs = []
        for n in (50, 100, 200, 400):
            # min_cell = L / n: graded_nodes falls back to a uniform mesh, the clean setting for orders.
            r = solve_double_layer(4 * KT, concentrations=[100.0, 100.0], degree=deg, cells=n,
                                   min_cell=20 * lD / n, **SALT)
            ex = gouy_chapman_potential(r.x, 4 * KT, 100.0)
            errs.append(np.sqrt(np.trapezoid((r.phi - ex) ** 2, r.x) / np.trapezoid(ex ** 2, r.x)))
        orders = [np.log2(errs[i] / errs[i + 1]) for i in range(3)]
        rows.append([f"P{deg}", *errs, min(orders), target, status(min(orders) >= target)])
    return ("### Mesh convergence, uniform mesh on 20 lambda_D, psi0 = 4 kT/e vs Gouy-Chapman "
            "(rel L2 of nodal phi, trapezoid); expected orders 2 (P1) and 3 (P2)\n\n"
            + markdown_table(["element", "h=lD/2.5", "h=lD/5", "h=lD/10", "h=lD/20", "min order", "target",
                              "status"], rows))


def bikerman_table():
    rows = []
    for a in (0.5e-9, 0.7e-9):
        for psi0 in (2.0, 10.0, 20.0, 40.0):
            U = psi0 * KT
            r = solve_double_layer(U, concentrations=[100.0, 100.0], ion_size=a, **SALT)
            s_ref, c_ref = bikerman_charge(U, 100.0, a), bikerman_capacitance(U, 100.0, a)
            rows.append([a * 1e9, psi0, r.surface_charge, s_ref, r.surface_charge / s_ref - 1,
                         r.capacitance, c_ref, r.capacitance / c_ref - 1, r.newton_iterations,
                         status(abs(r.surface_charge / s_ref - 1) < 1e-2)])
    return ("### Bikerman (steric) PB vs closed form (Kilic-Bazant-Ajdari 2007), 1:1 100 mol/m^3; "
            "target sigma within 1% (PNP issue)\n\n"
            + markdown_table(["a (nm)", "psi0 (kT/e)", "sigma ours", "sigma closed form", "rel diff",
                              "C ours (F/m^2)", "C closed form", "rel diff", "Newton its", "status"], rows))


def newton_table():
    rows = []
    for label, kw in (("GC (no Stern)", {}), ("GCS C_H = 0.2 F/m^2", dict(stern_capacitance=0.2)),
                      ("Bikerman a = 0.7 nm", dict(ion_size=0.7e-9)),
                      ("2:1 salt, no Stern", dict(valences=[2, -1], concentrations=[50.0, 100.0]))):
        for psi0 in (10.0, 20.0, 30.0, 40.0):
            args = dict(concentrations=[100.0, 100.0], **SALT)
            args.update(kw)
            t = time.perf_counter()
            try:
                r = solve_double_layer(psi0 * KT, **args)
                wall = time.perf_counter() - t
                rows.append([label, psi0, r.newton_iterations, r.diffuse_potential / KT, wall,
                             status(r.newton_iterations <= 15)])
            except ConvergenceError as exc:
                rows.append([label, psi0, "diverged", str(exc)[:60], "", "missed"])
    # The PNP steady state (PNPSolver1D, a PNPSolver slab) on the same problem, for comparison.
    lD = debye_length([100.0, 100.0], [1, -1], 78.5, 298.15)
    for psi0 in (20.0, 30.0):
        s = PNPSolver1D(["Na", "Cl"], [1, -1], [100.0, 100.0], [1e-9, 1e-9], n_cells=400, degree=2,
                        h_min=1e-7 * lD)
        try:
            r = s.solve_steady(psi0 * KT)
            rows.append(["(PNP steady, h_min 1e-7 lD)", psi0, r.newton_iterations, psi0, "", "reference"])
        except ConvergenceError:
            rows.append(["(PNP steady, h_min 1e-7 lD)", psi0, "stalled (50)", psi0, "", "reference"])
    return ("### Newton iterations at high potential (planar first-integral predictor, Stern-aware; "
            "target <= 15 total, as in the PNP issue); wall includes the tangent solve\n\n"
            + markdown_table(["model", "(U - chi) (kT/e)", "Newton its", "phi_d (kT/e)", "wall (s)", "status"],
                             rows))


def tangent_table():
    rows = []
    kw = dict(concentrations=[50.0, 50.0], stern_capacitance=0.25, ion_size=0.6e-9, **SALT)
    for U in (0.05, 0.3, 0.8):
        for h in (1e-3, 1e-4, 1e-5):
            r = differential_capacitance([U - h, U, U + h], **kw)
            fd = (r.surface_charge[2] - r.surface_charge[0]) / (2 * h)
            rows.append([U, h, r.capacitance[1], fd, r.capacitance[1] / fd - 1])
    return ("### Capacitance: tangent (linearised PB) solve vs central finite difference of sigma "
            "(GCS + Bikerman, 50 mol/m^3); the tangent is the exact derivative of the discrete model, "
            "the FD carries h^2 truncation and noise/h\n\n"
            + markdown_table(["U (V)", "FD step (V)", "C tangent (F/m^2)", "C finite diff", "tangent/FD - 1"], rows))


def fluctuation_table():
    from scipy.signal import lfilter

    from atomistic.analysis.charge_fluctuations import ANGSTROM2, fluctuation_capacitance
    rng = np.random.default_rng(2026)
    T, A, sig = 300.0, 400.0, 1.0
    exact = sig ** 2 * E_CHARGE ** 2 / (K_B * T * A * ANGSTROM2)
    rows = []
    for tau, n, nb in ((5.0, 20_000, 10), (50.0, 20_000, 10), (50.0, 200_000, 20)):
        a = np.exp(-1.0 / tau)
        z, rel = [], []
        for _ in range(300):
            e = rng.normal(0.0, sig * np.sqrt(1 - a * a), n)
            e[0] = rng.normal(0.0, sig)
            r = fluctuation_capacitance(lfilter([1.0], [1.0, -a], e), A, T, n_blocks=nb)
            z.append((r.capacitance - exact) / r.stderr)
            rel.append(r.stderr / exact)
        z = np.array(z)
        from scipy.stats import t as student
        rows.append([tau, n, nb, n / nb / tau, np.mean(rel), np.std(z), np.sqrt((nb - 1) / (nb - 3)),
                     np.mean(np.abs(z) < 1), np.mean(np.abs(z) < 2), 2 * student.cdf(2, nb - 1) - 1])
    return ("### Fluctuation capacitance C = <dQ^2>/(kT A): block error bars on 300 synthetic "
            "Ornstein-Uhlenbeck charge series each (known C); z = (C - C_true)/stderr. With "
            "independent blocks z follows Student's t with n_blocks - 1 dof, whose std and 2-sigma "
            "coverage are given alongside\n\n"
            + markdown_table(["tau (frames)", "frames", "blocks", "block / tau", "mean stderr / C",
                              "std of z", "t-dist std", "frac |z|<1", "frac |z|<2", "t-dist |z|<2"], rows))


def main():
    t0 = time.perf_counter()
    worst, gcs = gcs_table()
    parts = [gcs, profile_table(), convergence_table(), bikerman_table(), newton_table(), tangent_table(), fluctuation_table()]
    md = (f"Worst GCS capacitance error over all concentrations, Stern capacitances and potentials: "
          f"{worst:.2e} (target 1e-4: {status(worst <= 1e-4)}). Total wall {time.perf_counter() - t0:.0f} s.\n\n"
          + "\n\n".join(parts))
    print(md)
    record("double_layer", ".venv/bin/python bench/double_layer.py", md)


if __name__ == "__main__":
    main()
