"""Calling the reference in a committee's order: counts with known answers on a hand-made Cu-Au hull."""
import itertools

import numpy as np
import pytest

from atomistic.errors import InputError
from atomistic.stability.recovery import (call_in_committee_order, calls_to_recover,
                                          expected_random_calls)

# Reference formation energies (eV/atom) of 8-atom Cu-Au cells. The hull's vertices are
# x_Au = 0.25, 0.5, 0.75; each other entry sits a stated distance above the hull.
TRUTH = {
    "x125": ("Cu7Au", -0.04),     # hull -0.05 here: 0.01 above
    "x250": ("Cu6Au2", -0.10),    # stable
    "x375": ("Cu5Au3", -0.12),    # hull -0.125: 0.005 above
    "x500": ("Cu4Au4", -0.15),    # stable
    "x500b": ("Cu4Au4", -0.13),   # same composition, 0.02 above
    "x625": ("Cu3Au5", -0.10),    # hull -0.115: 0.015 above
    "x750": ("Cu2Au6", -0.08),    # stable
    "x875": ("CuAu7", -0.03),     # hull -0.04: 0.01 above
}
STABLE = {"x250", "x500", "x750"}
NAMES = list(TRUTH)
FORMULAS = [TRUTH[n][0] for n in NAMES]
EXACT = np.array([TRUTH[n][1] for n in NAMES])


def reference(name):
    return TRUTH[name][1]


def test_a_perfect_ranking_needs_exactly_the_stable_count_and_a_reversed_one_needs_all():
    perfect = sorted(NAMES, key=lambda n: n not in STABLE)
    assert calls_to_recover(perfect, STABLE) == 3
    assert calls_to_recover(perfect[::-1], STABLE) == len(NAMES)
    assert calls_to_recover(NAMES, []) == 0     # nothing to find: no call needed


def test_random_order_expectation_equals_the_average_over_every_order():
    n, stable = 6, {"a", "b"}
    names = ["a", "b", "c", "d", "e", "f"]
    counts = [calls_to_recover(p, stable) for p in itertools.permutations(names)]
    # all 720 orders enumerated: the closed form is exact (float rounding only)
    assert expected_random_calls(n, 2) == pytest.approx(np.mean(counts), abs=1e-12)
    assert expected_random_calls(n, 2) == pytest.approx(14 / 3, abs=1e-12)


def test_an_exact_committee_calls_exactly_the_stable_set_then_stops():
    run = call_in_committee_order(NAMES, FORMULAS, EXACT, reference, k=1.0, complete=True)
    assert run.stop == 3                                  # integer count: exact
    assert set(run.called_at_stop) == STABLE
    assert set(run.stable_found) == STABLE
    assert calls_to_recover(run.order, STABLE) == 3
    assert sorted(run.order) == sorted(NAMES)             # complete: everyone called once


def test_zero_spread_committee_stops_after_its_last_predicted_stable_and_misses_a_hidden_one():
    # the committee puts x750 at -0.05, 0.025 above the hull through x500 and Au: predicted unstable
    wrong = EXACT.copy()
    wrong[NAMES.index("x750")] = -0.05
    run = call_in_committee_order(NAMES, FORMULAS, wrong, reference, k=1.0, complete=True)
    # x500 then x250 are predicted below the hull; after them nothing is (x875, -0.03, lies
    # 0.0075 above the x500-Au line): the rule stops right after its last predicted-stable one
    assert run.called_at_stop == ["x500", "x250"]
    assert "x750" not in run.called_at_stop                 # the miss stays visible
    assert set(run.stable_found) == {"x250", "x500"}
    assert calls_to_recover(run.order, STABLE) > 3


@pytest.mark.parametrize("k, recovered", [(1.0, True), (0.5, False)])
def test_a_spread_that_covers_the_error_recovers_the_hidden_stable_one(k, recovered):
    # two members at -0.05 +- 0.03 for x750 (std 0.03): lower bound 0.025 - 0.03 k, below 0 iff k > 5/6
    members = np.array([EXACT, EXACT])
    i = NAMES.index("x750")
    members[:, i] = [-0.02, -0.08]
    run = call_in_committee_order(NAMES, FORMULAS, members, reference, k=k)
    assert ("x750" in run.called_at_stop) is recovered
    if recovered:
        assert set(run.called_at_stop) == STABLE and run.stop == 3   # and nothing else called


def test_known_reference_results_shape_the_first_hull():
    # with x500 already known from an earlier campaign, it is not called again
    names = [n for n in NAMES if n != "x500"]
    pred = np.array([TRUTH[n][1] for n in names])
    run = call_in_committee_order(names, [TRUTH[n][0] for n in names], pred, reference,
                                  known=[("Cu4Au4", -0.15)])
    assert set(run.called_at_stop) == {"x250", "x750"}


def test_bad_inputs_are_named():
    with pytest.raises(InputError, match="predicted"):
        call_in_committee_order(NAMES, FORMULAS, EXACT[:-1], reference)
    with pytest.raises(InputError, match="k = -1"):
        call_in_committee_order(NAMES, FORMULAS, EXACT, reference, k=-1)
    with pytest.raises(InputError, match="never called"):
        calls_to_recover(["x250"], ["x500"])
