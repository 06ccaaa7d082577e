"""Elastic constants of EMT fcc metals: cubic symmetry, two fits agree, B from C equals the EOS fit."""
import numpy as np
import pytest
from ase.build import bulk, molecule
from ase.calculators.emt import EMT

from atomistic.properties.elastic import elastic_constants, eos_bulk_modulus, relax_cell
from atomistic.emt_committee import EMTCommittee
from atomistic.errors import InputError


@pytest.fixture(scope="module")
def al():
    return relax_cell(bulk("Al", "fcc"), EMT())


def test_stress_and_energy_fits_agree_and_are_cubic(al):
    s = elastic_constants(al, EMT())
    e = elastic_constants(al, EMT(), method="energy", n_strains=5)
    # two independent routes (first vs second derivative) on the same cell; 0.5 % covers fit noise
    np.testing.assert_allclose(np.diag(e.C)[:4], np.diag(s.C)[:4], rtol=5e-3)
    assert e.C[0, 1] == pytest.approx(s.C[0, 1], rel=5e-3)
    assert s.C[0, 0] == pytest.approx(s.C[1, 1], rel=1e-6)  # cubic: isotropic strain response
    assert abs(s.C[0, 3]) < 1e-3 * s.C[0, 0]
    assert s.stable
    assert s.C_err[0, 0] < 0.01 * s.C[0, 0]


def test_bulk_modulus_from_C_matches_eos(al):
    s = elastic_constants(al, EMT())
    b = eos_bulk_modulus(al, EMT(), span=0.01)
    assert s.moduli["K_VRH"] == pytest.approx(b.B, rel=0.01)  # the 1 % target


def test_committee_gives_spread(al):
    c = EMTCommittee(n_members=3, spread=0.003)
    r = elastic_constants(relax_cell(al, c), c, n_strains=3)
    assert r.C_spread is not None and len(r.C_members) == 3
    assert 0 < r.C_spread[0, 0] < 0.5 * r.C[0, 0]


def test_non_periodic_is_an_input_error():
    m = molecule("H2O")
    with pytest.raises(InputError, match="periodic"):
        elastic_constants(m, EMT())


def test_unrelaxed_cell_is_an_input_error():
    a = bulk("Cu", "fcc", a=3.5)  # EMT Cu relaxes to about 3.59 A: several GPa of stress
    with pytest.raises(InputError, match="relax"):
        elastic_constants(a, EMT())
