"""Physics of the learned potential itself: derivatives, symmetry, periodicity."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.fd import calculate_numerical_forces, calculate_numerical_stress

from atomistic.mlip.calculator import CommitteeCalculator
from atomistic.mlip.graph import UnknownElementError
from atomistic.mlip.model import MomentPotential


def _calc(elements=(29,), seed=0, l_max=3, n=1, coupling=False):
    models = []
    for k in range(n):
        torch.manual_seed(seed + k)
        models.append(MomentPotential(list(elements), cutoff=4.5, l_max=l_max, hidden=[16, 16],
                                      coupling=coupling))
    return CommitteeCalculator(models, dtype="float64")


def _cu(size=(2, 2, 2), rattle=0.1):
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(size)
    atoms.rattle(rattle, seed=3)
    return atoms


def _triclinic_cuau():
    atoms = bulk("Cu", "fcc", a=3.6).repeat((3, 3, 3))  # primitive fcc: a triclinic cell
    atoms.numbers[::3] = 79
    atoms.rattle(0.05, seed=4)
    return atoms


@pytest.mark.parametrize("coupling", [False, True])
@pytest.mark.parametrize("make", [_cu, _triclinic_cuau])
def test_forces_are_minus_the_finite_difference_energy_gradient(make, coupling):
    atoms = make()
    atoms.calc = _calc((29, 79), coupling=coupling)
    # float64 central differences with eps=1e-5 A: truncation error ~eps^2 * F''' < 1e-8 eV/A
    assert np.abs(atoms.get_forces() - calculate_numerical_forces(atoms, eps=1e-5)).max() < 1e-7


@pytest.mark.parametrize("make", [_cu, _triclinic_cuau])
def test_stress_is_the_finite_difference_strain_derivative(make):
    atoms = make()
    atoms.calc = _calc((29, 79))
    # same float64 central-difference argument, strain step 1e-6; stress ~1e-3 eV/A^3
    assert np.abs(atoms.get_stress() - calculate_numerical_stress(atoms, eps=1e-6)).max() < 1e-8


def test_molecule_forces_match_finite_differences_without_a_cell():
    atoms = molecule("CH3CH2OH")
    atoms.calc = _calc((1, 6, 8))
    assert np.abs(atoms.get_forces() - calculate_numerical_forces(atoms, eps=1e-5)).max() < 1e-7


@pytest.mark.parametrize("coupling", [False, True])
def test_energy_is_invariant_and_forces_rotate_with_the_structure(coupling):
    atoms = molecule("CH3CH2OH")
    calc = _calc((1, 6, 8), coupling=coupling)
    atoms.calc = calc
    e0, f0 = atoms.get_potential_energy(), atoms.get_forces()
    rot = Atoms(atoms.numbers, atoms.positions.copy())
    R = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    rot.positions = rot.positions @ R.T + np.array([1.3, -2.0, 0.7])
    rot.calc = calc
    # float64 round-off on ~1-eV energies
    assert rot.get_potential_energy() == pytest.approx(e0, abs=1e-10)
    assert np.abs(rot.get_forces() - f0 @ R.T).max() < 1e-10
    perm = np.random.default_rng(1).permutation(len(atoms))
    shuffled = Atoms(atoms.numbers[perm], atoms.positions[perm])
    shuffled.calc = calc
    assert shuffled.get_potential_energy() == pytest.approx(e0, abs=1e-10)
    assert np.abs(shuffled.get_forces() - f0[perm]).max() < 1e-10


@pytest.mark.parametrize("cubic", [True, False])
def test_a_cell_and_its_supercell_have_the_same_energy_per_atom(cubic):
    calc = _calc()
    small = bulk("Cu", "fcc", a=3.6, cubic=cubic)  # cubic=False: triclinic primitive cell
    small.positions[0] += [0.05, -0.03, 0.02]
    small.calc = calc
    big = small.repeat((3, 2, 4))
    big.calc = calc
    # float64 sums over ~50 neighbours: relative round-off ~1e-14
    assert big.get_potential_energy() / len(big) == pytest.approx(
        small.get_potential_energy() / len(small), abs=1e-10)
    np.testing.assert_allclose(big.get_forces()[: len(small)], small.get_forces(), atol=1e-10)
    np.testing.assert_allclose(big.get_stress(), small.get_stress(), atol=1e-10)


def test_committee_spread_is_zero_for_identical_members_and_positive_otherwise():
    atoms = _cu()
    torch.manual_seed(0)
    m = MomentPotential([29], cutoff=4.5, hidden=[16])
    twin = MomentPotential([29], cutoff=4.5, hidden=[16])
    twin.load_state_dict(m.state_dict())
    for stacked in (False, True):
        atoms.calc = CommitteeCalculator([m, twin], dtype="float64", stacked=stacked)
        atoms.get_potential_energy()
        # in turn: the same operations, bit for bit; stacked: the twins are columns of one
        # batched product, whose kernels may round each column differently (float64 eps)
        tol = 1e-12 if stacked else 0.0
        assert atoms.calc.results["energy_std"] == pytest.approx(0.0, abs=tol)
        assert atoms.calc.results["max_force_dev"] == pytest.approx(0.0, abs=tol)
    atoms.calc = _calc(n=3)
    atoms.get_potential_energy()
    res = atoms.calc.results
    assert res["energy_std"] > 0 and res["max_force_dev"] > 0
    assert res["forces_std"].shape == (len(atoms),)
    assert res["max_force_dev"] == pytest.approx(res["forces_std"].max())


def test_an_unknown_element_is_a_clear_ase_input_error():
    from ase.calculators.calculator import InputError as AseInputError

    atoms = molecule("H2O")
    atoms.calc = _calc((1,))
    with pytest.raises(AseInputError, match="'O' is not one this potential was trained on"):
        atoms.get_potential_energy()
    assert issubclass(UnknownElementError, ValueError)


def test_each_head_of_a_shared_descriptor_is_a_conservative_potential():
    atoms = _triclinic_cuau()
    torch.manual_seed(0)
    model = MomentPotential([29, 79], cutoff=4.5, hidden=[16, 16], n_heads=3)
    calc = CommitteeCalculator([model], dtype="float64")
    atoms.calc = calc
    # the heads' mean: float64 central differences, as above
    assert np.abs(atoms.get_forces() - calculate_numerical_forces(atoms, eps=1e-5)).max() < 1e-7
    assert calc.results["forces_std"].max() > 1e-3  # three differently drawn heads disagree
    from atomistic.mlip.graph import atoms_to_graph, collate

    def head_energy(positions, h=1):
        probe = atoms.copy()
        probe.positions = positions
        b = collate([atoms_to_graph(probe, [29, 79], 4.5)], dtype=torch.float64)
        return model(b, head_forces=True)

    head = head_energy(atoms.positions)["head_forces"][1].detach().numpy()
    eps, fd = 1e-5, np.zeros_like(head)
    for i, k in np.ndindex(*head.shape):
        step = np.zeros_like(head)
        step[i, k] = eps
        e = [float(head_energy(atoms.positions + sgn * step)["head_energies"][0, 1].detach())
             for sgn in (1, -1)]
        fd[i, k] = -(e[0] - e[1]) / (2 * eps)
    assert np.abs(head - fd).max() < 1e-7  # head 1 alone is conservative too
    # the cheap mode differentiates the mean only: same forces, spread in energies alone
    cheap = CommitteeCalculator([model], dtype="float64", head_forces=False)
    cheap.calculate(atoms, ["energy", "forces"])
    assert np.abs(cheap.results["forces"] - atoms.get_forces()).max() < 1e-12
    assert "max_force_dev" not in cheap.results
    assert cheap.results["max_energy_dev"] > 0
    np.testing.assert_allclose(cheap.results["energies_std"], calc.results["energies_std"])
