"""Issue 18, runs: no lost epoch. Settings and sizes are checked before anything runs, long stages
resume after a SIGKILL without redoing finished work, and progress suits a log file."""
import json
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from multiscale.cli import app
from multiscale.config import ConfigError, parse_config
from multiscale.pipeline import run_pipeline, stage_key

runner = CliRunner()


def _write(tmp_path, text):
    path = tmp_path / "run.toml"
    path.write_text(textwrap.dedent(text))
    return path


# --- 1. late validation: every stage's settings at parse time ----------------------------------

@pytest.mark.parametrize("stage, bad, hint", [
    ('kind = "mlip_train"\nneeds = ["data"]\nsettings = { n_members = 1, epocs = 3 }',
     "stage.train.settings.epocs", "did you mean 'epochs'?"),
    ('kind = "active_learning"\nneeds = ["data"]\nsettings = { max_cals = 3 }',
     "stage.train.settings.max_cals", "did you mean 'max_calls'?"),
    ('kind = "active_learning"\nneeds = ["data"]\nsettings = { train = { n_member = 2 } }',
     "stage.train.settings.train.n_member", "did you mean 'n_members'?"),
])
def test_a_settings_typo_in_the_second_stage_fails_before_the_first_runs(tmp_path, stage, bad, hint):
    config = tmp_path / "run.toml"
    config.write_text(f'[run]\nname = "typo"\n[stage.data]\nkind = "mlip_data"\n[stage.train]\n{stage}\n')
    t0 = time.perf_counter()
    result = runner.invoke(app, ["run", str(config), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 2, result.output
    assert f"{bad}: unknown key; {hint}" in result.output
    assert time.perf_counter() - t0 < 5
    assert not (tmp_path / "out" / "stages").exists()   # the data stage never ran


# --- 2. resource guards ----------------------------------------------------------------------

def _parse(stage):
    return parse_config({"run": {"name": "big"}, "stage": {"s": stage}}, "big.toml")


HARD = r" \(a hard bound of this key: no setting lifts it\)"   # allow_large does not help here


@pytest.mark.parametrize("stage, fragment", [
    ({"kind": "md_to_pnp", "pnp_cells": 1e12}, r"stage.s.pnp_cells: 1000000000000.0: must be <= 1e\+08" + HARD),
    ({"kind": "md_to_pnp", "steps": 1e14}, r"stage.s.steps: 100000000000000.0: must be <= 1e\+10" + HARD),
    ({"kind": "mlip_md", "steps": 1e14}, r"stage.s.steps: 100000000000000.0: must be <= 1e\+09" + HARD),
])
def test_absurd_counts_are_refused_at_parse_time_in_well_under_a_second(stage, fragment):
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=fragment):
        _parse(stage)
    assert time.perf_counter() - t0 < 0.5


@pytest.mark.parametrize("stage, what, estimate, limit", [
    ({"kind": "md_to_pnp", "pnp_cells": 50_000}, "PNP cells", "5e+04", "2e+04"),
    ({"kind": "md_to_pnp", "steps": 10 ** 8}, "Brownian ion-steps", "7.52e+10", "5e+08"),
    ({"kind": "mlip_md", "steps": 10 ** 6, "size": 3, "potential_file": "p.mlip.pt"},
     "MD atom-steps", "1.08e+08", "1e+07"),
    ({"kind": "mlip_data", "frames_per_temperature": 10 ** 5, "interval": 100}, "EMT atom-steps",
     "6.4e+08", "1e+08"),
    ({"kind": "mlip_train", "settings": {"n_members": 8, "epochs": 10 ** 4}}, "member-epochs",
     "8e+04", "2e+04"),
    ({"kind": "active_learning", "settings": {"max_calls": 10 ** 6}}, "reference calls", "1e+06",
     "1e+04"),
])
def test_a_stage_above_its_size_limit_is_refused_unless_allowed(stage, what, estimate, limit):
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        _parse(stage)
    msg = str(err.value)
    assert f"big.toml: stage.s: {what}" in msg
    assert f"estimated {estimate}, above the limit of {limit}" in msg
    assert "set allow_large = true in [stage.s]" in msg
    assert time.perf_counter() - t0 < 1.0
    assert _parse({**stage, "allow_large": True}).stage["s"].allow_large


def test_allow_large_lifts_the_guard_without_changing_the_cache_key():
    small, allowed = (parse_config({"run": {"name": "k"}, "stage": {"s": {"kind": "eos", "elements": ["Cu"],
                                                                           **extra}}})
                      for extra in ({}, {"allow_large": True}))
    assert stage_key(small, "s", {}, "v") == stage_key(allowed, "s", {}, "v")


# --- 4. progress: plain lines, rate-limited when not a terminal ---------------------------------

def test_progress_to_a_log_file_is_at_most_one_status_line_every_few_seconds():
    from rich.console import Console

    from multiscale.commands.run import run_progress

    lines, now = [], [0.0]

    class Sink:
        def write(self, text):
            lines.append(text)

        def flush(self):
            pass

    console = Console(file=Sink(), force_terminal=False, width=200)
    with run_progress(console, interval=5.0, clock=lambda: now[0]) as say:
        say("train: running (mlip_train)")
        for k in range(1000):            # an epoch every 20 ms of simulated time, for 20 s
            now[0] = 0.02 * k
            say(f"train: member 1/1: epoch {k + 1}/1000")
        say("train: done in 20.0 s")
    text = "".join(lines)
    shown = text.splitlines()
    assert shown[0] == "train: running (mlip_train)" and shown[-1] == "train: done in 20.0 s"
    status = [s for s in shown if "epoch" in s]
    assert 1 <= len(status) <= 20 / 5 + 1
    assert "\r" not in text
    quiet = Console(file=Sink(), quiet=True)
    with run_progress(quiet) as say:
        say("train: running (mlip_train)")
    assert "".join(lines) == text


def test_brownian_dynamics_reports_its_steps_without_changing_its_trajectory():
    import numpy as np

    from atomistic.md.brownian import brownian_slab

    def run(progress=None):
        return brownian_slab([4, 4], 2e-8, 4e-16, [1.3e-9, 2e-9], [1, -1], 0.025, -0.025, 298.0,
                             78.5, 2e-12, 1000, stride=10, n_bins=10,
                             rng=np.random.default_rng(3), progress=progress)[0]

    said = []
    with_reports = run(lambda k, n: said.append((k, n)))
    assert np.array_equal(with_reports, run())                 # reporting draws no random numbers
    assert said[-1] == (1000, 1000)                            # the last report says it is done
    steps = [k for k, _ in said]
    assert steps == sorted(set(steps))                         # always forward
    assert 20 <= len(said) <= 51                               # enough to watch, not a line per step


def test_multiscale_run_prints_plain_lines_without_source_locations(tmp_path):
    config = _write(tmp_path, """
        [run]
        name = "plain"
        [stage.cu]
        kind = "eos"
        elements = ["Cu"]
        """)
    result = runner.invoke(app, ["run", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "cu: running (eos)" in result.output and "cu: done in" in result.output
    assert ".py:" not in result.output and "\r" not in result.output
    quiet = runner.invoke(app, ["run", str(config), "--out", str(tmp_path / "out"), "-q"])
    assert quiet.output.strip().splitlines()[0].startswith("Report: ")


def test_dask_progress_in_a_log_file_is_plain_lines_not_carriage_returns():
    import io

    import dask

    from foundation.progress import dask_progress

    out = io.StringIO()
    with dask_progress(stream=out, interval=3600.0):
        dask.compute(*[dask.delayed(abs)(-k) for k in range(50)], scheduler="threads")
    text = out.getvalue()
    assert "\r" not in text
    assert text.splitlines() == ["tasks 1/50", "tasks 50/50"]


def test_dask_progress_hands_every_count_to_a_stage_reporter_which_throttles_itself():
    import dask

    from foundation.progress import dask_progress

    said = []
    with dask_progress(said.append, what="paired runs"):
        dask.compute(*[dask.delayed(abs)(-k) for k in range(7)], scheduler="threads")
    assert said == [f"paired runs {k}/7" for k in range(1, 8)]


# --- 3. resume inside long stages -------------------------------------------------------------

DATA = {"kind": "mlip_data", "size": 1, "rattled": 4, "temperatures_K": [300.0, 900.0],
        "frames_per_temperature": 2, "interval": 2}
TRAIN = {"n_members": 2, "epochs": 12, "batch_size": 2, "n_channels": 4, "n_basis": 4, "l_max": 1,
         "hidden": [8], "early_stopping_patience": 1000, "lr_patience": 1000,
         "min_learning_rate": 1e-12, "dtype": "float64", "valid_fraction": 0.2}


def _mlip_config():
    return parse_config({"run": {"name": "resume"}, "stage": {
        "data": DATA, "train": {"kind": "mlip_train", "needs": ["data"], "settings": TRAIN}}})


KILLED = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)
    from pathlib import Path
    from multiscale.config import parse_config
    from multiscale.pipeline import run_pipeline
    cfg = parse_config({"run": {"name": "resume"}, "stage": {
        "data": %r, "train": {"kind": "mlip_train", "needs": ["data"], "settings": %r}}})
    run_pipeline(cfg, Path(sys.argv[1]), progress=lambda m: print(m, flush=True))
""") % (DATA, TRAIN)


def _members(path):
    from atomistic.mlip.potential import read_potential_file

    return read_potential_file(path)["members"]


def _epoch(checkpoint):
    import torch

    return torch.load(checkpoint, map_location="cpu", weights_only=True)["state"]


def test_mlip_train_killed_mid_training_resumes_without_redoing_epochs(tmp_path):
    import torch

    out = tmp_path / "killed"
    ckdir = out / "stages" / "train.partial" / "checkpoints"
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(out)], stdout=subprocess.DEVNULL)
    deadline = time.time() + 60
    try:       # kill it while the second member trains: the first is finished, the second half-way
        while time.time() < deadline and proc.poll() is None:
            if (ckdir / "member1.pt").is_file():
                try:
                    if _epoch(ckdir / "member1.pt")["epoch"] >= 3:
                        break
                except (OSError, RuntimeError, EOFError):
                    pass         # written at this moment; look again
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    first, second = _epoch(ckdir / "member0.pt"), _epoch(ckdir / "member1.pt")
    assert first["done"] and first["epoch"] == TRAIN["epochs"]
    assert not second["done"] and 3 <= second["epoch"] < TRAIN["epochs"]
    killed_at = second["epoch"]

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        said = []
        records = run_pipeline(_mlip_config(), out, progress=said.append)
        reference = run_pipeline(_mlip_config(), tmp_path / "whole")
    finally:
        torch.set_num_threads(threads)
    assert [r.status for r in records] == ["cached", "ran"]
    assert any("train: resuming" in m for m in said)
    member1 = [m for m in said if m.startswith("train: member 1/2")]
    assert member1 == [f"train: member 1/2: resumed at epoch {TRAIN['epochs']}/{TRAIN['epochs']}"]
    epochs2 = [int(m.split("epoch ")[1].split("/")[0]) for m in said
               if m.startswith("train: member 2/2: epoch")]
    assert epochs2 == list(range(killed_at + 1, TRAIN["epochs"] + 1))   # not one epoch twice
    resumed, whole = _members(records[1].dir / "potential.mlip.pt"), \
        _members(reference[1].dir / "potential.mlip.pt")
    for a, b in zip(resumed, whole, strict=True):
        for name in b:
            np.testing.assert_allclose(a[name].numpy(), b[name].numpy(), rtol=1e-10, atol=1e-12)


def test_mlip_data_commits_batches_and_a_resumed_stage_relabels_none(tmp_path):
    cfg = parse_config({"run": {"name": "data"}, "stage": {"data": DATA}})
    (rec,) = run_pipeline(cfg, tmp_path)
    whole = (rec.dir / "frames.extxyz").read_text()
    parts = sorted(p.name for p in (rec.dir / "parts").iterdir())
    assert parts == ["T0.extxyz", "T1.extxyz", "rattled.extxyz"]
    # as if killed after two batches: the partial folder with its key and the first batches only
    key = json.loads((rec.dir / "stage.json").read_text())["key"]
    partial = tmp_path / "stages" / "data.partial"
    rec.dir.rename(partial)
    for name in ("stage.json", "frames.extxyz", "parts/T1.extxyz"):
        (partial / name).unlink()
    (partial / ".stage-key").write_text(key)
    said = []
    (again,) = run_pipeline(cfg, tmp_path, progress=said.append)
    kept = [m for m in said if "kept from the interrupted attempt" in m]
    labelled = [m for m in said if m.startswith("data: batch") and "kept" not in m]
    assert len(kept) == 2 and len(labelled) == 1 and "900 K" in labelled[0]
    assert (again.dir / "frames.extxyz").read_text() == whole


def test_mlip_train_refuses_epochs_times_frames_above_its_limit_before_training(tmp_path, monkeypatch):
    import multiscale.stages.mlip as stage
    from multiscale.errors import StageFailed

    monkeypatch.setattr(stage, "TRAIN_FRAME_EPOCHS_LIMIT", 100.0)   # the data set has 8 frames
    with pytest.raises(StageFailed, match=r"frame-epochs \(n_members x epochs x frames\): "
                                          r"estimated 192, above the limit of 100; set allow_large"):
        run_pipeline(_mlip_config(), tmp_path)
    assert not (tmp_path / "stages" / "train.partial" / "checkpoints").exists()


# MD stages checkpoint every chunk of steps in their folder. The killed run sends itself SIGKILL
# as it is about to write checkpoint number N: the chunk after checkpoint N - 1 is done (its frames
# written) and lost, the case a resumed stage must handle without a repeated or a missing frame;
# the same hard kill as above, at a point that does not depend on the machine's speed.
SELF_KILLED = textwrap.dedent("""
    import os, signal, sys, torch
    torch.set_num_threads(1)
    from pathlib import Path
    from multiscale.config import parse_config
    from multiscale.pipeline import StageContext, run_pipeline
    save, calls = StageContext.save_checkpoint, [0]
    def killing_save(self, *args, **kwargs):
        calls[0] += 1
        if calls[0] == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
        return save(self, *args, **kwargs)
    StageContext.save_checkpoint = killing_save
    run_pipeline(parse_config(%r), Path(sys.argv[1]), progress=lambda m: print(m, flush=True))
""")


def _killed_then_resumed(tmp_path, cfg, dynamics, kill_at, monkeypatch):
    """Run ``cfg`` in a process that SIGKILLs itself as it starts checkpoint ``kill_at``, then rerun
    it here, counting the MD steps (``dynamics.step`` calls) the rerun does. Returns (records,
    messages, steps, the partial folder as the kill left it, its checkpoint's meta)."""
    import shutil

    out, stage = tmp_path / "killed", list(cfg["stage"])[-1]
    proc = subprocess.run([sys.executable, "-c", SELF_KILLED % cfg, str(out), str(kill_at)],
                          stdout=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    left = tmp_path / "left"
    shutil.copytree(out / "stages" / f"{stage}.partial", left)
    with np.load(left / "checkpoint.npz") as z:
        meta = json.loads(z["_meta"].tobytes())
    step, calls = dynamics.step, [0]

    def counting_step(self, forces=None):
        calls[0] += 1
        return step(self, forces)

    monkeypatch.setattr(dynamics, "step", counting_step)
    said = []
    records = run_pipeline(parse_config(cfg), out, progress=said.append)
    monkeypatch.setattr(dynamics, "step", step)
    for rec in records[:-1]:        # the finished upstream stages serve the reference run too
        shutil.copytree(rec.dir, tmp_path / "whole" / "stages" / rec.name)
    return records, said, calls[0], left, meta


HYBRID = {"run": {"name": "hybrid"}, "stage": {"hybrid": {
    "kind": "hybrid_md", "steps": 12, "buffer": 1.5, "hysteresis": 0.3, "temperature": 900.0}}}


def test_hybrid_md_killed_mid_trajectory_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    from ase.io import read
    from ase.md.verlet import VelocityVerlet

    # 12 steps, a checkpoint after each: killed before checkpoint 7, so the last one is at step 6
    # and frame 7 was written after it (the resumed stage drops it, and does not repeat it)
    records, said, steps, left, meta = _killed_then_resumed(tmp_path, HYBRID, VelocityVerlet, 7,
                                                            monkeypatch)
    assert meta["nsteps"] == 6 and len(read(left / "hybrid_md.traj", ":")) == 8
    assert steps == 6                                     # not one step before the checkpoint again
    assert "hybrid: resumed at NVE step 6/12 from the checkpoint" in said
    assert [m for m in said if "hybrid: NVE step" in m][0] == "hybrid: NVE step 6/12"
    (whole,) = run_pipeline(parse_config(HYBRID), tmp_path / "whole")
    resumed = read(records[0].dir / "hybrid_md.traj", ":")
    reference = read(whole.dir / "hybrid_md.traj", ":")
    assert len(resumed) == len(reference) == 13
    # Bit for bit up to the checkpoint; after it to round-off: the resumed EMT builds its neighbour
    # list afresh and sums pairs in another order (forces differ by ~1e-14 eV/A, positions after
    # 6 more steps by ~1e-16 A), so 1e-10 A / 1e-8 eV/A leave room for the chaotic growth.
    for k, (a, b) in enumerate(zip(resumed, reference)):
        tol = 0.0 if k <= 6 else 1e-10
        np.testing.assert_allclose(a.positions, b.positions, rtol=0, atol=tol)
        np.testing.assert_allclose(a.get_forces(), b.get_forces(), rtol=0, atol=100 * tol)
    assert records[0].results["region_history"] == whole.results["region_history"]
    # t_high_s, t_low_s: wall-clock times, not the physics
    numbers = [k for k, v in whole.results.items() if isinstance(v, float) and k[:2] != "t_"]
    assert {"etot_drift_eV_per_ps", "etot_spread_eV"} <= set(numbers)
    assert records[0].results["steps"] == whole.results["steps"] == 12
    for k in numbers:
        assert records[0].results[k] == pytest.approx(whole.results[k], rel=1e-8, abs=1e-10), k


MD = {"run": {"name": "md"}, "stage": {
    "data": DATA,
    "train": {"kind": "mlip_train", "needs": ["data"], "settings": {**TRAIN, "epochs": 1}},
    "md": {"kind": "mlip_md", "needs": ["train"], "size": 1, "steps": 20, "check_frames": 5}}}


def test_mlip_md_killed_mid_trajectory_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    import torch
    from ase.md.langevin import Langevin

    threads = torch.get_num_threads()
    torch.set_num_threads(1)      # as in the killed run: the committee's sums in the same order
    try:
        # 20 steps in 20 chunks, a checkpoint after each: killed before checkpoint 14, so 13 chunks
        # are kept (with the EMT check frames of chunks 10 and 12) and chunk 14 is lost
        records, said, steps, _, meta = _killed_then_resumed(tmp_path, MD, Langevin, 14,
                                                             monkeypatch)
        (whole,) = [r for r in run_pipeline(parse_config(MD), tmp_path / "whole") if r.name == "md"]
    finally:
        torch.set_num_threads(threads)
    assert [r.status for r in records] == ["cached", "cached", "ran"] and meta["chunks"] == 13
    assert steps == 7                                     # not one step before the checkpoint again
    assert "md: resumed at MD step 13/20 from the checkpoint" in said
    assert [m for m in said if "md: MD step" in m][0] == "md: MD step 13/20"
    # The committee is a pure function of the positions (its Verlet list gives its pairs in one
    # canonical order, whenever it was built) and the thermostat's random stream is restored
    # exactly: the same numbers bit for bit.
    assert records[-1].results == whole.results


def test_a_checkpoint_is_resumed_only_by_the_stage_key_that_wrote_it(tmp_path):
    from multiscale.pipeline import StageContext

    def ctx(key):
        return StageContext("md", None, tmp_path, {}, {}, None, None, print, 0, key=key)

    rng = np.random.default_rng(1)
    arrays = {"positions": rng.random((4, 3)), "empty": np.zeros((0, 4, 3))}
    ctx("a").save_checkpoint({"rng": rng.bit_generator.state, "chunks": 3}, arrays)
    assert ctx("b").load_checkpoint() is None          # other params, seed, inputs or code
    meta, back = ctx("a").load_checkpoint()
    assert meta["chunks"] == 3 and meta["rng"] == rng.bit_generator.state
    assert back.keys() == arrays.keys()
    assert all(np.array_equal(back[k], v) and back[k].shape == v.shape for k, v in arrays.items())


# --- internal files damaged outside a run: redo the work, never a traceback ----------------------

def test_a_damaged_stage_record_makes_the_stage_run_again(tmp_path):
    cfg = parse_config({"run": {"name": "rec"}, "stage": {"cu": {"kind": "eos", "elements": ["Cu"]}}})
    (first,) = run_pipeline(cfg, tmp_path)
    record = tmp_path / "stages" / "cu" / "stage.json"
    assert record.is_file() and first.status == "ran"
    record.write_bytes(b'\xff{"key": ')                     # not UTF-8, not JSON
    (again,) = run_pipeline(cfg, tmp_path)
    assert again.status == "ran"                             # recomputed, not trusted
    assert again.results == first.results                    # the same deterministic EMT EOS
    (third,) = run_pipeline(cfg, tmp_path)
    assert third.status == "cached"                          # and the record is whole again


def test_a_damaged_result_cache_entry_is_recomputed():
    import tempfile

    from atomistic.stability.result_cache import ResultCache

    with tempfile.TemporaryDirectory() as tmp:
        cache = ResultCache(tmp)
        cache.put("emt", "k", {"energy": -1.0})
        assert cache.get("emt", "k") == {"energy": -1.0}
        for damage in (b'{"energy": -', b"\xff\xfe", b"[1, 2]"):
            cache._path("emt", "k").write_bytes(damage)
            assert cache.get("emt", "k") is None             # a miss: the caller recomputes
