"""HybridCalculator physics: smooth forces through the shell, exact gradients in energy
mode, buffer convergence to the full high-level answer, and clear errors on bad input."""
import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones
from ase.md.verlet import VelocityVerlet
from ase import units

from couplers import HybridCalculator
from couplers.errors import InputError
from couplers.regions import IndexRegion, SphereRegion


def _low():
    # Lennard-Jones fitted to Cu (Halicioglu & Pound): deliberately not EMT
    return LennardJones(epsilon=0.4093, sigma=2.338, rc=5.5, ro=4.5, smooth=True)


def _drag(switch, step, r_inner=2.0, r_outer=3.0):
    """One atom moved radially across the outer edge of the shell in steps of ``step`` (A).

    Returns (largest jump of any force component between consecutive steps, largest
    second difference F[n+1] - 2F[n] + F[n-1]), eV/A. The jump includes the atom's own
    force constant times the step (present in pure EMT too); the second difference
    isolates what the switching adds: O(step^2) for a smooth force, O(step) at a kink,
    O(1) at a discontinuity.
    """
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(3)
    atoms.rattle(0.03, seed=3)
    centre = atoms.positions[0].copy()
    mover = 1 + int(np.argmin(np.linalg.norm(atoms.positions[1:] - centre, axis=1)))
    u = atoms.positions[mover] - centre
    u /= np.linalg.norm(u)
    atoms.calc = HybridCalculator(EMT(), _low(), SphereRegion(r_inner, r_outer, centre=centre),
                                  switch=switch, buffer=2.0)
    forces = []
    for r in np.arange(r_outer - 0.12, r_outer + 0.02, step):  # the end where kinks live
        atoms.positions[mover] = centre + r * u
        forces.append(atoms.get_forces().copy())
    f = np.array(forces)
    return np.max(np.abs(np.diff(f, axis=0))), np.max(np.abs(np.diff(f, 2, axis=0)))


def test_quintic_switching_keeps_forces_smooth_through_the_shell():
    (jump_c, curv_c), (jump_f, curv_f) = _drag("quintic", 4e-3), _drag("quintic", 2e-3)
    assert 1.7 < jump_c / jump_f < 2.3  # jumps linear in the step: the force is continuous
    assert curv_c / curv_f > 3.0  # second differences ~step^2: no kink either (ideal ratio 4)


def test_linear_switching_leaves_a_kink_and_abrupt_a_jump():
    _, curv_c = _drag("linear", 4e-3)
    _, curv_f = _drag("linear", 2e-3)
    assert 1.5 < curv_c / curv_f < 2.5  # O(step) second difference: a kink at r_outer
    jump, _ = _drag("abrupt", 4e-3)
    assert jump > 0.1  # the step in weight exposes |F_high - F_low| ~ eV/A: O(1)


def test_energy_mode_forces_are_the_exact_gradient_of_its_energy():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(4)
    atoms.rattle(0.1, seed=4)
    atoms.calc = HybridCalculator(EMT(), _low(), SphereRegion(2.0, 3.0, atoms=[0]),
                                  buffer=3.0, mode="energy")
    forces = atoms.get_forces()
    d = atoms.calc.region.distances(atoms)
    h = 1e-4
    # a core atom, a buffer atom and an atom outside the cluster
    picks = [0, int(np.argmin(np.abs(d - 4.5))), int(np.argmax(d))]
    for i in picks:
        for k in range(3):
            pos = atoms.positions.copy()
            pos[i, k] += h
            atoms.positions = pos
            ep = atoms.get_potential_energy()
            pos[i, k] -= 2 * h
            atoms.positions = pos
            em = atoms.get_potential_energy()
            pos[i, k] += h
            atoms.positions = pos
            # central difference error O(h^2 F'') ~ 1e-7 eV/A, plus 1e-12/h rounding
            assert abs(-(ep - em) / (2 * h) - forces[i, k]) < 1e-5


def _nve_spread(calc, steps=30, dt=1.0):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(4)
    atoms.rattle(0.1, seed=5)
    atoms.calc = calc
    dyn = VelocityVerlet(atoms, dt * units.fs)
    e = []
    for _ in range(steps):
        dyn.run(1)
        e.append(atoms.get_potential_energy() + atoms.get_kinetic_energy())
    return np.ptp(e)


