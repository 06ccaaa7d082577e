"""The learned-potential branch on stored labelled frames (a GPAW campaign's dataset, say):
the data stage takes frames spread over the file, and the MD stage starts from a stored frame
and judges the potential on held-out labelled frames, not on a calculator of its own."""
import numpy as np
import pytest

from ase.build import bulk
from ase.calculators.emt import EMT

from atomistic.mlip.dataset import read_frames, write_frames
from atomistic.mlip.potential import load_potential
from multiscale.config import parse_config
from multiscale.pipeline import run_pipeline

torch = pytest.importorskip("torch")


def labelled(n, seed):
    """n rattled 8-atom Cu cells with EMT labels, numbered in info["n"]."""
    frames = []
    for k in range(n):
        atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((1, 1, 2))
        atoms.rattle(0.05, seed=seed + k)
        atoms.calc = EMT()
        atoms.get_forces()
        atoms.info["n"] = k
        frames.append(atoms)
    return frames


def config(tmp_path, **md):
    write_frames(labelled(7, 0), tmp_path / "stored.extxyz")
    write_frames(labelled(3, 100), tmp_path / "held_out.extxyz")
    return parse_config({"run": {"name": "stored"}, "stage": {
        "data": {"kind": "mlip_data", "file": "stored.extxyz", "frames": 4},
        "train": {"kind": "mlip_train", "needs": ["data"],
                  "settings": {"n_members": 2, "epochs": 2, "hidden": [8], "n_channels": 4,
                               "cutoff": 4.0}},
        "md": {"kind": "mlip_md", "needs": ["train"], "steps": 10, "timestep_fs": 1.0,
               "start_file": "stored.extxyz", "start_frame": -1,
               "check_file": "held_out.extxyz", **md}}}, tmp_path / "run.toml")


def test_stored_frames_train_and_held_out_frames_judge_the_potential(tmp_path):
    torch.set_num_threads(1)
    records = {r.name: r for r in run_pipeline(config(tmp_path), tmp_path / "out")}
    data, md = records["data"], records["md"]
    used = read_frames(data.dir / "frames.extxyz")
    # four of seven, spread over the file: its first and last frames and two between
    assert [a.info["n"] for a in used] == [0, 2, 4, 6] and data.results["n_frames"] == 4
    assert "4 of the 7 labelled frames of stored.extxyz" in data.results["headline"]["reference frames"]
    # the MD stage's figure is the potential's force MAE on the held-out labels, recomputed here
    calc = load_potential(records["train"].dir / "potential.mlip.pt")
    errors = []
    for frame in read_frames(tmp_path / "held_out.extxyz"):
        probe = frame.copy()
        probe.calc = calc
        errors.append(np.abs(probe.get_forces() - frame.get_forces()).mean())
    assert md.results["force_mae_vs_reference_meV_per_A"] == pytest.approx(
        1000 * np.mean(errors), rel=1e-9)
    assert "3 held-out frames of held_out.extxyz" in " ".join(md.results["headline"])


def test_a_start_frame_the_file_does_not_hold_is_an_error_naming_it(tmp_path):
    from multiscale.errors import StageFailed

    with pytest.raises(StageFailed, match=r"stage\.md\.start_frame: frame 99 of .*stored\.extxyz, "
                                          r"which holds 7"):
        run_pipeline(config(tmp_path, start_frame=99), tmp_path / "out")


@pytest.mark.slow                     # trains a committee, then runs two MD stages
def test_a_stored_potential_runs_md_without_a_training_stage(tmp_path):
    import shutil

    torch.set_num_threads(1)
    trained = {r.name: r for r in run_pipeline(config(tmp_path), tmp_path / "out")}
    shutil.copy(trained["train"].dir / "potential.mlip.pt", tmp_path / "shipped.mlip.pt")
    md = {"kind": "mlip_md", "potential_file": "shipped.mlip.pt", "steps": 10, "timestep_fs": 1.0,
          "start_file": "stored.extxyz", "start_frame": -1, "check_file": "held_out.extxyz"}
    (record,) = run_pipeline(parse_config({"run": {"name": "shipped"}, "stage": {"md": md}},
                                          tmp_path / "run.toml"), tmp_path / "out2")
    # the same weights judged on the same held-out labels: the same figure, to round-off
    assert record.results["force_mae_vs_reference_meV_per_A"] == pytest.approx(
        trained["md"].results["force_mae_vs_reference_meV_per_A"], rel=1e-9)


@pytest.mark.parametrize("needs, path", [([], None), (["train"], "shipped.mlip.pt")])
def test_md_takes_one_potential_a_trained_or_a_stored_one(tmp_path, needs, path):
    from multiscale.config import ConfigError

    stages = {"data": {"kind": "mlip_data", "file": "stored.extxyz"},
              "train": {"kind": "mlip_train", "needs": ["data"]},
              "md": {"kind": "mlip_md", "needs": needs, "steps": 10}}
    if path:
        stages["md"]["potential_file"] = path
    with pytest.raises(ConfigError, match="either potential_file or needs"):
        parse_config({"run": {"name": "x"}, "stage": stages}, tmp_path / "run.toml")


def _data_only(tmp_path, **data):
    write_frames(labelled(7, 0), tmp_path / "stored.extxyz")
    return parse_config({"run": {"name": "stored"}, "stage": {
        "data": {"kind": "mlip_data", "file": "stored.extxyz", **data}}}, tmp_path / "run.toml")


def test_first_pins_the_frames_of_a_file_that_grows(tmp_path):
    # a running campaign appends to its file: `first` keeps the same frames, spread over them
    (data,) = run_pipeline(_data_only(tmp_path, first=5, frames=3), tmp_path / "out")
    used = read_frames(data.dir / "frames.extxyz")
    assert [a.info["n"] for a in used] == [0, 2, 4]
    assert "3 of the first 5 labelled frames" in data.results["headline"]["reference frames"]


def test_first_beyond_the_file_is_an_error_naming_it(tmp_path):
    from multiscale.errors import StageFailed

    with pytest.raises(StageFailed, match=r"stage\.data\.first: 99 frames of .*stored\.extxyz, "
                                          r"which holds 7"):
        run_pipeline(_data_only(tmp_path, first=99), tmp_path / "out")
