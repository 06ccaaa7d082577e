"""Frumkin-Butler-Volmer electrode flux: the steady PNP current of a thin film approaches the
Bazant-Chu-Bayly thin-double-layer current-voltage relation as lambda_D/L -> 0, reaches the
diffusion-limited current 2FDc/L, and exceeds it at strong overpotential (superlimiting current)."""
import pytest

from continuum.electrolyte import E_CHARGE, FARADAY, K_B, debye_length
from continuum.meshes import slab_mesh
from continuum.pnp import PNPSolver
from continuum.reactions import FBVReaction, thin_film_fbv_current

KT = K_B * 298.15 / E_CHARGE
C, D, LS = 100.0, 1e-9, 0.3e-9
LD = debye_length([C, C], [1, -1], 78.5, 298.15)


def _cell(L_debye):
    L = L_debye * LD
    kf = D / L                      # Damkoehler number 1: reaction and diffusion both matter
    kb = kf * C                     # equilibrium (zero current) at zero electrode potential
    m, t = slab_mesh(L, 400, h_min=1e-3 * LD)
    s = PNPSolver(["Cu", "Cl"], [1, -1], [C, C], [D, D], m, t, degree=2, stern_length=LS,
                  reactions=[FBVReaction("Cu", kf, kb, alpha=0.5)])
    return s, L, kf, kb


@pytest.fixture(scope="module")
def currents():
    out = {}
    for L_debye in (200, 1000):
        s, L, kf, kb = _cell(L_debye)
        for V in (2.0, -0.5, -2.0, -20.0):
            r = s.solve_steady(V * KT)
            ref = thin_film_fbv_current(V * KT, C, D, L, kf, kb, LS)[0]
            out[(L_debye, V)] = (r.current_densities[1], ref, 2 * FARADAY * D * C / L, r)
    return out


def test_current_matches_thin_film_fbv(currents):
    for V in (2.0, -0.5, -2.0):
        I, ref, _, _ = currents[(1000, V)]
        # 2e-3: the thin-film relation is leading order in lambda_D/L = 1e-3 (measured 2.5e-4..8.7e-4).
        assert abs(I / ref - 1) < 2e-3


def test_deviation_shrinks_with_debye_length_over_film_thickness(currents):
    for V in (2.0, -2.0):
        e200 = abs(currents[(200, V)][0] / currents[(200, V)][1] - 1)
        e1000 = abs(currents[(1000, V)][0] / currents[(1000, V)][1] - 1)
        # O(lambda_D/L): 5x thinner double layer, at least 3x closer to the asymptotic relation.
        assert e1000 < e200 / 3


def test_zero_current_at_equilibrium_and_no_anion_flux():
    s, L, kf, kb = _cell(200)
    r = s.solve_steady(0.0)
    Ilim = 2 * FARADAY * D * C / L
    # k_b = k_f c_b makes 0 V the equilibrium potential: current 0 to Newton tolerance.
    assert abs(r.current_densities[1]) < 1e-10 * Ilim


def test_superlimiting_current_at_strong_overpotential(currents):
    I200, _, Ilim200, _ = currents[(200, -20.0)]
    I1000, _, Ilim1000, _ = currents[(1000, -20.0)]
    # Beyond the diffusion limit 2FDc/L the expanding space charge carries extra current
    # (Bazant-Chu-Bayly 2005); the excess shrinks as lambda_D/L -> 0.
    assert I200 / Ilim200 > I1000 / Ilim1000 > 1.0
    assert I1000 / Ilim1000 < 1.1
