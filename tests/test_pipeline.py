"""Pipelines cache stages by their inputs, resume after a kill, and refuse a second concurrent run."""
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from multiscale.config import parse_config
from multiscale.errors import RunLockedError
from foundation.executor import Executor
from multiscale.pipeline import _run_lock, run_pipeline


def _eos_config(elements, points=7):
    return parse_config({
        "run": {"name": "t"},
        "stage": {
            "cu": {"kind": "eos", "elements": ["Cu"], "points": points},
            "rest": {"kind": "eos", "elements": elements, "needs": ["cu"]},
        }})


def test_rerun_skips_cached_stages_and_reruns_only_what_changed(tmp_path):
    first = run_pipeline(_eos_config(["Al"]), tmp_path)
    assert [r.status for r in first] == ["ran", "ran"]
    again = run_pipeline(_eos_config(["Al"]), tmp_path)
    assert [r.status for r in again] == ["cached", "cached"]
    assert again[1].results == first[1].results
    changed = run_pipeline(_eos_config(["Al", "Ni"]), tmp_path)
    assert [r.status for r in changed] == ["cached", "ran"]
    upstream = run_pipeline(_eos_config(["Al", "Ni"], points=9), tmp_path)
    assert [r.status for r in upstream] == ["ran", "ran"]  # a changed input re-runs what needs it


def test_editing_the_code_a_stage_runs_reruns_it_and_only_it(tmp_path, monkeypatch):
    """The cache key holds the source of the stage's module and of what it imports: a stale
    result computed by old code is never reused; code the stage does not import changes nothing."""
    import importlib

    from multiscale.config import STAGE_KINDS

    pkg = tmp_path / "src" / "plugin_stage"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "helper.py").write_text("FACTOR = 2\n")
    (pkg / "unrelated.py").write_text("X = 1\n")
    (pkg / "stage.py").write_text(textwrap.dedent("""
        from multiscale.config import StageParams, stage_kind

        class Params(StageParams):
            value: float = 1.0

        @stage_kind("plugin_scale", Params)
        def scale(ctx):
            from .helper import FACTOR
            return {"scaled": FACTOR * ctx.params.value}
        """))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    monkeypatch.setitem(STAGE_KINDS, "plugin_scale", None)   # restored (removed) after the test
    importlib.import_module("plugin_stage.stage")
    cfg = lambda: parse_config({"run": {"name": "t"},  # noqa: E731
                                "stage": {"s": {"kind": "plugin_scale", "value": 3.0}}})
    assert [(r.status, r.results["scaled"]) for r in run_pipeline(cfg(), tmp_path / "out")] == [("ran", 6.0)]
    (pkg / "unrelated.py").write_text("X = 2\n")
    assert [r.status for r in run_pipeline(cfg(), tmp_path / "out")] == ["cached"]
    (pkg / "helper.py").write_text("FACTOR = 5\n")
    importlib.reload(importlib.import_module("plugin_stage.helper"))
    assert [(r.status, r.results["scaled"]) for r in run_pipeline(cfg(), tmp_path / "out")] == [("ran", 15.0)]


def test_dask_local_cluster_gives_the_same_results_as_a_serial_run(tmp_path):
    cfg = parse_config({"run": {"name": "t"},
                        "stage": {"eos": {"kind": "eos", "elements": ["Cu", "Al", "Ni", "Ag"]}}})
    serial = run_pipeline(cfg, tmp_path / "serial")[0].results
    with Executor(workers=2) as ex:
        parallel = run_pipeline(cfg, tmp_path / "dask", executor=ex)[0].results
    # the same deterministic EMT arithmetic in another process: bit-identical
    assert parallel["fits"] == serial["fits"]


def test_a_second_run_into_the_same_directory_refuses(tmp_path):
    with _run_lock(tmp_path):
        with pytest.raises(RunLockedError, match="another multiscale run"):
            run_pipeline(_eos_config(["Al"]), tmp_path)


KILLABLE = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    from multiscale.config import StageParams, parse_config, stage_kind
    from multiscale.pipeline import run_pipeline

    class Wait(StageParams):
        seconds: float

    @stage_kind("wait", Wait)
    def wait(ctx):
        earlier = (ctx.dir / "started").exists()   # what a checkpoint of the killed attempt would be
        (ctx.dir / "started").write_text("1")
        Path(sys.argv[2]).write_text("started")
        time.sleep(ctx.params.seconds)
        return {"waited": ctx.params.seconds, "resumed": ctx.resumed, "found_earlier_files": earlier}

    cfg = parse_config({"run": {"name": "k"}, "stage": {
        "eos": {"kind": "eos", "elements": ["Cu"]},
        "wait": {"kind": "wait", "seconds": float(sys.argv[3]), "needs": ["eos"]}}})
    print(",".join(r.status for r in run_pipeline(cfg, Path(sys.argv[1]))))
''')


def test_kill_mid_stage_keeps_finished_stages_and_the_next_run_resumes(tmp_path):
    out, marker = tmp_path / "run", tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(out), str(marker), "60"])
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) != 0
    assert json.loads((out / "stages" / "eos" / "stage.json").read_text())["status"] == "complete"
    assert (out / "stages" / "wait.partial" / "INCOMPLETE").read_text().startswith("interrupted")
    assert not (out / "stages" / "wait").exists()
    # resume: the finished stage is reused, the interrupted one continues in its own folder
    # (same inputs, same key: its checkpoints are kept for it)
    marker.unlink()
    done = subprocess.run([sys.executable, "-c", KILLABLE.replace("time.sleep(ctx.params.seconds)", ""),
                           str(out), str(marker), "60"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "cached,ran"
    assert not (out / "stages" / "wait.partial").exists()
    results = json.loads((out / "stages" / "wait" / "stage.json").read_text())["results"]
    assert results["resumed"] and results["found_earlier_files"]
    assert not (out / "stages" / "wait" / ".stage-key").exists()


def test_a_partial_stage_from_other_inputs_is_started_over_not_resumed(tmp_path):
    first = run_pipeline(_eos_config(["Al"]), tmp_path)
    key = json.loads((first[1].dir / "stage.json").read_text())["key"]
    stages = tmp_path / "stages"
    for stale_key, kept in ((key[::-1], False), (key, True)):
        shutil.rmtree(stages / "rest")                   # as if the stage had been killed
        (stages / "rest.partial").mkdir(exist_ok=True)
        (stages / "rest.partial" / ".stage-key").write_text(stale_key)
        (stages / "rest.partial" / "checkpoint").write_text("from the killed attempt")
        again = run_pipeline(_eos_config(["Al"]), tmp_path)
        assert [r.status for r in again] == ["cached", "ran"]
        assert (stages / "rest" / "checkpoint").exists() is kept
