"""`multiscale hull` and the `screen` stage: files in, JSON and plots out, bad input as one line."""
import json

from ase.build import bulk
from ase.io import write
from typer.testing import CliRunner

from atomistic.stability.decorations import decorations
from multiscale.cli import app
from multiscale.config import parse_config
from multiscale.pipeline import run_pipeline


def _write_cu_au(folder):
    structs = [bulk("Cu", "fcc"), bulk("Au", "fcc")]
    structs += decorations(bulk("Cu", "fcc", a=3.6, cubic=True), ["Cu", "Au"])
    paths = []
    for i, a in enumerate(structs):
        paths.append(folder / f"s{i}_{a.get_chemical_formula()}.traj")
        write(paths[-1], a)
    return paths


def test_hull_command_writes_hull_and_voltage_for_cu_alloying_into_au(tmp_path):
    paths = _write_cu_au(tmp_path)
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["hull", *map(str, paths), "--calc", "emt-committee:3", "--ion", "Cu",
                                 "--host", "Au", "-o", str(out), "-q"])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "hull.json").read_text())
    assert res["n_members"] == 3 and len(res["entries"]) == 5
    assert (out / "hull.png").stat().st_size > 0 and (out / "voltage.png").stat().st_size > 0
    v = json.loads((out / "voltage.json").read_text())
    # Cu-Au alloys bind (EMT): Cu goes into Au above the Cu/Cu+ potential on every plateau
    assert v["reference"] == "Cu/Cu+" and min(v["voltage_V"]) > 0
    assert "P(stable)" in r.output


def test_hull_command_without_an_elemental_reference_exits_2_naming_it(tmp_path):
    paths = _write_cu_au(tmp_path)
    r = CliRunner().invoke(app, ["hull", str(paths[0]), str(paths[3]), "-o", str(tmp_path), "-q"])
    assert r.exit_code == 2
    assert "no elemental reference for Au" in r.output


def test_screen_stage_runs_in_a_pipeline_and_reports_its_savings(tmp_path):
    cfg = parse_config({"run": {"name": "t"},
                        "stage": {"s": {"kind": "screen", "elements": ["Cu", "Au"], "cell": [1, 1, 1],
                                        "committee": "emt-committee:2", "committee_fraction": 1.0,
                                        "reference_fraction": 0.34, "uncertain_fraction": 0.0}}})
    rec = run_pipeline(cfg, tmp_path)[0]
    res = rec.results
    # 3 cube orderings + 2 elements; the reference sees 1 candidate + the 2 elements
    assert res["exhaustive_reference_calls"] == 5 and res["reference_calls"] == 3
    assert (rec.dir / "screening.json").exists()
    assert res["stable"]  # the committee's best L1_x ordering binds in EMT: on the verified hull
