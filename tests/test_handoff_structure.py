"""MD structure through a handoff into the PNP: profiles in MD units (A, kJ/mol, eV) arrive in SI,
and an ion-specific mean force the MD measured changes the continuum answer the way Boltzmann says."""
import numpy as np
import pytest

from continuum.electrolyte import FARADAY, thermal_voltage
from couplers.errors import InputError
from couplers.handoff import Handoff
from couplers.md_to_pnp import compare_profiles, pnp_open_cell

T, C = 298.15, 100.0
RT = FARADAY * thermal_voltage(T)
Z_A = np.linspace(0.0, 60.0, 121)                          # MD grid, Angstrom from the electrode
W_KJ = 3.0 * np.exp(-Z_A / 3.0)                            # kJ/mol, gone by the grid's end


def handoff(extra=()):
    prof = lambda name, kind, sp, values, unit: dict(    # noqa: E731
        name=name, kind=kind, species=sp, grid=Z_A.tolist(), values=list(values), grid_unit="A",
        unit=unit, reference="z = 0 at the electrode's surface plane")
    return Handoff.validate_data(dict(
        temperature=T, relative_permittivity=78.5,
        species=[dict(name="Na", charge_number=1), dict(name="Cl", charge_number=-1)],
        bulk_concentrations={"Na": C, "Cl": C},
        profiles=[prof("W_Na", "mean_force_potential", "Na", W_KJ, "kJ/mol"),
                  prof("W_Cl", "mean_force_potential", "Cl", W_KJ / 96.485, "eV"), *extra]))


def test_a_mean_force_felt_by_both_ions_depletes_them_by_boltzmann():
    _, r = pnp_open_cell(handoff(), 0.0, informed=True)
    w = np.interp(r.x * 1e10, Z_A, W_KJ * 1e3, right=0.0)  # J/mol at the PNP nodes
    # the same W on +1 and -1 ions (one given in kJ/mol, one in eV per ion) keeps rho = 0:
    # c = c_b exp(-W/RT) node by node; eV -> J/mol with the exact F (1e-5 relative from 96.485)
    assert np.allclose(r.c[0], C * np.exp(-w / RT), rtol=1e-4)
    assert np.allclose(r.c[1], r.c[0], rtol=1e-4)
    _, plain = pnp_open_cell(handoff(), 0.0, informed=False)
    assert np.allclose(plain.c, C, rtol=1e-12)             # no structure, no potential: uniform bulk


def test_the_md_profiles_are_compared_beyond_a_chosen_distance():
    conc = dict(name="c_Na", kind="concentration", species="Na", grid=Z_A.tolist(),
                values=(C * np.exp(-W_KJ * 1e3 / RT)).tolist(), stderr=[1.0] * len(Z_A),
                grid_unit="A", unit="mol/m^3")
    conc_cl = dict(conc, name="c_Cl", species="Cl")
    h = handoff([conc, conc_cl])
    _, r = pnp_open_cell(h, 0.0, informed=True)
    m = compare_profiles(h, r, x_min=3e-10)
    # the PNP is this very Boltzmann profile; bin-averaging a curved profile over 0.5 A bins is the only gap
    assert m["Na"]["within_2se"] == 1.0 and m["Na"]["bins"] == 115
    plain = compare_profiles(h, pnp_open_cell(h, 0.0, informed=False)[1], x_min=3e-10)
    assert plain["Na"]["max_abs_z"] > 10                   # uniform c misses a 70 % depletion near the wall


def test_informed_without_structure_is_refused_and_kinds_carry_units():
    h = Handoff.validate_data(dict(temperature=T, relative_permittivity=78.5,
                                   species=[dict(name="Na", charge_number=1), dict(name="Cl", charge_number=-1)],
                                   bulk_concentrations={"Na": C, "Cl": C}))
    with pytest.raises(InputError, match="no permittivity or mean_force_potential"):
        pnp_open_cell(h, 0.0, informed=True)
    with pytest.raises(Exception, match="mean_force_potential"):
        handoff([dict(name="bad", kind="mean_force_potential", species="Na", grid=[0, 1], values=[0, 0],
                      grid_unit="A", unit="V")])
    with pytest.raises(InputError, match="expected dimensionless"):
        handoff([dict(name="eps", kind="permittivity", grid=[0, 1], values=[10, 78], grid_unit="A",
                      unit="V")])
