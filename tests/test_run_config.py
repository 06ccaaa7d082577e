"""Run configs are validated before anything runs; each error is one line naming file, key, value."""
import subprocess
import sys

import pytest

from multiscale.config import ConfigError, Quantity, load_config

HEAD = '[run]\nname = "t"\n'

BAD = [
    # (config body, fragment the one-line message must contain)
    ('[stage.a]\nkind = "eos"\nelemnts = ["Cu"]\n',
     "stage.a.elemnts: unknown key; did you mean 'elements'?"),
    ('[stage.a]\nkind = "eos"\nelements = ["Cu"]\npoints = 2\n',
     "stage.a.points: 2: must be >= 5"),
    ('[stage.a]\nkind = "eoss"\n', "stage.a.kind: 'eoss': unknown kind (known: "),
    ('[stage.a]\nelements = ["Cu"]\n', "stage.a.kind: required key is missing"),
    ('[stage.a]\nkind = "eos"\nelements = ["Cu"]\nneeds = ["lable"]\n',
     "stage.a.needs: 'lable': no such stage"),
    ('[stage.a]\nkind = "eos"\nelements = []\n', "stage.a.elements: list: List should have at least 1"),
    ('[stage.a]\nkind = "eos"\nelements = ["Cu"]\nstructure = "hcp"\n', "stage.a.structure: 'hcp'"),
]


@pytest.mark.parametrize("body,expected", BAD, ids=[e.split(":")[0] + str(i) for i, (_, e) in enumerate(BAD)])
def test_bad_config_is_rejected_with_a_message_naming_file_key_and_value(tmp_path, body, expected):
    path = tmp_path / "bad.toml"
    path.write_text(HEAD + body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert expected in message
    assert message.startswith(str(path.resolve()))


def test_invalid_toml_names_the_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('[run\nname = "x"\n')
    with pytest.raises(ConfigError, match=r"invalid TOML: .*line 1"):
        load_config(path)


def test_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml")


def test_quantities_accept_units_and_reject_wrong_dimensions():
    from pydantic import BaseModel, ValidationError

    class P(BaseModel):
        D: Quantity("m^2/s", gt=0)

    assert P(D="1.3e-5 cm^2/s").D == pytest.approx(1.3e-9, rel=1e-12)  # unit conversion is exact
    assert P(D=2e-9).D == 2e-9  # a bare number is read in the field's unit
    with pytest.raises(ValidationError, match="expected a quantity in m\\^2/s"):
        P(D="1 eV")
    with pytest.raises(ValidationError, match="greater than 0"):
        P(D="-1e-9 m^2/s")


def test_cli_exits_2_with_one_line_and_leaves_no_output_directory(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(HEAD + '[stage.a]\nkind = "eos"\nelemnts = ["Cu"]\n')
    proc = subprocess.run([sys.executable, "-m", "multiscale.cli", "run", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "did you mean 'elements'?" in proc.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("name", sorted(__import__("multiscale.commands.init", fromlist=["templates"])
                                        .templates()))
def test_every_init_template_is_a_valid_config(tmp_path, name):
    proc = subprocess.run([sys.executable, "-m", "multiscale.cli", "init", name, str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    cfg = load_config(tmp_path / "config.toml")
    assert cfg.run.name and cfg.stage
