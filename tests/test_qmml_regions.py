"""Regions: minimum image in triclinic cells, hysteresis, restart-safe membership."""
import json

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones

from couplers import HybridCalculator
from couplers.errors import InputError
from couplers.regions import FunctionRegion, IndexRegion, SphereRegion


def _low():
    # Lennard-Jones fitted to Cu (Halicioglu & Pound): deliberately not EMT
    return LennardJones(epsilon=0.4093, sigma=2.338, rc=5.5, ro=4.5, smooth=True)


def _sheared(atoms):
    """The same periodic crystal described by a triclinic cell (a2 -> a2 + a1, a3 -> a3 + a1)."""
    tri = atoms.copy()
    c = atoms.cell.array
    tri.set_cell([c[0], c[1] + c[0], c[2] + c[0]], scale_atoms=False)
    tri.wrap()
    return tri


def test_sphere_distances_in_a_triclinic_cell_match_a_brute_force_image_search():
    atoms = bulk("Cu", "fcc", a=3.61).repeat((5, 5, 5))  # primitive fcc: a triclinic cell
    atoms.rattle(0.1, seed=0)
    centre = atoms.cell.array.sum(axis=0) * 0.97  # near a corner, where wrapping matters
    d = SphereRegion(1.0, 2.0, centre=centre).distances(atoms)
    shifts = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)])
    images = atoms.positions[:, None, :] + (shifts @ atoms.cell.array)[None]
    brute = np.linalg.norm(images - centre, axis=2).min(axis=1)
    assert np.max(np.abs(d - brute)) < 1e-12  # the same numbers, rounding only


def test_hybrid_forces_do_not_depend_on_whether_the_cell_is_orthorhombic_or_triclinic():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(7)  # sheared: plane spacing 14.6 A
    atoms.rattle(0.05, seed=1)
    tri = _sheared(atoms)
    forces = []
    for system in (atoms, tri):
        system.calc = HybridCalculator(EMT(), _low(), SphereRegion(2.0, 3.0, atoms=[0]),
                                       buffer=4.0)
        forces.append(system.get_forces())
    # same crystal, same cluster: forces agree to rounding of the EMT sums (~1e-10)
    assert np.max(np.abs(forces[0] - forces[1])) < 1e-8


def test_cluster_that_would_meet_its_own_periodic_image_is_rejected():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    atoms.calc = HybridCalculator(EMT(), _low(), SphereRegion(1.0, 2.0, atoms=[0]), buffer=6.0)
    with pytest.raises(InputError, match="periodic image"):
        atoms.get_forces()


def test_hysteresis_stops_an_atom_on_the_cluster_edge_from_flickering():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(4)
    region_edge = 2.0 + 3.0  # r_outer + buffer
    counts = {}
    for hysteresis in (0.0, 0.2):
        region = SphereRegion(1.0, 2.0, centre=atoms.positions[0], hysteresis=hysteresis)
        moving = 1 + int(np.argmin(np.abs(region.distances(atoms)[1:] - region_edge)))
        a = atoms.copy()
        direction = a.positions[moving] - a.positions[0]
        direction /= np.linalg.norm(direction)
        base = a.positions[0] + direction * region_edge
        changes = 0
        for k in range(20):  # the atom oscillates +-0.05 A across the edge
            a.positions[moving] = base + direction * 0.05 * (-1) ** k
            d = region.distances(a)
            before = None if region.members is None else region.members.copy()
            now = region.update_members(d, 3.0, step=k)
            changes += before is not None and not np.array_equal(before, now)
        counts[hysteresis] = changes
    assert counts[0.0] == 19  # flips every step without hysteresis
    assert counts[0.2] == 1  # enters once (step 1), never leaves within the 0.2 A band


