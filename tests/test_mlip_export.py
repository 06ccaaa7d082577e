"""The TorchScript export of the learned potential is the same potential, run by torch alone."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ase.build import bulk
from ase.calculators.emt import EMT

from atomistic.errors import InputError
from atomistic.mlip.calculator import CommitteeCalculator
from atomistic.mlip.export import TorchScriptCalculator, export_torchscript, load_torchscript
from atomistic.mlip.graph import UnknownElementError, neighbour_pairs
from atomistic.mlip.model import MomentPotential
from atomistic.mlip.reference_frames import rattled_fcc
from atomistic.mlip.training import train_committee

CUTOFF = 4.0
# torch >= 2.10 calls TorchScript deprecated; the engines that load these files still use it
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")


@pytest.fixture(scope="module")
def trained_cu(tmp_path_factory):
    """A two-member float64 committee fitted briefly to EMT copper (fit quality is not the point:
    trained statistics and reference energies are, which random weights leave at 0 and 1)."""
    frames = rattled_fcc("Cu", EMT(), 6, size=(2, 2, 2), rattle=0.08, seed=0)
    settings = dict(n_members=2, epochs=3, hidden=[16, 16], n_channels=6, cutoff=CUTOFF,
                    dtype="float64", seed=1, valid_fraction=0.0)
    path = tmp_path_factory.mktemp("pot") / "cu.mlip.pt"
    return train_committee(frames, settings, path, progress=False), path


def _unseen_cu(seed=7):
    """Not a training frame: a triclinic (primitive fcc) 3x3x3 cell, compressed 2%, rattled."""
    atoms = bulk("Cu", "fcc", a=3.53).repeat((3, 3, 3))
    atoms.rattle(0.07, seed=seed)
    return atoms


def _engine_inputs(atoms, cutoff, dtype=torch.float64):
    """What an MD engine hands the module: plain tensors with its own neighbour list."""
    i, j, shifts = neighbour_pairs(atoms, cutoff)
    return (torch.as_tensor(atoms.positions, dtype=dtype), torch.as_tensor(atoms.numbers),
            torch.as_tensor(atoms.cell.array, dtype=dtype), torch.as_tensor(np.stack([i, j])),
            torch.as_tensor(shifts, dtype=dtype))


def _reference(atoms, calc):
    atoms = atoms.copy()
    atoms.calc = calc
    return atoms.get_potential_energy(), atoms.get_forces()


def test_exported_committee_reproduces_the_trained_potential_on_an_unseen_cell(trained_cu,
                                                                              tmp_path):
    calc, _ = trained_cu
    path = export_torchscript(calc, tmp_path / "cu.pt", dtype="float64")
    module = torch.jit.load(str(path))  # a fresh object: torch alone, no model code
    for seed in (7, 8, 9):  # TorchScript re-optimises after its first profiling runs
        atoms = _unseen_cu(seed)
        e_ref, f_ref = _reference(atoms, calc)
        energy, forces = module(*_engine_inputs(atoms, CUTOFF))
        # same float64 operations as the eager model, summed in another order: ~1e-13 eV
        assert abs(float(energy) - e_ref) < 1e-5
        # forces by the same autograd graph: round-off ~1e-15 eV/A
        assert np.abs(forces.numpy() - f_ref).max() < 1e-5


def test_exported_forces_are_minus_the_gradient_of_the_exported_energy(trained_cu, tmp_path):
    from ase.calculators.fd import calculate_numerical_forces

    path = export_torchscript(trained_cu[1], tmp_path / "cu.pt", dtype="float64")
    atoms = _unseen_cu()
    atoms.calc = TorchScriptCalculator(path)
    # float64 central differences, eps 1e-5 A: truncation ~eps^2 F''' < 1e-8 eV/A
    assert np.abs(atoms.get_forces() - calculate_numerical_forces(atoms, eps=1e-5)).max() < 1e-7


def test_exported_energy_ignores_neighbour_order_and_pairs_beyond_the_cutoff(trained_cu,
                                                                            tmp_path):
    path = export_torchscript(trained_cu[0], tmp_path / "cu.pt", dtype="float64")
    module, meta = load_torchscript(path)
    atoms = _unseen_cu()
    e0, f0 = module(*_engine_inputs(atoms, meta["cutoff"]))
    # an engine's Verlet list: 1 A of skin, pairs in an order of its own
    pos, z, cell, edges, shifts = _engine_inputs(atoms, meta["cutoff"] + 1.0)
    perm = torch.as_tensor(np.random.default_rng(0).permutation(edges.shape[1]))
    e1, f1 = module(pos, z, cell, edges[:, perm], shifts[perm])
    # the envelope is exactly zero beyond the cutoff; only summation order changes: round-off
    assert abs(float(e1 - e0)) < 1e-10
    assert float((f1 - f0).abs().max()) < 1e-10


def test_exported_member_is_that_member_alone(trained_cu, tmp_path):
    calc, _ = trained_cu
    path = export_torchscript(calc, tmp_path / "m1.pt", member=1, dtype="float64")
    atoms = _unseen_cu()
    e_ref, f_ref = _reference(atoms, CommitteeCalculator([calc.models[1]], dtype="float64"))
    e, f = _reference(atoms, TorchScriptCalculator(path))
    assert abs(e - e_ref) < 1e-5  # float64 round-off, as for the committee
    assert np.abs(f - f_ref).max() < 1e-5
    e_mean, _ = _reference(atoms, calc)
    assert abs(e - e_mean) > 1e-6  # and the members differ: this is not the mean again


def test_float32_export_agrees_to_float32_round_off(trained_cu, tmp_path):
    calc32 = CommitteeCalculator(trained_cu[0].models, dtype="float32")
    path = export_torchscript(calc32, tmp_path / "cu32.pt", dtype="float32")
    atoms = _unseen_cu()
    e_ref, f_ref = _reference(atoms, calc32)
    e, f = _reference(atoms, TorchScriptCalculator(path))
    # float32 (eps 6e-8) sums of 27 atomic energies of ~eV taken in another order: ~1e-6 eV
    assert abs(e - e_ref) < 1e-4
    assert np.abs(f - f_ref).max() < 1e-4  # forces ~0.1-1 eV/A, same float32 argument


@pytest.mark.parametrize("options, a", [(dict(charges=True), 5.5),
                                        (dict(n_heads=2, coupling=True, l_max=3), 5.5),
                                        (dict(repulsion=True), 5.0)],
                         ids=["charges-pme", "heads-coupling", "zbl-repulsion"])
def test_exported_variants_match_the_eager_model(options, a, tmp_path):
    """Charges with their torch-pme Coulomb energy, several heads, coupled channels, the
    ZBL core repulsion (at a = 5.0 A every Na-Cl pair, 2.5 A, is inside its 2.68 A range)."""
    torch.manual_seed(0)
    models = [MomentPotential([11, 17], cutoff=CUTOFF, hidden=[16], **options) for _ in range(2)]
    calc = CommitteeCalculator(models, dtype="float64")
    path = export_torchscript(calc, tmp_path / "nacl.pt", dtype="float64")
    atoms = bulk("NaCl", "rocksalt", a=a).repeat((2, 2, 2))  # a triclinic primitive cell
    atoms.rattle(0.05, seed=2)
    e_ref, f_ref = _reference(atoms, calc)
    e, f = _reference(atoms, TorchScriptCalculator(path))
    # the same float64 operations, the PME mesh included: round-off ~1e-15
    assert abs(e - e_ref) < 1e-5
    assert np.abs(f - f_ref).max() < 1e-5


def test_exported_calculator_names_an_unknown_element(trained_cu, tmp_path):
    path = export_torchscript(trained_cu[0], tmp_path / "cu.pt", dtype="float64")
    atoms = _unseen_cu()
    atoms.numbers[0] = 79
    atoms.calc = TorchScriptCalculator(path)
    with pytest.raises(UnknownElementError, match="'Au'"):
        atoms.get_potential_energy()


def test_export_rejects_a_member_the_committee_lacks_and_a_foreign_file(trained_cu, tmp_path):
    with pytest.raises(InputError, match="member: 5"):
        export_torchscript(trained_cu[0], tmp_path / "x.pt", member=5)
    with pytest.raises(InputError, match="not a TorchScript potential"):
        load_torchscript(trained_cu[1])  # the torch.save potential file, not an export
