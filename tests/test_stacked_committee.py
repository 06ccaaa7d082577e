"""The committee calculator's stacked pass (atomistic.mlip.stacked) gives, to round-off, every
number the members give when called one after another: energies, forces, atomic energies,
predicted charges and the spreads built from them. Untrained float64 models with fixed
seeds: these are numerical identities, not physics."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ase.build import bulk, molecule

from atomistic.mlip.calculator import CommitteeCalculator
from atomistic.mlip.model import MomentPotential

KEYS = ("energy", "forces", "energies", "energy_std", "forces_std", "max_force_dev",
        "member_energies", "energies_std", "charges")


def pair(elements, n_members=3, heads=(1, 1, 1), **hyper):
    torch.manual_seed(4)
    hyper = {"cutoff": 4.0, "n_channels": 4, "hidden": [8], **hyper}
    models = [MomentPotential(list(elements), n_heads=h, **hyper) for h in heads[:n_members]]
    return (CommitteeCalculator(models, dtype="float64"),
            CommitteeCalculator(models, dtype="float64", stacked=False))


def salty_water():
    """A periodic box of water with a Na and a Cl, rattled: four elements, close pairs."""
    atoms = molecule("H2O")
    atoms.set_cell([3.1, 3.1, 3.1])
    atoms = atoms.repeat((2, 2, 2))
    atoms.numbers[[0, 9]] = [11, 17]   # two O become Na and Cl
    atoms.pbc = True
    atoms.rattle(0.05, seed=2)
    return atoms


@pytest.mark.parametrize("hyper, heads", [
    ({"charges": True, "repulsion": True}, (1, 1, 1)),
    ({"charges": True}, (2, 1, 3)),
    ({"l_max": 3, "coupling": True}, (1, 1, 1)),
], ids=["charges-zbl", "charges-heads", "coupling"])
def test_the_stacked_pass_gives_what_the_members_give_in_turn(hyper, heads):
    stacked, in_turn = pair((1, 8, 11, 17), heads=heads, **hyper)
    assert stacked.stacked and not in_turn.stacked
    for total in (None, 1.0):   # neutral, and a cell carrying one elementary charge
        atoms = salty_water()
        if total is not None:
            atoms.info["charge"] = total
        a, b = atoms.copy(), atoms.copy()
        a.calc, b.calc = stacked, in_turn
        a.get_forces(), b.get_forces()
        for key in KEYS:
            if key == "charges" and not hyper.get("charges"):
                continue
            # float64 round-off of sums taken in another order
            np.testing.assert_allclose(stacked.results[key], in_turn.results[key],
                                       rtol=1e-10, atol=1e-12, err_msg=key)
        if total is not None and hyper.get("charges"):
            assert stacked.results["charges"].sum() == pytest.approx(total, abs=1e-10)


def test_stress_and_the_cheap_head_mode_call_the_members_in_turn():
    stacked, in_turn = pair((29,), n_members=2, heads=(2, 2))
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.rattle(0.05, seed=1)
    a, b = atoms.copy(), atoms.copy()
    a.calc, b.calc = stacked, in_turn
    np.testing.assert_allclose(a.get_stress(), b.get_stress(), rtol=1e-10, atol=1e-12)
    cheap = CommitteeCalculator(stacked.models, dtype="float64", head_forces=False)
    atoms.calc = cheap
    atoms.get_forces()
    assert "max_force_dev" not in cheap.results and "max_energy_dev" in cheap.results


def test_a_verlet_skin_keeps_the_fresh_lists_pairs_and_the_calculators_numbers():
    from ase import units
    from ase.md.verlet import VelocityVerlet

    from atomistic.md.velocities import thermalize
    from atomistic.mlip.graph import VerletPairs, neighbour_pairs

    models = pair((29,), n_members=2)[0].models
    skinned = CommitteeCalculator(models, dtype="float64", skin=0.5)
    fresh = CommitteeCalculator(models, dtype="float64", skin=0.0)
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 2, 2))
    atoms.rattle(0.05, seed=3)
    thermalize(atoms, 2000.0, rng=np.random.default_rng(0))   # hot: the list must renew
    atoms.calc = skinned
    dyn = VelocityVerlet(atoms, 2.0 * units.fs)
    for _ in range(40):
        dyn.run(1)
        twin = atoms.copy()
        twin.calc = fresh
        # same pairs in the same canonical order: the same numbers bit for bit
        np.testing.assert_array_equal(atoms.get_forces(), twin.get_forces())
    assert 1 < skinned.pairs.rebuilds < 40   # renewed when atoms moved, not every step
    # a moved cell or changed periodicity renews the list whatever the displacement
    pairs = VerletPairs(4.0, skin=1.0)
    pairs(atoms)
    atoms.set_cell(atoms.cell * 1.01, scale_atoms=False)
    i, j, S = pairs(atoms)
    assert pairs.rebuilds == 2
    fi, fj, fS = neighbour_pairs(atoms, 4.0)
    assert sorted(zip(i, j, map(tuple, S))) == sorted(zip(fi, fj, map(tuple, fS)))
