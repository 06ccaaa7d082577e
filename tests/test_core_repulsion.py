"""The ZBL core repulsion under the learned potential (atomistic.mlip.repulsion).

Facts: it is the published ZBL screened Coulomb energy of two nuclei, it tends to their
bare Coulomb energy as r -> 0, it and its slope vanish at the covalent-radius sum, a
model with it is the same network plus that pair sum, with forces and stress its exact
derivatives, and a warm start across the switch loads.
"""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ase import Atoms
from ase.data import covalent_radii

from atomistic.mlip.calculator import CommitteeCalculator
from atomistic.mlip.model import MomentPotential
from atomistic.mlip.repulsion import CoreRepulsion

KE = 14.399645  # eV A, e^2 / (4 pi eps0)


def zbl_published(z1, z2, r):
    """ZBL (Ziegler, Biersack & Littmark 1985) times the p = 6 polynomial envelope, written
    out here from the published constants."""
    a = 0.46850 / (z1 ** 0.23 + z2 ** 0.23)
    x = r / a
    phi = (0.18175 * math.exp(-3.19980 * x) + 0.50986 * math.exp(-0.94229 * x)
           + 0.28022 * math.exp(-0.40290 * x) + 0.02817 * math.exp(-0.20162 * x))
    u = r / (covalent_radii[z1] + covalent_radii[z2])
    envelope = 1 - 28 * u ** 6 + 48 * u ** 7 - 21 * u ** 8 if u < 1 else 0.0
    return KE * z1 * z2 / r * phi * envelope


def pair_energy(z1, z2, r, dtype=torch.float64):
    core = CoreRepulsion([z1, z2]).to(dtype)
    rr = torch.tensor([r, r], dtype=dtype)
    pair_type = torch.tensor([0 * 2 + 1, 1 * 2 + 0])   # 0 -> 1 and 1 -> 0
    return float(core(rr, pair_type, torch.tensor([0, 1]), 2).sum())


@pytest.mark.parametrize("r", [0.3, 0.9, 1.5, 2.0])
def test_a_pair_carries_the_published_zbl_energy(r):
    # Na-O: the pair that collapsed in hot MD of the NaCl(aq) committee
    assert pair_energy(11, 8, r) == pytest.approx(zbl_published(11, 8, r), rel=1e-12)


def test_at_short_range_it_is_the_bare_nuclear_coulomb_energy():
    # phi(0) = 0.18175 + 0.50986 + 0.28022 + 0.02817 = 1; at r = 1e-3 A phi ~ 1 - 0.0075
    r = 1e-3
    ratio = pair_energy(11, 8, r) / (KE * 11 * 8 / r)
    assert 0.99 < ratio < 1.0


def test_it_and_its_slope_vanish_at_the_covalent_radius_sum():
    r_max = covalent_radii[11] + covalent_radii[8]
    h = 1e-6
    below = r_max * (1 - 1e-3)
    slope = (pair_energy(11, 8, below + h) - pair_energy(11, 8, below - h)) / (2 * h)
    assert abs(pair_energy(11, 8, below)) < 1e-6      # envelope ~ 56 (1e-3)^3 of ~1 eV
    assert abs(slope) < 1e-3                          # ~ 168 (1e-3)^2 eV/A
    assert pair_energy(11, 8, r_max * 1.001) == 0.0


def _nao(r, pbc=True):
    atoms = Atoms("NaO", positions=[[0, 0, 0], [r, 0.1, 0.05]], cell=[9.0, 9.5, 10.0], pbc=pbc)
    atoms.center()
    return atoms


def test_a_repulsive_model_is_its_network_plus_the_zbl_pair_sum():
    torch.manual_seed(0)
    plain = MomentPotential([8, 11], cutoff=4.0, n_channels=4, hidden=[8])
    prior = MomentPotential([8, 11], cutoff=4.0, n_channels=4, hidden=[8], repulsion=True)
    prior.load_state_dict(plain.state_dict())   # the prior adds no saved state
    for r in (1.3, 1.8, 2.6):
        atoms = _nao(r)
        d = atoms.get_distance(0, 1)
        e_plain = CommitteeCalculator([plain], dtype="float64").get_potential_energy(atoms)
        e_prior = CommitteeCalculator([prior], dtype="float64").get_potential_energy(atoms)
        assert e_prior - e_plain == pytest.approx(zbl_published(11, 8, d), abs=1e-10)


def test_forces_and_stress_are_the_derivatives_of_the_energy_with_the_prior():
    torch.manual_seed(1)
    calc = CommitteeCalculator([MomentPotential([8, 11], cutoff=4.0, n_channels=4,
                                                hidden=[8], repulsion=True)], dtype="float64")
    atoms = _nao(1.4)
    atoms.calc = calc
    f = atoms.get_forces()
    stress = atoms.get_stress(voigt=False)
    h = 1e-5
    for k in range(3):
        plus, minus = atoms.copy(), atoms.copy()
        plus.positions[1, k] += h
        minus.positions[1, k] -= h
        plus.calc = minus.calc = calc
        fd = -(plus.get_potential_energy() - minus.get_potential_energy()) / (2 * h)
        assert f[1, k] == pytest.approx(fd, abs=1e-6)   # central difference, O(h^2) ~ 1e-9
    eps = np.zeros((3, 3))
    eps[0, 0] = h
    strained = []
    for sign in (1, -1):
        a = atoms.copy()
        a.set_cell(atoms.cell.array @ (np.eye(3) + sign * eps), scale_atoms=True)
        a.calc = calc
        strained.append(a.get_potential_energy())
    fd_xx = (strained[0] - strained[1]) / (2 * h) / atoms.get_volume()
    assert stress[0, 0] == pytest.approx(fd_xx, abs=1e-7)   # eV/A^3; the pair's virial


def test_the_prior_makes_a_collapse_cost_energy_that_no_data_was_needed_for():
    # an untrained network is flat-ish at every distance; with the prior, pushing Na onto
    # O from 2.4 to 1.2 A costs at least the ZBL energy at 1.2 A (~6 eV) minus the
    # network's own swing (< 1 eV for these tiny random weights: measured 0.05 eV)
    torch.manual_seed(2)
    calc = CommitteeCalculator([MomentPotential([8, 11], cutoff=4.0, n_channels=4,
                                                hidden=[8], repulsion=True)], dtype="float64")
    cost = calc.get_potential_energy(_nao(1.2)) - calc.get_potential_energy(_nao(2.4))
    assert cost > zbl_published(11, 8, _nao(1.2).get_distance(0, 1)) - 1.0


def test_a_committee_gains_the_prior_in_a_warm_start(tmp_path):
    # the prior has no parameters: a campaign switches it on and keeps its weights
    from ase.calculators.emt import EMT

    from atomistic.mlip.potential import load_potential
    from atomistic.mlip.reference_frames import rattled_fcc
    from atomistic.mlip.training import train_committee

    torch.set_num_threads(1)
    frames = rattled_fcc("Cu", EMT(), 4, size=(2, 2, 1), rattle=0.05, seed=3)
    tiny = {"n_members": 1, "epochs": 2, "hidden": [8], "n_channels": 4, "cutoff": 4.0,
            "valid_fraction": 0.0}
    train_committee(frames, tiny, tmp_path / "plain.pt", progress=False)
    calc = train_committee(frames, {**tiny, "repulsion": True}, tmp_path / "zbl.pt",
                           progress=False, warm_start=tmp_path / "plain.pt")
    assert calc.models[0].repulsion
    assert load_potential(tmp_path / "zbl.pt").models[0].repulsion   # saved and loaded
