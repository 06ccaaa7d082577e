"""GPAW as the high level: a tiny hybrid MD run, and an SCF failure reported with the step
number and the cluster on disk."""
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.md.verlet import VelocityVerlet
from ase import units

from couplers import HybridCalculator
from couplers.errors import ConvergenceError
from couplers.regions import SphereRegion

gpaw = pytest.importorskip("gpaw")


def _gpaw(**kw):
    # the smallest sensible LCAO setup: single-zeta basis, coarse grid, Fermi smearing
    return gpaw.GPAW(mode="lcao", basis="sz(dzp)", h=0.3, xc="LDA", txt=None,
                     occupations={"name": "fermi-dirac", "width": 0.1}, **kw)


def _system():
    atoms = bulk("Al", "fcc", a=4.05, cubic=True).repeat(3)
    atoms.rattle(0.05, seed=8)
    return atoms


@pytest.mark.slow
def test_gpaw_high_level_runs_md_on_a_small_cluster():
    atoms = _system()
    # one Al atom at full weight, its 12 neighbours (2.86 A) half-way through the shell:
    # a 13-atom cluster keeps this test to seconds
    atoms.calc = HybridCalculator(_gpaw(), EMT(), SphereRegion(2.6, 3.1, atoms=[0]),
                                  buffer=0.5, vacuum=3.0)
    dyn = VelocityVerlet(atoms, 2 * units.fs)
    dyn.run(1)
    info = atoms.calc.step_info
    assert info["step"] == 1 and info["n_cluster"] == 13
    assert info["t_high"] > info["t_low"]  # DFT on the cluster dominates a 108-atom EMT sum
    assert np.all(np.isfinite(atoms.get_forces()))


def test_scf_failure_names_the_step_and_writes_the_cluster(tmp_path):
    atoms = _system()
    atoms.calc = HybridCalculator(_gpaw(maxiter=2), EMT(), SphereRegion(0.5, 1.0, atoms=[0]),
                                  buffer=1.0, vacuum=3.0, failure_dir=tmp_path)
    with pytest.raises(ConvergenceError, match="step 0") as err:
        atoms.get_forces()
    written = tmp_path / "qmml_failed_cluster_step0.xyz"
    assert written.exists() and str(written) in str(err.value)
