"""``mpirun -n 2 multiscale run`` distributes the PNP solve and gives the serial run's answer."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
CONFIG = """
[run]
name = "mpi"
seed = 3

[stage.transport]
kind = "md_to_pnp"
steps = 3000
pnp_cells = 80
"""


def _run(cmd, cwd):
    env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


@pytest.mark.skipif(not (BIN / "mpiexec").exists(), reason="no mpiexec beside this Python")
def test_two_ranks_share_the_pnp_solve_and_reproduce_the_serial_run(tmp_path):
    (tmp_path / "c.toml").write_text(CONFIG)
    _run([str(BIN / "multiscale"), "run", "c.toml", "--out", "serial", "-q"], tmp_path)
    stdout = _run([str(BIN / "mpiexec"), "-n", "2", str(BIN / "multiscale"), "run", "c.toml",
                   "--out", "mpi", "-q"], tmp_path)
    # rank 0 alone prints: one report line, not one per rank
    assert stdout.count("Report:") == 1
    serial, mpi = (json.loads((tmp_path / run / "results.json").read_text())
                   ["stages"]["transport"]["results"] for run in ("serial", "mpi"))
    assert serial["pnp_mpi_ranks"] == 1 and mpi["pnp_mpi_ranks"] == 2
    # the seeded Brownian dynamics is the same on every rank: identical diffusivities
    assert mpi["diffusivities"] == serial["diffusivities"]
    # the distributed Newton solve converges to the serial fields; 1e-6 relative is far above
    # the solver tolerance and far below any physical difference in the profiles
    for species, metrics in serial["profile_metrics"].items():
        assert mpi["profile_metrics"][species]["rel_l2"] == pytest.approx(metrics["rel_l2"], rel=1e-6)
    # only rank 0 wrote the run directory: no rank-private scratch folders remain
    assert sorted(p.name for p in (tmp_path / "mpi" / "stages").iterdir()) == ["transport"]
