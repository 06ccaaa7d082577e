"""The hybrid_md stage runs hybrid MD from a config and writes the weights/forces/energy figure."""
import json

import pytest

from multiscale.config import ConfigError, parse_config
from multiscale.pipeline import run_pipeline


def _config(**extra):
    stage = {"kind": "hybrid_md", "size": 3, "steps": 6, "timestep": "1 fs", **extra}
    return parse_config({"run": {"name": "t"}, "stage": {"hybrid": stage}})


def test_hybrid_md_stage_writes_trajectory_figure_and_time_split(tmp_path):
    (rec,) = run_pipeline(_config(), tmp_path)
    res = rec.results
    assert res["steps"] == 6
    for name in ("hybrid_md.png", "hybrid_md.traj", "timings.json"):
        assert (rec.dir / name).stat().st_size > 0
    assert len(json.loads((rec.dir / "timings.json").read_text())) == 7  # one entry per force call
    # 6 steps of 1 fs with EMT-close forces at 600 K: E_kin + E moves by far less than 0.1 eV
    assert res["etot_spread_eV"] < 0.1
    assert "boundary flux d(E_kin + E_w)/dt" in res["headline"]


@pytest.mark.parametrize("extra,fragment", [
    ({"r_inner": 3.0, "r_outer": 2.0}, "expected r_inner <= r_outer"),
    ({"buffer": 0.5}, "narrower than the switching shell"),
    ({"low": "mlip"}, "needs exactly one mlip_train stage"),
])
def test_bad_hybrid_md_settings_are_rejected_before_running(extra, fragment):
    with pytest.raises(ConfigError, match=fragment):
        _config(**extra)