def test_region_state_round_trips_through_atoms_info_and_a_sidecar(tmp_path):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(4)
    atoms.rattle(0.05, seed=2)
    sidecar = tmp_path / "qmml_state.json"

    def calc():
        return HybridCalculator(EMT(), _low(), SphereRegion(1.5, 2.5, atoms=[5], hysteresis=0.3),
                                buffer=3.0, state_file=sidecar)

    atoms.calc = calc()
    for _ in range(3):
        atoms.positions += 0.01
        atoms.get_forces()
    saved = json.loads(atoms.info["qmml_state"])
    assert saved == json.loads(sidecar.read_text())
    assert saved["step"] == 3
    resumed = calc()  # reads the sidecar at construction
    assert resumed.step == 3
    assert resumed.region.members.tolist() == saved["region"]["members"]
    other = calc()
    other.load_state(atoms.info["qmml_state"])  # or from a trajectory frame's info
    assert other.region.members.tolist() == saved["region"]["members"]


def test_index_and_function_regions_weight_the_chosen_atoms():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(3)
    sw = HybridCalculator(EMT(), _low(), [3, 7]).switch
    w = IndexRegion([3, 7]).weights(atoms, sw)
    assert set(np.flatnonzero(w == 1.0)) == {3, 7} and np.sum(w) == 2.0
    z = FunctionRegion(lambda a: np.abs(a.positions[:, 2] - 5.4), 0.5, 1.5)  # a slab
    w = z.weights(atoms, sw)
    assert np.all(w[np.abs(atoms.positions[:, 2] - 5.4) < 0.5] == 1.0)
    assert np.all(w[np.abs(atoms.positions[:, 2] - 5.4) > 1.5] == 0.0)


def test_grid_aligned_cluster_keeps_every_atom_at_the_same_place_relative_to_the_grid():
    from couplers.qmml_cluster import cut_cluster
    from couplers.regions import mic_vectors

    h = 0.2
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(4)
    atoms.rattle(0.05, seed=2)
    idx = np.flatnonzero(SphereRegion(2.0, 3.0, atoms=[0]).distances(atoms) < 4.0)
    for centre in (atoms.positions[0], atoms.positions[0] + [0.37, -0.21, 0.13]):
        cl = cut_cluster(atoms, idx, centre, vacuum=3.0, grid_spacing=h)
        # the cluster's unwrapped (minimum-image) positions, moved by whole spacings only
        unwrapped = centre + mic_vectors(atoms.positions[idx] - centre, atoms)
        shift = cl.atoms.positions[:len(idx)] - unwrapped
        # whole grid spacings only (rounding of float sums: 1e-9 A)
        assert np.allclose(shift / h, np.round(shift / h), atol=1e-9)
        cells = cl.atoms.cell.lengths() / (4 * h)
        assert np.allclose(cells, np.round(cells), atol=1e-9)  # a box of 4k spacings
        assert cl.atoms.positions.min() >= 3.0 - 1e-9  # at least the requested vacuum


def test_a_cluster_around_an_ion_in_water_cuts_whole_water_molecules():
    from ase.calculators.lj import LennardJones

    from atomistic.interface.electrolyte_cells import water_box
    from couplers import HybridCalculator
    from couplers.qmml_cluster import whole_molecules
    from couplers.regions import IndexRegion

    atoms = water_box(64, ("Na", "Cl"), seed=5)
    na = int(np.flatnonzero(atoms.symbols == "Na")[0])
    lj = lambda: LennardJones(epsilon=0.01, sigma=2.0, rc=4.0)      # noqa: E731  (any cheap level)
    for whole in (False, True):
        atoms.calc = HybridCalculator(lj(), lj(), IndexRegion([na], r_inner=2.0, r_outer=2.8), buffer=1.0,
                                      whole_molecules=whole)
        atoms.get_forces()
        cl = atoms.calc.cluster
        syms = atoms.symbols[cl.indices]
        n_o, n_h = int(np.sum(syms == "O")), int(np.sum(syms == "H"))
        if whole:
            # every O of the cluster brings both of its H and no H comes without its O
            assert n_h == 2 * n_o and n_o > 0
            assert np.array_equal(whole_molecules(atoms, cl.indices), cl.indices)   # closed
        else:
            assert n_h != 2 * n_o          # a distance cut of 3.8 A breaks molecules here
