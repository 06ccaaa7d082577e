"""The NaCl/Cu campaign's appended starting cells are what their scripts say they are.

The campaign reads the committed files (data/nacl_cu/learn.toml); the scripts that made
them must still make them, with the geometry their docstrings promise.
"""
import sys
from pathlib import Path

import numpy as np
import pytest
from ase.io import read

DATA = Path(__file__).resolve().parents[1] / "data" / "nacl_cu"
sys.path.insert(0, str(DATA))

import make_contact_starts  # noqa: E402
import make_pair_starts  # noqa: E402


def _same(made, path):
    stored = read(path, index=":")
    assert len(made) == len(stored)
    for a, b in zip(made, stored):
        assert a.get_chemical_symbols() == b.get_chemical_symbols()
        # extxyz stores 8 decimals
        assert np.allclose(a.positions, b.positions, atol=1e-6)
        assert a.info["start_label"] == b.info["start_label"]


def test_committed_contact_pair_starts_are_the_scripts_output():
    _same(make_pair_starts.pair_starts(), DATA / "start_pairs.extxyz")


def test_committed_ion_at_metal_starts_are_the_scripts_output():
    _same(make_contact_starts.contact_starts(), DATA / "start_contact.extxyz")


def test_a_contact_pair_sits_in_the_first_shell_with_no_water_inside_it():
    for atoms in make_pair_starts.pair_starts():
        sym = np.array(atoms.get_chemical_symbols())
        na, cl = np.flatnonzero(sym == "Na")[0], np.flatnonzero(sym == "Cl")[0]
        d = atoms.get_all_distances(mic=True)
        # the pair at the stated distance, inside the Na-Cl g(r)'s first minimum (~3.5 A)
        assert d[na, cl] == pytest.approx(make_pair_starts.PAIR_A, abs=1e-9)
        assert make_pair_starts.PAIR_A < 3.5
        # no water atom closer to the moved Cl- than the 2.2 A clearance the script keeps
        water = np.flatnonzero(np.isin(sym, ["O", "H"]))
        assert d[cl, water].min() >= 2.2
        # whole waters only: O, H, H triples
        assert (sym == "H").sum() == 2 * (sym == "O").sum()
