"""Screening funnel on EMT Cu-Au: finds the exact stable set for fewer reference calls; resumes; Dask = serial."""
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from atomistic.stability.decorations import decorations, substitutions
from atomistic.emt_committee import EMTCommittee
from atomistic.errors import InputError
from atomistic.stability.hull import formation_hull
from atomistic.stability.screening import Level, screen
from foundation.executor import Executor


def _levels():
    return (Level("cheap", EMTCommittee(1, spread=0.01, seed=11).members[0], relax=False, key="cheap"),
            Level("committee", EMTCommittee(3, spread=0.001, seed=1), key="committee"),
            Level("reference", EMT(), key="emt"))


@pytest.fixture(scope="module")
def space():
    cands = decorations(bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 1, 1)), ["Cu", "Au"],
                        prefix="fcc8")
    return cands, [bulk("Cu", "fcc"), bulk("Au", "fcc")]


def test_fcc_cube_has_exactly_three_binary_orderings():
    # L1_2 A3B, L1_0 AB, L1_2 AB3: every other filling of the cube is one of them by symmetry
    d = decorations(bulk("Cu", "fcc", cubic=True), ["Cu", "Au"])
    assert sorted(a.get_chemical_formula() for a in d) == ["Au2Cu2", "Au3Cu", "AuCu3"]
    # Vegard: the 50/50 cell sits halfway between the Cu and Au reference cubes
    l10 = [a for a in d if a.get_chemical_formula() == "Au2Cu2"][0]
    assert l10.cell[0, 0] == pytest.approx((3.61 + 4.08) / 2, abs=1e-6)
    s = substitutions(l10, {"Au": ["Pt", "Ni"]})
    assert [a.get_chemical_formula() for a in s] == ["Cu2Pt2", "Cu2Ni2"]


def test_funnel_finds_the_emt_exact_stable_set_with_fewer_reference_calls(space, tmp_path):
    cands, refs = space
    exact = formation_hull(cands + refs, EMT())
    truth = sorted(n for n in exact.stable_names if n.startswith("fcc8"))
    res = screen(cands, refs, *_levels(), n_committee=8, n_reference=4, n_uncertain=2,
                 cache_dir=str(tmp_path))
    assert res.stable == truth
    assert res.reference_calls == 4 + 2 + len(refs)
    assert res.saving_factor > 3  # 27 exhaustive vs 8: the funnel's whole point
    assert res.spearman is not None and res.spearman > 0.5  # committee ~ EMT: ranks agree


def test_funnel_resumes_from_its_cache_and_recomputes_only_what_is_missing(space, tmp_path):
    cands, refs = space
    cands = cands[:6]
    kw = dict(n_committee=3, n_reference=2, n_uncertain=1, cache_dir=str(tmp_path))
    first = screen(cands, refs, *_levels(), **kw)
    assert first.cache_hits == 0
    victim = next((tmp_path / "reference").glob("*.json"))
    victim.unlink()  # as if the run had died before this task finished
    again = screen(cands, refs, *_levels(), **kw)
    total = sum(again.calls.values())
    assert again.cache_hits == total - 1
    assert again.stable == first.stable and again.table == first.table
    assert not list(tmp_path.rglob(".*.json*"))  # atomic writes leave no temp files


def test_dask_tasks_give_the_serial_answer(space):
    cands, refs = space
    cands = cands[:5]
    kw = dict(n_committee=3, n_reference=2, n_uncertain=1)
    serial = screen(cands, refs, *_levels(), **kw)
    with Executor(workers=2) as ex:       # two worker processes of a local Dask cluster
        parallel = screen(cands, refs, *_levels(), map=ex.map, **kw)
    assert parallel.stable == serial.stable
    for a, b in zip(serial.table, parallel.table):
        assert a.keys() == b.keys()
        for k in a:
            if isinstance(a[k], float):
                assert a[k] == pytest.approx(b[k], abs=1e-12)  # same arithmetic, any process


def test_funnel_refuses_a_space_without_its_elemental_references(space):
    cands, refs = space
    with pytest.raises(InputError, match="no elemental reference for Au"):
        screen(cands, refs[:1], *_levels())
    with pytest.raises(InputError, match="not a pure element"):
        screen(cands, refs + [cands[0]], *_levels())


def test_reliability_numbers_of_perfect_and_useless_forecasts():
    from atomistic.stability.calibration import reliability, scaled_members

    y = np.array([0, 0, 1, 1], bool)
    perfect = reliability([0.0, 0.0, 1.0, 1.0], y)
    assert perfect["ece"] == 0 and perfect["brier"] == 0
    coin = reliability([0.5] * 4, y)
    assert coin["brier"] == pytest.approx(0.25) and coin["ece"] == pytest.approx(0.0)
    e = np.arange(12.0).reshape(3, 4)
    # k = 0 collapses every member onto the committee mean; k = 1 changes nothing
    assert np.allclose(scaled_members(e, 0.0), e.mean(axis=0))
    assert np.allclose(scaled_members(e, 1.0), e)


def test_a_learned_committee_survives_the_private_copy_each_screening_task_makes():
    import copy

    import torch

    from atomistic.mlip.calculator import CommitteeCalculator
    from atomistic.mlip.model import MomentPotential

    torch.manual_seed(0)
    calc = CommitteeCalculator([MomentPotential([29], cutoff=4.5), MomentPotential([29], cutoff=4.5)])
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    twin = copy.deepcopy(calc)   # what screening's _evaluate does with every task's calculator
    a, b = atoms.copy(), atoms.copy()
    a.calc, b.calc = calc, twin
    assert b.get_potential_energy() == a.get_potential_energy()  # same weights, same arithmetic
