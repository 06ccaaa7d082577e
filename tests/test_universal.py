"""The universal potential (CHGNet, weights inside its wheel) loads offline and holds water together."""
import numpy as np
import pytest
from ase.build import molecule

from atomistic.universal import universal_calculator


def _water(oh_A):
    atoms = molecule("H2O")
    o, h = atoms.positions[0], atoms.positions[1]
    atoms.positions[1] = o + (h - o) / np.linalg.norm(h - o) * oh_A
    atoms.set_cell([10.0, 10.0, 10.0])
    atoms.center()
    atoms.pbc = True
    return atoms


@pytest.mark.parametrize("oh_A, sign", [(1.10, -1), (0.85, +1)])
def test_a_stretched_or_compressed_oh_bond_is_pushed_back(oh_A, sign):
    atoms = _water(oh_A)
    atoms.calc = universal_calculator()
    f = atoms.get_forces()
    bond = atoms.positions[1] - atoms.positions[0]
    along = float(f[1] @ bond / np.linalg.norm(bond))
    # water's O-H is 0.96-0.97 A; 0.13 A off it the restoring force is several eV/A
    # (harmonic k ~ 45 eV/A^2), far above any model noise: demand > 1 eV/A
    assert sign * along > 1.0, along


def test_unknown_model_is_refused_by_name():
    from atomistic.errors import InputError

    with pytest.raises(InputError, match="chgnet-0.3.0"):
        universal_calculator("mace-mp-0")
