"""Poisson-Boltzmann profiles and charges against closed forms: Gouy-Chapman, Bikerman, 2:1 salt."""
import numpy as np

from continuum.double_layer import differential_capacitance, solve_double_layer
from continuum.gouy_chapman import (bikerman_capacitance, bikerman_charge, gouy_chapman_capacitance,
                                    gouy_chapman_charge, gouy_chapman_potential)
from continuum.electrolyte import E_CHARGE, EPS0, K_B, N_A, debye_length
from continuum.pnp import PNPSolver1D

KT = K_B * 298.15 / E_CHARGE


def test_potential_profile_matches_gouy_chapman():
    r = solve_double_layer(0.2, concentrations=[100.0, 100.0], valences=[1, -1])
    ex = gouy_chapman_potential(r.x, 0.2, 100.0)
    err = np.sqrt(np.trapezoid((r.phi - ex) ** 2, r.x) / np.trapezoid(ex ** 2, r.x))
    # 1e-6: P2 on the graded mesh measures ~1e-8; the PNP issue's target was 1e-3.
    assert err < 1e-6
    # Boltzmann concentrations: counter-ion exp(+phi/kT) at the wall.
    assert abs(r.concentrations[1, 0] / (100.0 * np.exp(r.phi[0] / KT)) - 1) < 1e-12


def test_divalent_valence_follows_z_scaled_gouy_chapman():
    r = solve_double_layer(0.1, concentrations=[20.0, 20.0], valences=[2, -2])
    # 1e-7: discretisation error of sigma and its tangent (measured ~1e-9).
    assert abs(r.surface_charge / gouy_chapman_charge(0.1, 20.0, 2) - 1) < 1e-7
    assert abs(r.capacitance / gouy_chapman_capacitance(0.1, 20.0, 2) - 1) < 1e-7


def test_asymmetric_salt_charge_obeys_the_first_integral():
    # 2:1 (e.g. CaCl2): sigma = sign(phi) sqrt(2 eps kT N_A sum_i c_i (exp(-z_i e phi/kT) - 1)).
    c, z, phi = np.array([50.0, 100.0]), np.array([2, -1]), -0.15
    r = solve_double_layer(phi, concentrations=c, valences=z)
    ref = -np.sqrt(2 * 78.5 * EPS0 * K_B * 298.15 * N_A * np.sum(c * np.expm1(-z * phi / KT)))
    assert abs(r.surface_charge / ref - 1) < 1e-7  # 1e-7: discretisation, measured ~1e-9


def test_bikerman_charge_and_capacitance_match_closed_form_at_high_potential():
    a = 0.7e-9
    for U in (0.25, 1.0):  # 10 and 39 kT/e: the crowded (saturated) regime at 1 V
        r = solve_double_layer(U, concentrations=[100.0, 100.0], valences=[1, -1], ion_size=a)
        # 1e-6: discretisation (measured ~2e-9); the PNP issue's target was 1%.
        assert abs(r.surface_charge / bikerman_charge(U, 100.0, a) - 1) < 1e-6
        assert abs(r.capacitance / bikerman_capacitance(U, 100.0, a) - 1) < 1e-6
        # Steric saturation: no ion exceeds close packing 1/(a^3 N_A).
        assert r.concentrations.max() <= 1 / (a ** 3 * N_A) * (1 + 1e-9)


def test_gouy_chapman_at_40_kT_converges_in_few_newton_iterations():
    r = solve_double_layer(1.0, concentrations=[100.0, 100.0], valences=[1, -1])
    assert r.newton_iterations <= 5  # planar predictor: Newton only polishes (measured 3)
    # 1e-6: the adaptive first cell (1e-11 lambda_D here) resolves the exp(-19) layer (measured 1e-8).
    assert abs(r.surface_charge / gouy_chapman_charge(1.0, 100.0) - 1) < 1e-6


def test_equilibrium_pb_equals_the_steady_pnp_state():
    # The same physics two ways: PNP zero-flux steady state vs Boltzmann-eliminated PB.
    lD = debye_length([100.0, 100.0], [1, -1], 78.5, 298.15)
    s = PNPSolver1D(["Na", "Cl"], [1, -1], [100.0, 100.0], [1e-9, 1e-9], n_cells=400, degree=2,
                    h_min=1e-3 * lD, stern_length=0.5e-9)
    pnp = s.solve_steady(4 * KT)
    pb = solve_double_layer(4 * KT, concentrations=[100.0, 100.0], valences=[1, -1],
                            stern_capacitance=78.5 * EPS0 / 0.5e-9, min_cell=1e-3 * lD)
    # 1e-6: same mesh and Robin length, two formulations; both at discretisation level (~1e-9).
    assert abs(pnp.surface_charge / pb.surface_charge - 1) < 1e-6


def test_bikerman_capacitance_is_camel_shaped_when_dilute_and_bell_shaped_when_crowded():
    # Kornyshev (J. Phys. Chem. B 111, 5545 (2007)): maxima off the pzc for packing nu < 1/3,
    # a single maximum at the pzc for nu > 1/3.
    U = np.linspace(-0.3, 0.3, 13)
    dilute = differential_capacitance(U, concentrations=[100.0, 100.0], valences=[1, -1], ion_size=0.7e-9)
    crowded = differential_capacitance(U, concentrations=[1000.0, 1000.0], valences=[1, -1], ion_size=0.9e-9)
    assert abs(U[np.argmax(dilute.capacitance)]) > 0.05   # nu = 0.04: camel
    assert U[np.argmax(crowded.capacitance)] == 0.0        # nu = 0.88: bell
    # Symmetric 1:1 salt: C(U) = C(-U) to solver precision (1e-8 relative).
    assert np.allclose(dilute.capacitance, dilute.capacitance[::-1], rtol=1e-8)


def test_two_mpi_ranks_agree_with_serial():
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    code = ("from mpi4py import MPI\nfrom continuum.double_layer import solve_double_layer\n"
            "r = solve_double_layer(0.3, concentrations=[100.0, 100.0], valences=[1, -1], stern_capacitance=0.2)\n"
            "print('RES', r.surface_charge, r.capacitance) if MPI.COMM_WORLD.rank == 0 else None\n")
    out = subprocess.run([str(Path(sys.executable).parent / "mpiexec"), "-n", "2", sys.executable, "-c", code],
                         cwd=root, capture_output=True, text=True, timeout=200,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    sigma, cap = (float(v) for v in out.stdout.split("RES")[1].split()[:2])
    r = solve_double_layer(0.3, concentrations=[100.0, 100.0], valences=[1, -1], stern_capacitance=0.2)
    # 1e-10: same discretisation; only the partition and the parallel LU differ.
    assert abs(sigma / r.surface_charge - 1) < 1e-10 and abs(cap / r.capacitance - 1) < 1e-10
