"""Voltages from hulls: hand formula, convexity, coexistence at the plateau, references required."""
import numpy as np
import pytest

from atomistic.stability.electrode_potential import (average_voltage, phases_at_potential,
                                           reference_potential, voltage_profile)
from atomistic.errors import InputError
from atomistic.stability.hull import hull_from_energies

LI = -1.909
# Li-Co-O energies (eV per formula as written) at Materials-Project scale; see bench/hull.py
SET = [("Li", "Li", LI), ("Co", "Co", -7.108), ("O2", "O2", -9.896), ("CoO2", "CoO2", -20.304),
       ("Li0.5CoO2", "LiCo2O4", -46.617), ("LiCoO2", "LiCoO2", -25.913), ("Li2O", "Li2O", -14.310),
       ("CoO", "CoO", -14.200), ("Co3O4", "Co3O4", -46.000), ("Li2O2", "Li2O2", -19.800)]


@pytest.fixture(scope="module")
def hull():
    return hull_from_energies(SET)


def test_average_voltage_is_the_hand_formula(hull):
    e = {n: en for n, _, en in SET}
    hand = -(e["LiCoO2"] - e["CoO2"] - LI)
    # the same arithmetic in another order: only round-off (1e-9 V) separates them
    assert average_voltage(hull, "Li", "CoO2", 0, 1) == pytest.approx(hand, abs=1e-9)
    prof = voltage_profile(hull, "Li", "CoO2", x_max=1)
    np.testing.assert_allclose(prof.x, [0, 0.5, 1])
    half = e["Li0.5CoO2"] / 2
    np.testing.assert_allclose(prof.voltage, [-(half - e["CoO2"] - 0.5 * LI) / 0.5,
                                              -(e["LiCoO2"] - half - 0.5 * LI) / 0.5], atol=1e-9)


def test_voltage_never_rises_with_lithiation(hull):
    # a convex hull has non-decreasing slopes, so V = -(slope - mu) is non-increasing in x
    prof = voltage_profile(hull, "Li", "CoO2")
    assert np.all(np.diff(prof.voltage) <= 1e-12)
    assert prof.phases[-1] == ["Co", "Li2O"]  # past LiCoO2 the conversion to Co + Li2O


def test_phases_coexist_exactly_at_the_plateau_voltage(hull):
    prof = voltage_profile(hull, "Li", "CoO2", x_max=1)
    v1 = prof.voltage[0]  # CoO2 <-> Li0.5CoO2
    above = phases_at_potential(hull, "Li", v1 + 0.01, "Li/Li+")
    below = phases_at_potential(hull, "Li", v1 - 0.01, "Li/Li+")
    assert "CoO2" in above and "Li0.5CoO2" not in above
    assert "Li0.5CoO2" in below and "CoO2" not in below


def test_a_potential_without_reference_electrode_is_refused(hull):
    with pytest.raises(InputError, match=r"without a reference electrode.*reference='Li/Li\+'"):
        phases_at_potential(hull, "Li", 3.0, None)
    with pytest.raises(InputError, match="expected 'Li/Li\\+'"):
        reference_potential(hull, "Li", "SHE")
    # a numeric reference shifts every voltage by the same amount
    p0 = voltage_profile(hull, "Li", "CoO2", x_max=1)
    p1 = voltage_profile(hull, "Li", "CoO2", reference=LI + 0.5, x_max=1)
    np.testing.assert_allclose(p1.voltage - p0.voltage, 0.5, atol=1e-12)


def test_committee_voltage_band_is_the_member_spread(hull):
    rng = np.random.default_rng(0)
    base = np.array([e for _, _, e in SET])
    members = base + rng.normal(0, 0.02, (6, len(SET)))  # 20 meV per formula of noise per member
    h = hull_from_energies(SET, member_energies=members)
    prof = voltage_profile(h, "Li", "CoO2", x_max=1)
    i = {n: k for k, (n, _, _) in enumerate(SET)}
    hand = [-(m[i["LiCoO2"]] - m[i["CoO2"]] - m[i["Li"]]) for m in members]
    # the whole-range average only depends on the end members: each member's by hand
    assert prof.average_voltage_std() == pytest.approx(np.std(hand), abs=1e-9)
    mean, std = prof.voltage_band([0.25, 0.75])
    assert np.all(std > 0)
