"""Phonons of EMT Al: sum rule at Gamma, agreement with ASE Phonons, sound velocities from C."""
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.phonons import Phonons

from atomistic.properties.elastic import elastic_constants, relax_cell
from atomistic.emt_committee import EMTCommittee
from atomistic.properties.phonons import phonons, sound_velocities

THZ_PER_EV = 241.79893


@pytest.fixture(scope="module")
def al():
    return relax_cell(bulk("Al", "fcc"), EMT())


@pytest.fixture(scope="module")
def ph(al):
    return phonons(al, EMT(), supercell=(4, 4, 4))


def test_acoustic_modes_vanish_at_gamma(ph):
    assert np.abs(ph.frequencies([0, 0, 0])).max() < 1e-3  # THz, the target


def test_matches_ase_phonons_on_commensurate_q(al, ph, tmp_path):
    ref = Phonons(al, EMT(), supercell=(4, 4, 4), delta=0.01, name=str(tmp_path / "ph"))
    ref.run()
    ref.read(acoustic=True)
    q = np.array([[0.5, 0, 0.5], [0.5, 0.5, 0.5], [0.25, 0, 0.25], [0.25, 0.5, 0.75]])
    ours = ph.frequencies(q)
    theirs = ref.band_structure(q) * THZ_PER_EV
    # same supercell and displacement: both are exact at q commensurate with the supercell
    np.testing.assert_allclose(ours, theirs, rtol=5e-3)


def test_long_wavelength_slope_is_the_sound_velocity(al, ph):
    C = elastic_constants(al, EMT()).C
    rho = al.get_masses().sum() * 1.66053907e-27 / (al.get_volume() * 1e-30)
    v = sound_velocities(C, rho, (1, 0, 0))  # m/s: TA, TA, LA along [100]
    # q along [100] in Cartesian, small: 1 % of the zone
    a_conv = al.cell.lengths()[0] * np.sqrt(2)  # conventional lattice constant, A
    k_cart = np.array([0.01 * 2 / a_conv, 0, 0])  # 1 % of Gamma-X, in cycles/A
    q_red = al.cell @ k_cart  # reduced coordinates: q_red = A k (k in cycles/A)
    f = np.sort(ph.frequencies(q_red)[0])  # THz
    slope = f * 1e12 / (np.linalg.norm(k_cart) * 1e10)  # m/s
    # dispersion curvature at 1 % of the zone plus the finite supercell: 3 %
    np.testing.assert_allclose(slope, v, rtol=0.03)


def test_committee_bands_have_spread(al):
    c = EMTCommittee(n_members=3, spread=0.003)
    r = phonons(al, c, supercell=(2, 2, 2))
    bs = r.band_structure(npoints=20)
    assert bs["members"].shape[0] == 3
    assert bs["std"].max() > 0
    fe = r.free_energy([300], mesh=(8, 8, 8))
    assert fe["std"][0] > 0
