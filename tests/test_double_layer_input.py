"""Unphysical double-layer input fails early with an InputError naming the field."""
import pytest

from continuum.double_layer import differential_capacitance, solve_double_layer
from continuum.errors import InputError

OK = dict(concentrations=[100.0, 100.0], valences=[1, -1])


@pytest.mark.parametrize("change, field", [
    (dict(permittivity=0.5), "permittivity"),
    (dict(concentrations=[-1.0, -1.0]), "concentrations"),
    (dict(concentrations=["salt", "water"]), "concentrations"),
    (dict(concentrations=[100.0, 50.0]), "concentrations"),       # net bulk charge
    (dict(valences=[1, 0]), "valences"),
    (dict(valences=[1, -1, 1]), "valences"),
    (dict(temperature=-5.0), "temperature"),
    (dict(stern_capacitance=-0.1), "stern_capacitance"),
    (dict(stern_capacitance=0.2, stern_thickness=3e-10), "stern_capacitance and stern_thickness"),
    (dict(stern_permittivity=6.0), "stern_permittivity"),
    (dict(stern_thickness=3e-10, stern_permittivity=0.2), "stern_permittivity"),
    (dict(ion_size=5e-9), "ion_size"),                             # over-packed bulk
    (dict(dipole_jump=float("nan")), "dipole_jump"),
    (dict(length=1e-10), "length"),
])
def test_bad_input_names_the_field(change, field):
    with pytest.raises(InputError, match=field):
        solve_double_layer(0.1, **{**OK, **change})


def test_bad_potential_window_is_rejected():
    with pytest.raises(InputError, match="potentials"):
        differential_capacitance([0.1, float("inf")], **OK)