def test_energy_mode_conserves_energy_as_well_as_the_low_level_alone():
    hybrid = _nve_spread(HybridCalculator(EMT(), _low(), SphereRegion(2.0, 3.0, atoms=[0]),
                                          buffer=3.0, mode="energy"))
    low_only = _nve_spread(_low())
    # the target: within 2x of the low level alone at the same time step
    assert hybrid < 2.0 * low_only, (hybrid, low_only)


def test_core_force_error_falls_with_buffer_to_zero_at_twice_the_emt_cutoff():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(8)  # 28.9 A: room for a 13.8 A cluster
    atoms.rattle(0.05, seed=6)
    ref = atoms.copy()
    ref.calc = EMT()
    f_ref = ref.get_forces()
    cutoff = ref.calc.rc_list  # beyond this EMT atoms do not interact
    region = SphereRegion(1.0, 2.0, atoms=[0])
    core = region.distances(atoms) < 1.0
    errors = []
    for buffer in (2.0, 4.0, 6.0, 2 * cutoff):
        atoms.calc = HybridCalculator(EMT(), _low(), SphereRegion(1.0, 2.0, atoms=[0]),
                                      buffer=buffer)
        errors.append(np.max(np.abs(atoms.get_forces()[core] - f_ref[core])))
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 1e-6, errors  # the target; EMT's range is 2 x cutoff


def test_net_force_removed_by_momentum_conservation_is_reported():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(4)
    atoms.rattle(0.1, seed=7)
    atoms.calc = HybridCalculator(EMT(), _low(), SphereRegion(2.0, 3.0, atoms=[0]), buffer=3.0,
                                  conserve_momentum=True)
    f = atoms.get_forces()
    assert np.linalg.norm(f.sum(axis=0)) < 1e-10  # removed up to rounding
    assert np.linalg.norm(atoms.calc.step_info["net_force_removed"]) > 1e-3  # and it was not 0


def test_step_info_reports_the_time_split_and_the_cluster():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(4)
    atoms.calc = HybridCalculator(EMT(), _low(), SphereRegion(2.0, 3.0, atoms=[0]), buffer=3.0)
    atoms.get_forces()
    info = atoms.calc.step_info
    assert info["t_high"] > 0 and info["t_low"] > 0
    assert info["n_core"] == 1 and info["n_weighted"] == 13  # the atom and its 12 neighbours
    assert info["n_atoms"] > info["n_cluster"] > info["n_weighted"]


def test_hydrogen_caps_sit_on_cut_bonds_and_pass_their_force_on_exactly():
    # a chain of C atoms: cutting out the middle breaks two C-C bonds
    chain = Atoms("C6", positions=[[1.5 * i, 0, 0] for i in range(6)])
    # LJ with its minimum at the 1.5 A bond: a gentle, different low level
    low = LennardJones(epsilon=0.1, sigma=1.5 / 2 ** (1 / 6), rc=4.0, ro=3.0, smooth=True)
    chain.calc = HybridCalculator(EMT(), low, IndexRegion([2, 3]), buffer=0.0,
                                  hydrogen_caps=True, mode="energy")
    forces = chain.get_forces()
    cluster = chain.calc.cluster.atoms
    assert cluster.get_chemical_symbols() == ["C", "C", "H", "H"]
    h = 1e-5  # energy mode with caps is still an exact gradient
    pos = chain.positions.copy()
    pos[1, 0] += h
    chain.positions = pos
    ep = chain.get_potential_energy()
    pos[1, 0] -= 2 * h
    chain.positions = pos
    em = chain.get_potential_energy()
    assert abs(-(ep - em) / (2 * h) - forces[1, 0]) < 1e-5  # central difference, O(h^2)


def test_bad_input_gives_clear_errors():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(4)
    with pytest.raises(InputError, match="r_inner"):
        SphereRegion(3.0, 2.0, atoms=[0])  # radii in the wrong order
    with pytest.raises(InputError, match="narrower than the switching shell"):
        HybridCalculator(EMT(), _low(), SphereRegion(1.0, 3.0, atoms=[0]), buffer=1.0)
    with pytest.raises(InputError, match="empty"):
        IndexRegion([])
    atoms.calc = HybridCalculator(EMT(), _low(), SphereRegion(0.5, 1.0, centre=[1.0, 0.9, 0.9]),
                                  buffer=2.0)
    with pytest.raises(InputError, match="selects no atoms"):
        atoms.get_forces()  # no atom within 1 A of that point
    with pytest.raises(InputError, match="mode"):
        HybridCalculator(EMT(), _low(), [0], mode="mixed")
