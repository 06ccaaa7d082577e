"""g(r): normalisation, coordination, error bars and the two-sample test on exactly sampled crystals.

Frames are drawn independently (Gaussian thermal displacements about fcc sites),
so blocks are independent by construction and the test's null distribution is exact.
"""
import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from atomistic.errors import InputError
from atomistic.analysis.rdf import compare_rdf, rdf

A = 4.05


def frames(n, sigma, seed, cubic=True):
    rng = np.random.default_rng(seed)
    base = bulk("Al", "fcc", a=A, cubic=cubic).repeat(2)
    out = []
    for _ in range(n):
        a = base.copy()
        a.positions += rng.normal(0, sigma, a.positions.shape)
        out.append(a)
    return out


def test_fcc_first_shell_holds_twelve_neighbours():
    g = rdf(frames(20, 0.1, 0), r_max=4.0, n_bins=80)
    n, err, r_cut = g.coordination()
    # exactly 12 first neighbours per atom; thermal smearing of 0.1 A cannot reach the 2nd shell at 4.05 A
    assert n == pytest.approx(12.0, abs=0.05)
    assert A / np.sqrt(2) < r_cut < A
    assert abs(g.block_correlation) < 0.5  # independent frames: block means uncorrelated


def test_ideal_gas_g_is_one_in_a_skewed_cell():
    rng = np.random.default_rng(3)
    cell = [[8, 0, 0], [3, 7, 0], [1, 2, 9]]  # triclinic: the neighbour list, not minimum image, counts pairs
    fr = [Atoms("Ar60", positions=rng.random((60, 3)) @ np.array(cell), cell=cell, pbc=True) for _ in range(60)]
    g = rdf(fr, r_max=5.0, n_bins=10)
    z = (g.g - 1) / g.g_err
    # ideal gas: g = 1 in every bin; 10 bins of ~N(0,1) z-scores rarely exceed 4
    assert np.all(np.abs(z) < 4)


def test_same_system_not_rejected_more_often_than_alpha():
    p = [compare_rdf(rdf(frames(20, 0.15, 2 * i), 4.0, 40), rdf(frames(20, 0.15, 2 * i + 1), 4.0, 40)).p_value
         for i in range(30)]
    # 30 repeats at alpha = 0.05: P(>= 6 rejections) ~ 0.008 for a calibrated test
    assert np.sum(np.array(p) < 0.05) <= 5


def test_different_temperature_is_detected():
    c = compare_rdf(rdf(frames(20, 0.12, 1), 4.0, 40), rdf(frames(20, 0.15, 2), 4.0, 40))
    assert c.p_value < 1e-3  # a 25 % wider first peak with 20 x 32 atoms is a gross difference


def test_too_few_frames_is_an_input_error():
    with pytest.raises(InputError, match="too few"):
        rdf(frames(4, 0.1, 0), 4.0, n_blocks=10)


def test_mismatched_species_is_an_input_error():
    a = rdf(frames(10, 0.1, 0), 4.0, 40)
    cu = [f.copy() for f in frames(10, 0.1, 1)]
    for f in cu:
        f.symbols = "Cu32"
    with pytest.raises(InputError, match="species"):
        compare_rdf(a, rdf(cu, 4.0, 40))


def test_non_periodic_is_an_input_error():
    fr = frames(10, 0.1, 0)
    for f in fr:
        f.pbc = False
    with pytest.raises(InputError, match="periodic"):
        rdf(fr, 4.0)
