"""Surface charge, potential drop and profiles of a periodic metal | electrolyte cell follow
Gauss's law under the constant-E condition of a tin-foil periodic cell."""
import numpy as np
import pytest

from atomistic.analysis.electrode_cell import analyse_electrode_cell, film_coordinates
from atomistic.analysis.profiles import E_CHARGE, EPS0
from atomistic.errors import InputError

A = 1e-10
LZ = 30.0            # A, the period along z
SIDE = 10.0          # A, a square cell: area 100 A^2
LAYERS = (0.0, 2.0)  # the slab: two layers of 4 metal atoms at these heights (A)


def cell_frames(n_frames=10, extra=(), seed=0, jitter=0.0):
    """A two-layer slab and ``extra`` (symbol, z, charge) atoms, as (positions, charges,
    symbols, cell); metal charges are 0 unless an extra entry says 'Cu'."""
    rng = np.random.default_rng(seed)
    sym, pos, q = [], [], []
    for z in LAYERS:
        for ix in range(2):
            for iy in range(2):
                sym.append("Cu"), pos.append([5 * ix, 5 * iy, z]), q.append(0.0)
    for s, z, c in extra:
        sym.append(s), pos.append([rng.uniform(0, SIDE), rng.uniform(0, SIDE), z]), q.append(c)
    pos = np.repeat(np.array(pos)[None], n_frames, axis=0)
    pos += jitter * rng.normal(size=pos.shape) * np.array([1, 1, 0])
    cell = np.diag([SIDE, SIDE, LZ])
    return pos, np.repeat(np.array(q)[None], n_frames, axis=0), sym, cell


def test_an_applied_field_alone_charges_the_electrodes_by_eps0_E():
    e0 = 0.1   # V/A
    pos, q, sym, cell = cell_frames(extra=[("O", 10.0, 0.0), ("H", 20.0, 0.0)])
    r = analyse_electrode_cell(pos, q, sym, cell, metal="Cu", layer_size=4, field_V_per_A=e0)
    film = LZ - LAYERS[1]
    assert r.film_thickness == pytest.approx(film * A, rel=1e-12)   # exact geometry
    assert r.lower.sigma == pytest.approx(EPS0 * e0 / A, rel=1e-12)  # sigma = eps0 E, exactly
    assert r.upper.sigma == pytest.approx(-EPS0 * e0 / A, rel=1e-12)
    # phi falls along the field: the lower electrode sits E0 L_f / 2 above the middle
    assert r.lower.delta_phi == pytest.approx(e0 * film / 2, rel=1e-12)   # exact
    assert r.upper.delta_phi == pytest.approx(-e0 * film / 2, rel=1e-12)


def test_a_charged_sheet_pair_splits_the_field_in_inverse_proportion_to_the_lengths():
    # +Q on the metal's top layer, -Q on a sheet d above it, no applied field: in a periodic
    # cell held at zero mean field, E inside the pair is (Q / eps0 A)(1 - d / L_z).
    qa, d = 0.5, 3.0
    pos, q, sym, cell = cell_frames(extra=[("Cl", LAYERS[1] + d, -qa * 4)])
    q[:, 4:8] = qa                                   # the top layer carries +4 qa
    r = analyse_electrode_cell(pos, q, sym, cell, metal="Cu", layer_size=4)
    big_q = 4 * qa * E_CHARGE
    area = SIDE * SIDE * A * A
    e_in = big_q / (EPS0 * area) * (1 - d / LZ)
    e_out = -big_q / (EPS0 * area) * d / LZ
    assert r.lower.sigma == pytest.approx(EPS0 * e_in, rel=1e-12)   # Gauss, closed form
    assert r.upper.sigma == pytest.approx(-EPS0 * e_out, rel=1e-12)  # the film is -Q
    film = LZ - LAYERS[1]
    expected = (e_in * d + e_out * (film / 2 - d)) * A
    assert r.lower.delta_phi == pytest.approx(expected, rel=1e-9)   # exact for point charges


def test_profiles_count_every_film_atom_once_at_its_distance_from_the_nearer_surface():
    film = LZ - LAYERS[1]
    extra = [("O", LAYERS[1] + 3.1, 0.0), ("O", LAYERS[1] + film - 4.1, 0.0),
             ("Na", LAYERS[1] + 6.1, 1.0), ("Cl", LAYERS[1] + film - 6.1, -1.0)]
    pos, q, sym, cell = cell_frames(extra=extra, jitter=0.3)
    r = analyse_electrode_cell(pos, q, sym, cell, metal="Cu", layer_size=4, bin_A=0.2)
    vol = SIDE * SIDE * 0.2 * A ** 3
    for side, x_o, ion in (("lower", 3.1, "Na"), ("upper", 4.1, "Cl")):
        s = r.side(side)
        k = int(np.argmin(np.abs(s.x / A - x_o)))
        assert s.density["O"].values[k] * vol == pytest.approx(1.0)   # one O in that bin, always
        assert s.density["O"].values.sum() * vol == pytest.approx(1.0)
        assert s.density[ion].values.sum() * vol == pytest.approx(1.0)
        assert s.free_charge.values.sum() * vol / E_CHARGE == pytest.approx(
            1.0 if ion == "Na" else -1.0)
        assert np.all(s.bound_charge.values == 0)


def test_film_coordinates_put_the_metal_beyond_the_film_even_when_the_slab_moved():
    pos, q, sym, cell = cell_frames(n_frames=3, extra=[("O", 12.0, 0.0)])
    pos[:, :, 2] += np.array([0.0, 31.0, -29.5])[:, None]      # unwrapped drift of everything
    u, film = film_coordinates(pos, sym, cell, metal="Cu", layer_size=4)
    assert np.allclose(film, LZ - LAYERS[1])
    assert np.allclose(u[:, -1], 12.0 - LAYERS[1])
    assert np.allclose(u[:, 4:8], LZ)                           # top layer: the film's far side


def test_bad_input_is_named():
    pos, q, sym, cell = cell_frames(extra=[("O", 12.0, 0.0)])
    with pytest.raises(InputError, match="layer_size"):
        analyse_electrode_cell(pos, q, sym, cell, metal="Cu", layer_size=3)
    with pytest.raises(InputError, match="no 'Pt'"):
        analyse_electrode_cell(pos, q, sym, cell, metal="Pt", layer_size=4)
    with pytest.raises(InputError, match="charges"):
        analyse_electrode_cell(pos, q[:, :3], sym, cell, metal="Cu", layer_size=4)
    tilted = cell.copy()
    tilted[2, 0] = 1.0
    with pytest.raises(InputError, match="third vector"):
        analyse_electrode_cell(pos, q, sym, tilted, metal="Cu", layer_size=4)


def test_a_bin_no_atom_visited_is_empty_only_to_one_count_in_the_run():
    pos, q, sym, cell = cell_frames(n_frames=20, extra=[("Na", 12.0, 1.0), ("Cl", 20.0, -1.0)])
    r = analyse_electrode_cell(pos, q, sym, cell, metal="Cu", layer_size=4, bin_A=0.5)
    vol = SIDE * SIDE * 0.5 * A ** 3
    empty = r.lower.density["Na"].values == 0
    assert empty.sum() > 10
    assert np.allclose(r.lower.density["Na"].stderr[empty], 1 / (20 * vol))   # the resolution
