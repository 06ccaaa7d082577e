"""Switching functions: end values, vanishing derivatives, analytic derivatives vs finite differences."""
import numpy as np
import pytest

from couplers import switching
from couplers.errors import InputError

SMOOTH = [switching.Quintic(), switching.Septic(), switching.Cosine(), switching.Cubic()]


@pytest.mark.parametrize("s", SMOOTH, ids=lambda s: s.name)
def test_switch_is_one_at_inner_and_zero_at_outer_radius(s):
    # 1e-12: the polynomials are exact at 0 and 1; only rounding remains
    assert abs(s.value(0.0) - 1.0) < 1e-12
    assert abs(s.value(1.0)) < 1e-12


@pytest.mark.parametrize("s", SMOOTH, ids=lambda s: s.name)
def test_derivatives_vanish_at_both_ends_up_to_the_smoothness_class(s):
    # evaluate the closed forms exactly at the ends (the public first()/second() are
    # defined as zero outside the open shell, which would make this test vacuous)
    for x in (0.0, 1.0):
        assert abs(s._first(np.float64(x))) < 1e-12  # 1e-12: exact zeros of the polynomial
        if s.smoothness >= 2:
            assert abs(s._second(np.float64(x))) < 1e-12


def test_septic_third_derivative_vanishes_at_both_ends():
    s = switching.Septic()
    h = 1e-5
    for x in (0.0, 1.0):
        third = (s._second(np.float64(x + h)) - s._second(np.float64(x - h))) / (2 * h)
        assert abs(third) < 1e-6  # S'' has a double zero at the ends: the difference is 1680 h^2 ~ 2e-7


def test_quintic_is_the_default():
    assert isinstance(switching.get_switch(None), switching.Quintic)
    assert switching.Quintic().smoothness == 2


@pytest.mark.parametrize("s", SMOOTH, ids=lambda s: s.name)
def test_first_and_second_derivatives_match_finite_differences(s):
    x = np.linspace(0.02, 0.98, 49)
    h = 1e-5
    fd1 = (s.value(x + h) - s.value(x - h)) / (2 * h)
    fd2 = (s.first(x + h) - s.first(x - h)) / (2 * h)
    assert np.max(np.abs(fd1 - s.first(x))) < 1e-8  # O(h^2 S''') ~ 1e-9 plus rounding 1e-11
    assert np.max(np.abs(fd2 - s.second(x))) < 1e-6  # same, one derivative higher


@pytest.mark.parametrize("s", SMOOTH, ids=lambda s: s.name)
def test_switch_decreases_monotonically_through_the_shell(s):
    v = s.value(np.linspace(0, 1, 1001))
    assert np.all(np.diff(v) <= 1e-15)  # rounding only


def test_unknown_switch_name_is_rejected_with_the_known_names():
    with pytest.raises(InputError, match="quintic"):
        switching.get_switch("sigmoid")
