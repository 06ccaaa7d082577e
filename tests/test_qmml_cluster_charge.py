"""The high-level cluster carries the net charge of the ions it holds: Na+ with its water
shell is a cation (+1 e), and it turns neutral when a Cl- joins it. GPAW is told, so its
electron count follows the cluster's composition."""
import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule
from ase.calculators.lj import LennardJones

from couplers import HybridCalculator
from couplers.errors import InputError
from couplers.qmml_cluster import formal_charge
from couplers.regions import IndexRegion


def _na_water(n_water=2, with_cl_at=None):
    """Na+ with n waters 2.4 A away (O towards Na), optionally a Cl at a distance (A)."""
    atoms = Atoms("Na", positions=[[0.0, 0.0, 0.0]])
    for k in range(n_water):
        w = molecule("H2O")
        w.rotate(180, "x")                    # H away from the cation
        direction = np.array([np.cos(k * np.pi), np.sin(k * np.pi), 0.0])
        w.translate(2.4 * direction - w.positions[0])
        atoms += w
    if with_cl_at is not None:
        atoms += Atoms("Cl", positions=[[0.0, 0.0, with_cl_at]])
    atoms.center(vacuum=4.0)
    return atoms


def test_formal_charge_counts_monatomic_ions_only():
    assert formal_charge(_na_water()) == 1
    assert formal_charge(_na_water(with_cl_at=2.8)) == 0
    assert formal_charge(Atoms("Cu4O2H4")) == 0         # metal and water: neutral


def test_the_cluster_charge_follows_the_ions_in_the_cluster():
    atoms = _na_water(with_cl_at=5.5)
    na = 0
    high = LennardJones(rc=3.0)
    calc = HybridCalculator(high, LennardJones(rc=3.0), IndexRegion([na], 2.9, 3.4),
                            buffer=0.5, cluster_charge="formal")
    atoms.calc = calc
    atoms.get_forces()
    # the Cl 5.5 A away is outside r_outer + buffer = 3.9 A: the cluster is Na+ (H2O)2
    assert calc.step_info["cluster_charge"] == 1 and high.parameters["charge"] == 1
    assert "Cl" not in calc.cluster.atoms.get_chemical_symbols()
    assert calc.cluster.atoms.info["charge"] == 1
    atoms.positions[-1] = atoms.positions[na] + [0.0, 0.0, 3.0]   # the Cl joins the cluster
    atoms.get_forces()
    assert calc.step_info["cluster_charge"] == 0 and high.parameters["charge"] == 0


def test_cluster_charge_accepts_an_integer_or_a_function_and_rejects_the_rest():
    atoms = _na_water()
    calc = HybridCalculator(LennardJones(rc=3.0), LennardJones(rc=3.0),
                            IndexRegion([0], 2.9, 3.4), buffer=0.5,
                            cluster_charge=lambda cluster: 2 * formal_charge(cluster))
    atoms.calc = calc
    atoms.get_forces()
    assert calc.step_info["cluster_charge"] == 2
    for bad in ("neutral", 0.5, True):
        with pytest.raises(InputError, match="cluster_charge"):
            HybridCalculator(LennardJones(), LennardJones(), [0], cluster_charge=bad)
    calc = HybridCalculator(LennardJones(rc=3.0), LennardJones(rc=3.0),
                            IndexRegion([0], 2.9, 3.4), buffer=0.5,
                            cluster_charge=lambda cluster: 0.5)
    atoms.calc = calc
    with pytest.raises(InputError, match="expected an integer"):
        atoms.get_forces()


@pytest.mark.slow
def test_gpaw_high_level_gets_one_electron_fewer_for_a_sodium_cation(tmp_path, capsys):
    gpaw = pytest.importorskip("gpaw")
    atoms = _na_water(n_water=1)

    def lcao(**kw):   # the smallest sensible LCAO setup: seconds for 4 atoms
        return gpaw.GPAW(**{"mode": "lcao", "basis": "sz(dzp)", "h": 0.3, "xc": "LDA",
                            "txt": None, "occupations": {"name": "fermi-dirac", "width": 0.1},
                            **kw})

    electrons = {}
    for legacy in (False, True):   # both GPAW codes are replaced by high.new(charge=...)
        for charge in (None, "formal"):
            calc = HybridCalculator(lcao(legacy_gpaw=legacy), LennardJones(rc=3.0),
                                    IndexRegion([0], 2.9, 3.4), buffer=0.5, vacuum=3.0,
                                    cluster_charge=charge)
            atoms.calc = calc
            atoms.get_forces()
            electrons[legacy, charge] = calc.high.get_number_of_electrons()
    # the replacement keeps writing its text log where the original did: a silent
    # calculator stays silent, a log file is appended to, not truncated
    log = tmp_path / "gpaw.txt"
    calc = HybridCalculator(lcao(legacy_gpaw=True, txt=str(log)), LennardJones(rc=3.0),
                            IndexRegion([0], 2.9, 3.4), buffer=0.5, vacuum=3.0,
                            cluster_charge="formal")
    atoms.calc = calc
    atoms.get_forces()
    first = log.read_text()
    atoms.positions[1] += 0.01
    atoms.get_forces()
    assert log.read_text().startswith(first) and "Total Charge: 1.0" in log.read_text()
    assert "iter:" not in capsys.readouterr().out
    # whatever Na's setup holds in valence: the cation has exactly one electron fewer
    for legacy in (False, True):
        assert electrons[legacy, "formal"] == electrons[legacy, None] - 1
