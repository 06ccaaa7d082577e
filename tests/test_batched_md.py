"""Batched MD walkers (atomistic.md.batched): ASE's own integrators are the oracle.

Walkers advanced together with one stacked committee evaluation per step follow, atom for
atom, the trajectories ASE's Langevin / VelocityVerlet make with the CommitteeCalculator
walker by walker; the committee numbers (energy, forces, max_force_dev) are the calculator's.
Untrained float64 models with fixed torch seeds: the checks are numerical identities, so
physical forces are not needed, only finite, smooth ones (they stay below ~0.2 eV/A here).
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ase import units
from ase.build import bulk
from ase.md.langevin import Langevin
from ase.md.verlet import VelocityVerlet

from atomistic.errors import InputError
from atomistic.md.batched import BatchedMD
from atomistic.md.guards import MDBlowUp
from atomistic.md.velocities import thermalize
from atomistic.mlip.calculator import CommitteeCalculator
from atomistic.mlip.model import MomentPotential

DT_FS, T_K, FRICTION, SEED, STEPS = 2.0, 300.0, 0.01, 7, 30


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def committee(elements=(29,), n_members=2, seed=0, dtype="float64", **hyper):
    torch.manual_seed(seed)
    hyper = {"cutoff": 4.0, "n_channels": 4, "hidden": [8], **hyper}
    return CommitteeCalculator([MomentPotential(list(elements), **hyper)
                                for _ in range(n_members)], dtype=dtype)


def copper(k, repeat=(2, 2, 2)):
    """A rattled, thermalised Cu cell, different for every k."""
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(repeat)
    atoms.rattle(0.05, seed=k)
    thermalize(atoms, T_K, rng=np.random.default_rng(100 + k))
    return atoms


def copper_walkers(n=4):
    return [copper(k) for k in range(n)]


@pytest.fixture(scope="module")
def calc():
    return committee()


def ase_run(atoms, calc, ensemble, k, steps=STEPS):
    atoms.calc = calc
    if ensemble == "langevin":
        dyn = Langevin(atoms, DT_FS * units.fs, temperature_K=T_K, friction=FRICTION / units.fs,
                       fixcm=False, rng=np.random.default_rng([SEED, k]))
    else:
        dyn = VelocityVerlet(atoms, DT_FS * units.fs)
    dyn.run(steps)
    return atoms


@pytest.mark.parametrize("ensemble", ["langevin", "nve"])
def test_batched_walkers_follow_the_ase_integrator_walker_by_walker(calc, ensemble):
    walkers = copper_walkers()
    md = BatchedMD(walkers, calc, DT_FS, ensemble=ensemble, temperature_K=T_K,
                   friction=FRICTION, seed=SEED)
    md.run(STEPS)
    for k, atoms in enumerate(walkers):
        ref = ase_run(copper(k), calc, ensemble, k)
        assert not np.allclose(atoms.positions, copper(k).positions, atol=1e-3)  # it moved
        # float64: batched and single-frame forces differ only in summation order (~1e-16
        # eV/A); 30 steps of a 32-atom crystal amplify that far less than to 1e-9 A
        np.testing.assert_allclose(atoms.positions, ref.positions, rtol=0, atol=1e-9)
        np.testing.assert_allclose(atoms.get_momenta(), ref.get_momenta(), rtol=0, atol=1e-9)


def test_committee_numbers_are_the_calculators_on_the_same_positions(calc):
    walkers = copper_walkers()
    md = BatchedMD(walkers, calc, DT_FS, temperature_K=T_K, seed=SEED)
    md.run(10)
    assert md.max_force_dev_history.shape == (4, 10)
    assert np.array_equal(md.max_force_dev_history[:, -1], md.max_force_dev)
    for k, atoms in enumerate(walkers):
        single = atoms.copy()
        single.calc = calc
        energy = single.get_potential_energy()
        # float64 round-off of differently ordered sums, relative 1e-12 with margin
        assert md.energies[k] == pytest.approx(energy, rel=1e-12, abs=1e-12)
        assert md.max_force_dev[k] == pytest.approx(calc.results["max_force_dev"], rel=1e-10)
        np.testing.assert_allclose(md.forces(k), single.get_forces(), rtol=0, atol=1e-12)


def test_a_walker_does_not_depend_on_its_batch_mates(calc):
    alone = [copper(0)]
    BatchedMD(alone, calc, DT_FS, temperature_K=T_K, seed=SEED).run(STEPS)
    mates = [copper(0), copper(1, (2, 2, 1)), copper(2), copper(3, (1, 2, 2))]
    BatchedMD(mates, calc, DT_FS, temperature_K=T_K, seed=SEED).run(STEPS)
    # walker 0 draws from default_rng([seed, 0]) either way; only the batch's summation
    # order differs (float64 round-off, grown over 30 steps)
    np.testing.assert_allclose(mates[0].positions, alone[0].positions, rtol=0, atol=1e-10)
    np.testing.assert_allclose(mates[0].get_momenta(), alone[0].get_momenta(), rtol=0, atol=1e-10)


def test_a_verlet_skin_gives_the_forces_of_fresh_neighbour_lists(calc):
    fresh, skinned = copper_walkers(), copper_walkers()
    a = BatchedMD(fresh, calc, DT_FS, temperature_K=T_K, seed=SEED, skin=0.0)
    b = BatchedMD(skinned, calc, DT_FS, temperature_K=T_K, seed=SEED, skin=0.1)
    a.run(STEPS)
    b.run(STEPS)
    assert a.neighbour_list_builds == 4 * (STEPS + 1)
    # a 0.1 A skin is outrun (0.05 A) a few times in 60 fs at 300 K, not every step
    assert 4 < b.neighbour_list_builds < 4 * STEPS
    for x, y in zip(fresh, skinned):
        # same pair set every step; pair order within an atom may differ: round-off only
        np.testing.assert_allclose(y.positions, x.positions, rtol=0, atol=1e-10)
    np.testing.assert_allclose(b.max_force_dev_history, a.max_force_dev_history, rtol=1e-9)


def mixed_walkers():
    """Sizes, compositions and periodicities differ: bulk, a slab and an isolated cluster."""
    alloy = copper(0)
    alloy.numbers[[1, 7, 20]] = 79
    slab = copper(1, (2, 2, 1))
    slab.pbc = (True, True, False)
    slab.center(vacuum=5.0, axis=2)
    cluster = copper(2, (1, 1, 2))
    cluster.numbers[3] = 79
    cluster.pbc = False
    cluster.cell = np.zeros((3, 3))
    return [alloy, slab, cluster]


@pytest.mark.parametrize("hyper", [{"l_max": 1}, {"l_max": 3, "coupling": True, "n_heads": 2},
                                   {"repulsion": True}, {"charges": True}],
                         ids=["l1", "l3-coupling-heads", "zbl", "charges"])
def test_stacked_committee_equals_the_calculator_for_every_architecture(hyper):
    calc = committee((29, 79), n_members=2, seed=1, **hyper)
    walkers = mixed_walkers()
    if hyper.get("charges"):  # an Ewald sum needs a periodic cell
        walkers = [walkers[0], copper(3, (1, 2, 2))]
    md = BatchedMD(walkers, calc, DT_FS, temperature_K=T_K)
    md.run(0)
    assert md._evaluator.stacked   # every architecture, charges (and their PME) included
    if hyper.get("repulsion"):   # the rattled cells have pairs inside the ZBL range
        single = walkers[0].copy()
        single.calc = calc
        single.get_potential_energy()
        model = calc.models[0]
        assert any(float(model.core.r_max.max()) > d for d in single.get_all_distances(
            mic=True)[np.triu_indices(len(single), 1)])
    by_member = CommitteeCalculator(calc.models, dtype="float64", stacked=False)
    for k, atoms in enumerate(walkers):
        single = atoms.copy()
        single.calc = by_member   # the members called in turn: the reference
        assert md.energies[k] == pytest.approx(single.get_potential_energy(), rel=1e-12,
                                               abs=1e-12)  # float64 round-off
        np.testing.assert_allclose(md.forces(k), single.get_forces(), rtol=0, atol=1e-12)
        assert md.max_force_dev[k] == pytest.approx(by_member.results["max_force_dev"],
                                                    rel=1e-10)


def test_float32_committee_numbers_are_the_calculators_to_float32_round_off():
    calc = committee(n_members=3, dtype="float32", seed=3)
    walkers = copper_walkers(2)
    md = BatchedMD(walkers, calc, DT_FS)
    md.run(0)
    for k, atoms in enumerate(walkers):
        single = atoms.copy()
        single.calc = calc
        forces = single.get_forces()
        # float32 eps 1.2e-7 over sums of ~40 pair terms, in differing order: 1e-5 relative
        scale = np.abs(forces).max()
        np.testing.assert_allclose(md.forces(k), forces, rtol=0, atol=1e-5 * scale)
        assert md.energies[k] == pytest.approx(single.get_potential_energy(), rel=1e-6)
        # the spread is a difference of near-equal forces: their round-off, relative to it
        assert md.max_force_dev[k] == pytest.approx(calc.results["max_force_dev"], rel=1e-4)


def test_a_callback_sees_current_walkers_and_can_stop_the_run(calc):
    walkers = copper_walkers(2)
    seen = []

    def callback(step, md):
        seen.append((step, md.walkers[1].positions.copy()))
        return step == 5

    md = BatchedMD(walkers, calc, DT_FS, temperature_K=T_K, seed=SEED)
    md.run(STEPS, callback=callback)
    assert [s for s, _ in seen] == [1, 2, 3, 4, 5]
    assert md.nsteps == 5 and md.max_force_dev_history.shape == (2, 5)
    ref = ase_run(copper(1), calc, "langevin", 1, steps=5)
    np.testing.assert_allclose(seen[-1][1], ref.positions, rtol=0, atol=1e-10)  # round-off


def test_a_rollback_of_the_atoms_between_runs_is_where_the_walker_continues(calc):
    walkers = copper_walkers(2)
    start = walkers[1].copy()
    md = BatchedMD(walkers, calc, DT_FS, temperature_K=T_K, seed=SEED)
    md.run(5)
    walkers[1].positions[:] = start.positions  # what active learning does on a rejection
    walkers[1].set_momenta(start.get_momenta())
    md.run(5)
    ref = copper(1)
    ref.calc = calc
    dyn = Langevin(ref, DT_FS * units.fs, temperature_K=T_K, friction=FRICTION / units.fs,
                   fixcm=False, rng=np.random.default_rng([SEED, 1]))
    dyn.run(5)
    ref.positions[:] = start.positions
    ref.set_momenta(start.get_momenta())
    dyn.run(5)
    np.testing.assert_allclose(walkers[1].positions, ref.positions, rtol=0, atol=1e-9)  # round-off


def test_per_walker_temperatures_and_a_ramp_match_ase_set_temperature(calc):
    walkers = copper_walkers(2)
    ramp = {5: [450.0, 900.0]}

    def callback(step, md):
        if step in ramp:
            md.set_temperature(ramp[step])

    BatchedMD(walkers, calc, DT_FS, temperature_K=[300.0, 600.0], seed=SEED).run(
        10, callback=callback)
    for k, (t0, t1) in enumerate([(300.0, 450.0), (600.0, 900.0)]):
        ref = copper(k)
        ref.calc = calc
        dyn = Langevin(ref, DT_FS * units.fs, temperature_K=t0, friction=FRICTION / units.fs,
                       fixcm=False, rng=np.random.default_rng([SEED, k]))
        dyn.run(5)
        dyn.set_temperature(temperature_K=t1)
        dyn.run(5)
        # float64 round-off only, as in the 30-step comparison
        np.testing.assert_allclose(walkers[k].positions, ref.positions, rtol=0, atol=1e-9)


def test_non_finite_forces_raise_md_blow_up_naming_walker_and_step():
    calc = committee((29, 79), n_members=2, seed=2)
    walkers = copper_walkers(4)
    walkers[2].numbers[5] = 79  # the only gold atom

    def poison(step, md):  # after step 2, head 0's gold MLP of member 0 returns NaN
        if step == 2:
            with torch.no_grad():
                calc.models[0].mlps[1][0].bias.fill_(float("nan"))

    md = BatchedMD(walkers, calc, DT_FS, temperature_K=T_K)
    with pytest.raises(MDBlowUp, match=r"walker 2, step 3: non-finite forces or energy"):
        md.run(10, callback=poison)


def test_reported_non_finite_walker_gets_infinite_deviation_and_the_others_go_on():
    # the active-learning loop rolls such a walker back; its batch mates are not disturbed
    calc = committee((29, 79), n_members=2, seed=2)
    walkers = copper_walkers(4)
    walkers[2].numbers[5] = 79
    clean = [a.copy() for a in walkers]

    def poison(step, md):
        if step == 2:
            with torch.no_grad():
                calc.models[0].mlps[1][0].bias.fill_(float("nan"))
        if step == 3:
            return True

    md = BatchedMD(walkers, calc, DT_FS, temperature_K=T_K, nonfinite="report")
    md.run(10, callback=poison)
    assert md.nsteps == 3 and np.isinf(md.max_force_dev[2])
    assert np.isinf(md.forces_std(2)).all() and not md.forces(2).any()
    assert np.isfinite(md.max_force_dev[[0, 1, 3]]).all()
    # walker 0 has no gold: its step 3 used clean forces, as in a batch without walker 2
    alone = BatchedMD([clean[0]], committee((29, 79), n_members=2, seed=2), DT_FS,
                      temperature_K=T_K, rngs=[np.random.default_rng([0, 0])])
    alone.run(3)
    np.testing.assert_allclose(walkers[0].positions, clean[0].positions, atol=1e-12)


def test_walker_generators_continue_their_streams_and_forces_std_gives_the_deviation(calc):
    # the active-learning loop hands each walker's own generator in: same trajectories as
    # BatchedMD's seeding when the generators are the ones it would have made
    a, b = copper_walkers(3), copper_walkers(3)
    md_a = BatchedMD(a, calc, DT_FS, temperature_K=T_K, seed=SEED)
    rngs = [np.random.default_rng([SEED, k]) for k in range(3)]
    md_b = BatchedMD(b, calc, DT_FS, temperature_K=T_K, rngs=rngs)
    md_a.run(5)
    md_b.run(5)
    for x, y in zip(a, b):
        assert np.array_equal(x.positions, y.positions)
    assert rngs[0].bit_generator.state == md_a.rngs[0].bit_generator.state   # advanced in place
    for k in range(3):
        assert md_b.forces_std(k).max() == md_b.max_force_dev[k]
    with pytest.raises(InputError, match="^rngs"):
        BatchedMD(copper_walkers(2), calc, DT_FS, rngs=rngs[:1])
    with pytest.raises(InputError, match="^nonfinite"):
        BatchedMD(copper_walkers(1), calc, DT_FS, nonfinite="ignore")


@pytest.mark.parametrize("kwargs, field", [
    ({"walkers": []}, "walkers"),
    ({"ensemble": "npt"}, "ensemble"),
    ({"timestep_fs": 0.0}, "timestep_fs"),
    ({"timestep_fs": -1.0}, "timestep_fs"),
    ({"timestep_fs": float("nan")}, "timestep_fs"),
    ({"friction": 0.0}, "friction"),
    ({"temperature_K": -5.0}, "temperature_K"),
    ({"temperature_K": [300.0, 300.0]}, "temperature_K"),  # two for one walker
    ({"temperature_K": None}, "temperature_K"),
    ({"skin": -0.1}, "skin"),
    ({"calc": object()}, "calc"),
])
def test_bad_input_is_an_input_error_naming_the_field(calc, kwargs, field):
    args = {"walkers": copper_walkers(1), "calc": calc, "timestep_fs": DT_FS, **kwargs}
    with pytest.raises(InputError, match=f"^{field}"):
        BatchedMD(**args)


def test_bad_step_count_names_steps(calc):
    md = BatchedMD(copper_walkers(1), calc, DT_FS)
    with pytest.raises(InputError, match="^steps"):
        md.run(-1)


def test_stacked_charges_of_a_charged_walker_equal_the_members_in_turn():
    # the stacked pass's written-out chain rule runs the Ewald energy's charge gradient back
    # through the neutralisation to the frame's total charge and the charge heads
    calc = committee((29, 79), n_members=2, seed=4, charges=True)
    charged, neutral = copper(5, (1, 2, 2)), copper(6, (1, 2, 2))
    charged.numbers[[0, 3]] = 79
    charged.info["charge"] = 1.0
    md = BatchedMD([charged, neutral], calc, DT_FS, temperature_K=T_K)
    md.run(0)
    by_member = CommitteeCalculator(calc.models, dtype="float64", stacked=False)
    for k, atoms in enumerate((charged, neutral)):
        single = atoms.copy()
        single.calc = by_member
        assert md.energies[k] == pytest.approx(single.get_potential_energy(), rel=1e-12,
                                               abs=1e-12)  # float64 round-off
        np.testing.assert_allclose(md.forces(k), single.get_forces(), rtol=0, atol=1e-12)
    assert by_member.results["charges"].sum() == pytest.approx(0.0, abs=1e-12)
    single = charged.copy()
    single.calc = by_member
    assert single.get_charges().sum() == pytest.approx(1.0, abs=1e-12)  # the frame's charge
