"""Handoff files round-trip through TOML/JSON and reject bad input naming the field."""
import math

import pytest

from couplers.errors import InputError
from couplers.handoff import Handoff


def _good():
    return {"temperature": 298.15, "relative_permittivity": 78.5,
            "species": [{"name": "Na", "charge_number": 1}, {"name": "Cl", "charge_number": -1}],
            "bulk_concentrations": {"Na": 100.0, "Cl": 100.0},
            "diffusivities": [{"species": "Na", "value": 1.3e-9, "stderr": 1e-11, "unit": "m^2/s"}],
            "profiles": [{"name": "Na", "grid": [0, 1, 2], "values": [1, 2, 3], "grid_unit": "m",
                          "unit": "mol/m^3", "reference": "wall at z=0"}]}


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_handoff_round_trips(tmp_path, suffix):
    h = Handoff.validate_data(_good())
    back = Handoff.load(h.save(tmp_path / f"h{suffix}"))
    assert back == h
    assert back.diffusivity_si("Na") == 1.3e-9


@pytest.mark.parametrize("edit, field", [
    (lambda d: d["diffusivities"][0].pop("unit"), "diffusivities.0.unit"),
    (lambda d: d["diffusivities"][0].update(value=-1.0), "diffusivities.0.value"),
    (lambda d: d["profiles"][0].update(values=[1, 2]), "profiles.0"),
    (lambda d: d["profiles"][0].update(values=[1, math.nan, 3]), "profiles.0.values"),
    (lambda d: d.update(temperature=math.nan), "temperature"),
])
def test_handoff_rejects_bad_fields_by_name(edit, field):
    d = _good()
    edit(d)
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        Handoff.validate_data(d)
