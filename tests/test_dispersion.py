"""D3 dispersion on top of a calculator: an attraction that falls off as r^-6, added to the
base's energy, forces and stress exactly, and leaving the base's other results alone."""
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk, molecule
from ase.calculators.emt import EMT
from dftd3.ase import DFTD3

from atomistic.errors import InputError
from atomistic.md.dispersion import D3


def water_dimer(r_oo: float):
    a, b = molecule("H2O"), molecule("H2O")
    b.translate((0.0, 0.0, r_oo))
    return a + b


def test_two_waters_attract_and_the_attraction_falls_off_as_r_to_the_minus_six():
    def e_d3(atoms):
        atoms.calc = D3(EMT())
        atoms.get_potential_energy()
        return atoms.calc.results["dispersion_energy"]

    monomer = e_d3(molecule("H2O"))

    def binding(r):   # the dispersion between the molecules: D3 also counts pairs within one
        return e_d3(water_dimer(r)) - 2 * monomer

    e8, e16 = binding(8.0), binding(16.0)
    d = water_dimer(8.0)
    d.calc = D3(EMT())   # asked for by name, as any other property
    assert d.calc.get_property("dispersion_energy", d) - 2 * monomer == pytest.approx(e8)
    assert e8 < 0 and e16 < 0
    # beyond the damping radius E = -C6/r^6 - C8/r^8 (the C8 term ~ 1/16 of C6's at 8 A):
    # doubling r divides it by 64, within the C8 term's share
    assert e8 / e16 == pytest.approx(64, rel=0.1)


def test_energy_forces_and_stress_are_the_base_plus_simple_dftd3():
    a = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    a.rattle(0.05, seed=2)
    a.calc = D3(EMT(), functional="PBE", damping="d3bj")
    e, f, s = a.get_potential_energy(), a.get_forces(), a.get_stress()
    parts = []
    for calc in (EMT(), DFTD3(method="PBE", damping="d3bj")):
        b = a.copy()
        b.calc = calc
        parts.append((b.get_potential_energy(), b.get_forces(), b.get_stress()))
    # a sum of two double-precision results: equal to round-off
    assert e == pytest.approx(parts[0][0] + parts[1][0], abs=1e-10)
    assert np.allclose(f, parts[0][1] + parts[1][1], rtol=0, atol=1e-10)
    assert np.allclose(s, parts[0][2] + parts[1][2], rtol=0, atol=1e-10)


def test_the_forces_are_minus_the_gradient_of_the_summed_energy():
    d = water_dimer(3.0)
    d.calc = D3(EMT())
    f = d.get_forces()
    h, i = 1e-4, 3   # the second molecule's O, along z
    e = []
    for s in (h, -h):
        p = d.positions.copy()
        p[i, 2] += s
        d.positions = p
        e.append(d.get_potential_energy())
        p[i, 2] -= s
        d.positions = p
    # central difference, error ~ h^2 E''' ~ 1e-8 eV/A for these smooth terms
    assert f[i, 2] == pytest.approx(-(e[0] - e[1]) / (2 * h), abs=1e-6)


def test_the_committees_uncertainty_and_charges_pass_through():
    from atomistic.interface.electrolyte_cells import water_box
    from atomistic.mlip.potential import load_potential

    calc = load_potential(Path(__file__).resolve().parents[1] / "data" / "nacl_cu" /
                          "potential.mlip.pt")
    a = water_box(8, ("Na", "Cl"), seed=3)
    a.calc = calc
    f0, q0, dev0 = a.get_forces(), a.get_charges(), calc.get_property("max_force_dev", a)
    a.calc = D3(calc)
    f = a.get_forces()
    assert a.calc.get_property("max_force_dev", a) == dev0    # the committee's own numbers
    assert np.array_equal(a.get_charges(), q0)
    b = a.copy()
    b.calc = DFTD3(method="PBE", damping="d3bj")
    assert np.allclose(f - f0, b.get_forces(), rtol=0, atol=1e-6)   # float32 committee


def test_unknown_damping_or_functional_is_refused_by_name():
    with pytest.raises(InputError, match="damping: 'd4'"):
        D3(EMT(), damping="d4")
    with pytest.raises(InputError, match="functional: 'PBX'"):
        D3(EMT(), functional="PBX")
