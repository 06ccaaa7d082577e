"""`multiscale property` writes JSON + PNG for a structure file, and refuses bad input with exit code 2."""
import json

from ase.build import bulk
from ase.calculators.emt import EMT
from typer.testing import CliRunner

from atomistic.properties.elastic import relax_cell
from multiscale.cli import app


def test_property_elastic_writes_json_and_png(tmp_path):
    relax_cell(bulk("Cu", "fcc"), EMT()).write(tmp_path / "cu.traj")
    r = CliRunner().invoke(app, ["property", "elastic", str(tmp_path / "cu.traj"), "--calc", "emt",
                                 "-o", str(tmp_path), "-q"])
    assert r.exit_code == 0, r.output
    data = json.loads((tmp_path / "elastic.json").read_text())
    # EMT Cu: B from C and from the EOS agree to 1 %
    assert abs(data["moduli_GPa"]["K_VRH"] / data["B_eos_GPa"] - 1) < 0.01
    assert (tmp_path / "elastic.png").stat().st_size > 1000


def test_property_unrelaxed_cell_exits_2_with_advice(tmp_path):
    bulk("Cu", "fcc", a=3.5).write(tmp_path / "cu.traj")
    r = CliRunner().invoke(app, ["property", "elastic", str(tmp_path / "cu.traj"), "-o", str(tmp_path), "-q"])
    assert r.exit_code == 2
    assert "relax" in r.output
