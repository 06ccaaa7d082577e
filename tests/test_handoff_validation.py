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


@pytest.mark.parametrize("edit, field, words", [
    (lambda d: d["diffusivities"][0].update(unit="furlongs"), "diffusivities.0.unit", "dimension"),
    (lambda d: d["diffusivities"][0].update(unit="bananas/s"), "diffusivities.0.unit", "not a unit"),
    (lambda d: d["diffusivities"][0].update(unit="m/s"), "diffusivities.0.unit", "expected"),
    (lambda d: d["profiles"][0].update(grid_unit="kg"), "profiles.0.grid_unit", "expected"),
    (lambda d: d.update(concentration_unit="mol"), "(root)", "expected"),
    (lambda d: d.update(diffusivites=[]), "diffusivites", "Extra inputs"),
    (lambda d: d["species"][0].update(charge=1), "species.0.charge", "Extra inputs"),
])
def test_handoff_refuses_wrong_units_and_unknown_keys_by_name(edit, field, words):
    d = _good()
    edit(d)
    with pytest.raises(InputError, match=rf"{field.replace('.', chr(92) + '.')}.*{words}"):
        Handoff.validate_data(d)


def test_handoff_units_are_converted_once_at_load():
    d = _good()
    d["diffusivities"][0].update(value=0.13, unit="A^2/ps")          # 0.13 A^2/ps = 1.3e-9 m^2/s
    d.update(bulk_concentrations={"Na": 0.1, "Cl": 0.1}, concentration_unit="mol/L")
    h = Handoff.validate_data(d)
    # Exact unit arithmetic up to float rounding of the pint factors.
    assert math.isclose(h.diffusivity_si("Na"), 1.3e-9, rel_tol=1e-12)
    assert math.isclose(h.bulk_concentrations["Na"], 100.0, rel_tol=1e-12) and h.concentration_unit == "mol/m^3"


def test_provenance_is_stamped_when_each_handoff_is_made():
    import time
    a = Handoff.validate_data(_good())
    time.sleep(0.01)
    b = Handoff.validate_data(_good())
    assert a.provenance.created < b.provenance.created   # ISO UTC stamps order like times
