"""`multiscale doctor` reports every engine working, with its version."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from multiscale.doctor import CHECKS

CLI = [sys.executable, "-m", "multiscale.cli"]


@pytest.fixture(scope="module")
def doctor_run():
    return subprocess.run(CLI + ["doctor", "--json"], capture_output=True, text=True,
                          timeout=600)


def test_doctor_exits_zero_when_every_engine_works(doctor_run):
    assert doctor_run.returncode == 0, doctor_run.stdout + doctor_run.stderr[-2000:]


def test_doctor_reports_a_version_and_a_computed_result_for_every_engine(doctor_run):
    results = {r["engine"]: r for r in json.loads(doctor_run.stdout)}
    assert set(results) == set(CHECKS)
    for r in results.values():
        assert r["ok"], r
        assert r["version"][:1].isdigit() or r["version"].startswith("mpi4py"), r
        assert r["detail"]


def test_doctor_table_names_every_engine():
    proc = subprocess.run(CLI + ["doctor", "-e", "ASE", "-e", "torch"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0
    assert "ASE" in proc.stdout and "torch" in proc.stdout and "ok" in proc.stdout


def test_doctor_rejects_an_unknown_engine_by_name():
    proc = subprocess.run(CLI + ["doctor", "-e", "vasp"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert "vasp" in proc.stderr


def test_version_flag_prints_the_installed_version():
    from multiscale import __version__

    proc = subprocess.run(CLI + ["--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"multiscale {__version__}"


def test_a_failing_engine_makes_the_doctor_exit_nonzero(tmp_path: Path):
    # Shadow torch with a module that cannot import: the doctor must say so, not crash.
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError('torch is broken here')\n")
    proc = subprocess.run(CLI + ["doctor", "-e", "torch", "--json"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 1
    (result,) = json.loads(proc.stdout)
    assert not result["ok"] and "torch is broken here" in result["detail"]
