"""A batch round's walkers advanced together (BatchedMD) follow the trajectories they follow
one after another with ASE's Langevin: the same frames are labelled, the same steps rolled
back, and the walkers end where they end."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ase.build import bulk
from ase.calculators.emt import EMT

from atomistic.learning.loop import learn
from atomistic.mlip.dataset import emt_calculator, read_frames
from atomistic.mlip.reference_frames import rattled_fcc

TINY64 = {"n_members": 2, "epochs": 6, "hidden": [16, 16], "n_channels": 6, "cutoff": 4.0,
          "batch_size": 4, "early_stopping_patience": 30, "dtype": "float64"}


def cells():
    vacancy = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 2, 1))
    del vacancy[3]
    small = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((1, 1, 2))   # another size
    return [vacancy, small]


def run(folder, engine, **extra):
    torch.set_num_threads(1)
    initial = rattled_fcc("Cu", EMT(), 4, size=(2, 2, 1), rattle=0.03, seed=5)
    # trust_hi low enough that hot walkers leave it and roll back inside a round
    s = {"mode": "batch", "trust_lo": 0.02, "trust_hi": 0.25, "steps": 25, "rounds": 2,
         "select_per_round": 3, "min_separation_steps": 4, "temperatures_K": [300, 1400],
         "retrain_epochs": 2, "train": TINY64, "seed": 4, "md_engine": engine, **extra}
    return learn(cells(), emt_calculator, folder, s, initial_frames=initial, progress=False)


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    root = tmp_path_factory.mktemp("engines")
    return {e: (run(root / e, e), root / e) for e in ("ase", "batched")}


def test_batched_walkers_label_the_frames_ase_walkers_label(both):
    (ase_run, ase_dir), (bat_run, bat_dir) = both["ase"], both["batched"]
    a, b = read_frames(ase_dir / "dataset.extxyz"), read_frames(bat_dir / "dataset.extxyz")
    assert [f.info["al_id"] for f in a] == [f.info["al_id"] for f in b]
    assert len(a) > 4                               # rounds labelled frames beyond the initial
    for fa, fb in zip(a, b):
        # float64 committees: the engines differ by the order of sums only (~1e-15 A per
        # step), far below the 1e-8 A that would change a label
        np.testing.assert_allclose(fb.positions, fa.positions, atol=1e-8)


def test_batched_walkers_roll_back_where_ase_walkers_do_and_end_in_the_same_state(both):
    (ase_run, ase_dir), (bat_run, bat_dir) = both["ase"], both["batched"]

    def rejected(result):
        return sorted((e["walker"], e["step"]) for e in result.log if e["decision"] == "rejected")

    assert rejected(ase_run) == rejected(bat_run) and rejected(ase_run)   # some, and the same
    wa = json.loads((ase_dir / "state.json").read_text())["walkers"]
    wb = json.loads((bat_dir / "state.json").read_text())["walkers"]
    for x, y in zip(wa, wb):
        assert x["step"] == y["step"] and x["rollbacks"] == y["rollbacks"]
        assert x["rng"] == y["rng"]                   # the same random numbers were drawn
        np.testing.assert_allclose(y["atoms"]["positions"], x["atoms"]["positions"], atol=1e-8)
        np.testing.assert_allclose(y["atoms"]["momenta"], x["atoms"]["momenta"], atol=1e-8)
