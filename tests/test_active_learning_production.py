"""Production on the fly after a campaign: the run starts from the campaign's committee."""
import pytest

torch = pytest.importorskip("torch")

from ase.build import bulk
from ase.calculators.emt import EMT

from atomistic.errors import InputError
from atomistic.learning.loop import learn
from atomistic.mlip.dataset import emt_calculator
from atomistic.mlip.reference_frames import rattled_fcc
from atomistic.mlip.training import train_committee

TINY = {"n_members": 2, "epochs": 3, "hidden": [8], "n_channels": 4, "cutoff": 4.0,
        "batch_size": 4}


def vacancy_cell():
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 2, 1))
    del atoms[3]
    return atoms


def test_initial_potential_is_installed_untrained_and_warm_started_by_the_first_label(tmp_path):
    torch.set_num_threads(1)
    initial = rattled_fcc("Cu", EMT(), 4, size=(2, 2, 1), rattle=0.03, seed=5)
    source = tmp_path / "campaign.mlip.pt"
    train_committee(initial, {**TINY, "seed": 1}, source, progress=False)
    # trust_lo tiny: the first step calls the reference; max_calls 1 ends the run there
    s = {"mode": "onthefly", "trust_lo": 1e-6, "trust_hi": 100.0, "steps": 5, "max_calls": 1,
         "temperature_K": 300, "retrain_epochs": 1, "train": TINY, "seed": 3}
    res = learn([vacancy_cell()], emt_calculator, tmp_path / "prod", s, initial_frames=initial,
                initial_potential=source, progress=False)
    # no training from scratch on the initial frames: the one training is the warm start
    # after the single label, on initial + 1 frames
    assert res.n_calls == 1 and res.n_labelled == 1
    assert [p["labelled"] for p in res.curve] == [len(initial) + 1]


def test_initial_potential_without_its_frames_is_refused(tmp_path):
    with pytest.raises(InputError, match="initial_frames"):
        learn([vacancy_cell()], emt_calculator, tmp_path / "p", {"mode": "onthefly"},
              initial_potential=tmp_path / "x.mlip.pt", progress=False)
