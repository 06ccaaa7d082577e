"""One MD interface into a handoff and a PNP at the MD's surface charge: a plain cell obeys
Grahame's equation and Gouy-Chapman's capacitance; what the MD could not measure is filled
visibly, never silently."""
import math

import numpy as np
import pytest

from continuum.electrolyte import EPS0, FARADAY, thermal_voltage
from couplers.errors import InputError
from couplers.md_to_pnp import (EPS_PERP_MAX, EXCLUDED_RT, interface_handoff, pnp_at_surface_charge,
                                pnp_capacitance)

T, C = 298.15, 100.0
RT = FARADAY * thermal_voltage(T)
X = np.linspace(0.25e-10, 14.75e-10, 30)


def plain(**extra):
    return interface_handoff(temperature=T, species={"Na": 1, "Cl": -1},
                             bulk_concentrations={"Na": C, "Cl": C},
                             diffusivities={"Na": (1.3e-9, 1e-10), "Cl": (2.0e-9, 1e-10)},
                             epsilon_r=78.5, x=X, reference="x = 0 at the surface plane", **extra)


def test_a_plain_cell_at_an_md_surface_charge_sits_at_grahames_potential():
    sigma = 0.02                                                     # C/m^2
    psi, r = pnp_at_surface_charge(plain(), sigma, informed=False)
    grahame = 2 * thermal_voltage(T) * math.asinh(sigma / math.sqrt(8 * EPS0 * 78.5 * RT * C))
    assert r.surface_charge == pytest.approx(sigma, rel=1e-5)       # Brent to 1e-6 V
    assert psi == pytest.approx(grahame, rel=5e-3)                   # the solver's mesh error (test_pnp_structure)
    cap = pnp_capacitance(plain(), psi, informed=False)
    debye = math.sqrt(EPS0 * 78.5 * RT / (2 * FARADAY ** 2 * C))     # m
    gc = EPS0 * 78.5 / debye * math.cosh(psi / (2 * thermal_voltage(T)))
    assert cap == pytest.approx(gc, rel=5e-3)        # the same mesh error; O(step^2) is 1e-6


def test_an_unreachable_surface_charge_is_refused_by_name():
    with pytest.raises(InputError, match="outside what potentials"):
        pnp_at_surface_charge(plain(), 50.0, informed=False, bracket=(-0.1, 0.1))


def test_unmeasured_bins_are_filled_visibly():
    w = np.where(X < 2e-10, np.nan, 0.0)                            # the ion never came this close
    eps = np.where(X < 3e-10, -5.0, np.nan)                          # over-screened, then unmeasured
    eps[X > 5e-10] = 60.0
    h = plain(mean_force_potentials={"Na": (w, np.zeros_like(w)), "Cl": (np.zeros_like(w), None)},
              permittivity=(eps, np.zeros_like(eps)))
    wp = h.profile("mean_force_potential", "Na")
    _, w_si, _ = wp.si()
    assert np.allclose(w_si[X < 2e-10], EXCLUDED_RT * RT)
    assert f"({int(np.sum(X < 2e-10))} bins filled)" in wp.name
    _, e_si, _ = h.profile("permittivity").si()
    assert np.all(e_si[X < 3e-10] == 1.0)                            # clipped into [1, EPS_PERP_MAX]
    assert np.all(e_si[(X >= 3e-10) & (X <= 5e-10)] == 78.5)         # unmeasured: the bulk value
    assert np.all(e_si <= EPS_PERP_MAX)
    assert h.profile("mean_force_potential", "Cl").name == "W_Cl"    # nothing filled, nothing said
    with pytest.raises(InputError, match="diffusivities"):
        interface_handoff(temperature=T, species={"Na": 1}, bulk_concentrations={"Na": C},
                          diffusivities={}, epsilon_r=78.5, x=X, reference="")
