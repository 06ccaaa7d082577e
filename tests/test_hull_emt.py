"""Convex hulls of EMT Cu-Au: ordered phases on the hull, mass balance, peers agree, bad input named."""
import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT

from atomistic.stability.decorations import decorations
from atomistic.emt_committee import EMTCommittee
from atomistic.errors import ConvergenceError, InputError
from atomistic.stability.hull import formation_hull, hull_from_energies
from atomistic.stability.relaxation import relax


@pytest.fixture(scope="module")
def cu_au():
    # Cu, Au and the three fcc-cube orderings: L1_2 Cu3Au, L1_0 CuAu, L1_2 CuAu3
    structs = [bulk("Cu", "fcc"), bulk("Au", "fcc")]
    structs += decorations(bulk("Cu", "fcc", a=3.6, cubic=True), ["Cu", "Au"], prefix="fcc4")
    return structs


@pytest.fixture(scope="module")
def emt_hull(cu_au):
    return formation_hull(cu_au, EMT())


def test_cu3au_and_cuau_are_on_the_emt_hull_elements_have_zero_formation_energy(emt_hull):
    h = emt_hull
    by_formula = dict(zip(h.formulas, range(len(h.names))))
    assert h.formation_energy[by_formula["Cu"]] == 0.0
    assert h.formation_energy[by_formula["Au"]] == 0.0
    # EMT orders Cu3Au (L1_2) and CuAu (L1_0) with negative formation energy: both on the hull
    for f in ("AuCu3", "Au2Cu2"):
        i = by_formula[f]
        assert h.formation_energy[i] < 0 and h.stable[i] and h.e_above_hull[i] == 0
    assert np.all(h.e_above_hull >= 0)


def test_decomposition_conserves_every_element(emt_hull):
    from pymatgen.core import Composition

    h = emt_hull
    for name, formula, products in zip(h.names, h.formulas, h.decomposition):
        target = Composition(formula).fractional_composition
        mix = {}
        for p, frac in products.items():
            for el, x in Composition(h.formulas[h.index(p)]).fractional_composition.items():
                mix[el] = mix.get(el, 0.0) + frac * x
        for el in target:
            assert mix[el] == pytest.approx(target[el], abs=1e-9)  # linear algebra, round-off only
        assert sum(products.values()) == pytest.approx(1.0, abs=1e-9)


def test_e_above_hull_matches_ase_phasediagram_on_the_same_entries(emt_hull):
    from ase.phasediagram import PhaseDiagram

    h = emt_hull
    from pymatgen.core import Composition

    counts = [{str(k): int(v) for k, v in Composition(f).items()} for f in h.formulas]
    apd = PhaseDiagram(list(zip(counts, h.energies)), verbose=False)
    for c, e, ours in zip(counts, h.energies, h.e_above_hull):
        n = sum(c.values())
        ase_ehull = (e - apd.decompose(**c)[0]) / n
        assert max(ase_ehull, 0.0) == pytest.approx(ours, abs=1e-10)  # two qhull codes, same geometry


def test_committee_hull_p_stable_counts_members_and_elements_are_certain(cu_au):
    committee = EMTCommittee(n_members=4, spread=0.001, seed=3)
    h = formation_hull(cu_au, committee)
    assert h.member_energies.shape == (4, len(cu_au))
    # P(stable) is a fraction of 4 members
    assert np.allclose(h.p_stable * 4, np.round(h.p_stable * 4))
    for f in ("Cu", "Au"):
        i = h.formulas.index(f)
        # every member's hull starts at its own pure elements: certain, zero spread
        assert h.p_stable[i] == 1.0 and h.formation_energy_std[i] == 0.0
    assert np.any(h.formation_energy_std > 0)


def test_missing_elemental_reference_is_named_before_any_relaxation():
    structs = [bulk("Cu", "fcc"), decorations(bulk("Cu", "fcc", cubic=True), ["Cu", "Au"])[0]]
    with pytest.raises(InputError, match=r"no elemental reference for Au.*bulk\('Au'\)"):
        formation_hull(structs, EMT())
    with pytest.raises(InputError, match="no elemental reference for O"):
        hull_from_energies([("Cu", "Cu", -1.0), ("CuO", "CuO", -5.0)])


def test_structure_that_fails_to_relax_is_named_with_the_fix():
    # 1.5 A apart: above the overlap bound (0.5 x 2.64 A) but far from the 2.2 A bond, so
    # two BFGS steps cannot relax it
    squashed = Atoms("Cu2", positions=[[0, 0, 0], [1.5, 0, 0]], cell=[8, 8, 8], pbc=True)
    with pytest.raises(ConvergenceError, match=r"'squashed'.*raise steps="):
        relax(squashed, EMT(), name="squashed", steps=2)
    with pytest.raises(ConvergenceError, match="squashed"):
        formation_hull([bulk("Cu"), squashed], EMT(), names=["Cu", "squashed"], steps=2)


def test_overlapping_atoms_are_refused_by_name_before_any_relaxation():
    from atomistic.structures import StructureError

    doubled = Atoms("Cu2", positions=[[0, 0, 0], [0.3, 0, 0]], cell=[8, 8, 8], pbc=True)
    with pytest.raises(StructureError, match=r"^structure 'doubled': atoms 0 \(Cu\) and 1 \(Cu\) "
                                             r"are 0.3 Å apart"):
        formation_hull([bulk("Cu"), doubled], EMT(), names=["Cu", "doubled"])
