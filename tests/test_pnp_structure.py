"""PNP with structure from MD: a permittivity profile eps(x) and ion potentials of mean force W_i(x).

Three facts with known answers: ions that feel the same wall potential stay neutral and are simply
Boltzmann-depleted; a uniform permittivity profile is Gouy-Chapman at that permittivity; a
low-permittivity, ion-free film at the electrode is a Stern layer of length d eps_bulk / eps_film."""
import math

import numpy as np
import pytest

from continuum.electrolyte import EPS0, FARADAY, thermal_voltage
from continuum.errors import InputError
from continuum.pnp import PNPSolver1D

T = 298.15
RT = FARADAY * thermal_voltage(T)
C = 100.0                                   # mol/m^3: lambda_D ~ 0.96 nm


def test_a_wall_potential_felt_alike_by_both_ions_depletes_them_without_charge():
    w = lambda x: 2.0 * RT * np.exp(-x / 0.3e-9)      # noqa: E731  (2 RT at the wall, gone in nm)
    s = PNPSolver1D(["Na", "Cl"], [1, -1], [C, C], mean_force_potentials={"Na": w, "Cl": w})
    r = s.solve_steady(0.0)
    # equal W on +1 and -1 ions leaves rho = 0 identically: psi = 0, c_i = c_b exp(-W/RT) at every node
    assert np.max(np.abs(r.phi)) < 1e-10
    assert np.allclose(r.c[0], C * np.exp(-w(r.x) / RT), rtol=1e-9)
    assert np.allclose(r.c[1], r.c[0], rtol=1e-12)


def test_a_uniform_permittivity_profile_is_gouy_chapman_at_that_permittivity():
    eps, phi = 40.0, 0.05
    s = PNPSolver1D(["Na", "Cl"], [1, -1], [C, C], permittivity_profile=lambda x: np.full_like(x, eps))
    sigma = s.solve_steady(phi).surface_charge
    grahame = math.sqrt(8 * EPS0 * eps * RT * C) * math.sinh(phi / (2 * thermal_voltage(T)))
    # the layer mesh resolves the reservoir's Debye length to < 1e-3 in sigma; this layer is 1.4x thinner
    assert sigma == pytest.approx(grahame, rel=5e-3)


def test_a_low_permittivity_ion_free_film_acts_as_a_stern_layer():
    n, length = 2000, 20e-9
    h = length / n
    d, eps_film, phi = 32 * h, 10.0, 0.02                  # a mesh node sits on the film's edge
    film = lambda x: x < d + 1e-3 * h                      # noqa: E731
    s = PNPSolver1D(["Na", "Cl"], [1, -1], [C, C], length=length, n_cells=n, grading="uniform",
                    permittivity_profile=lambda x: np.where(film(x), eps_film, 78.5),
                    mean_force_potentials={k: (lambda x: np.where(film(x), 12.0 * RT, 0.0))
                                           for k in ("Na", "Cl")})
    stern = PNPSolver1D(["Na", "Cl"], [1, -1], [C, C], length=length, n_cells=n, grading="uniform",
                        stern_length=d * 78.5 / eps_film)
    # the film's edge is smeared over one cell (h / d = 3 %) by interpolating the step on the nodes;
    # exp(-12) of the ions leak into it (6e-6)
    assert s.solve_steady(phi).surface_charge == pytest.approx(
        stern.solve_steady(phi).surface_charge, rel=0.03)


def test_a_mean_force_that_does_not_vanish_in_the_bulk_is_refused():
    with pytest.raises(InputError, match="nonzero at the reservoir"):
        PNPSolver1D(["Na", "Cl"], [1, -1], [C, C],
                    mean_force_potentials={"Na": lambda x: np.full_like(x, RT)})
    with pytest.raises(InputError, match="not in"):
        PNPSolver1D(["Na", "Cl"], [1, -1], [C, C], mean_force_potentials={"K": lambda x: 0 * x})
