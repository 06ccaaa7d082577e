"""Guarded MD: a sensible time step from the Hessian, a clear error when dynamics blow up."""
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones

from atomistic.md.dynamics import run_md
from atomistic.md.guards import MDBlowUp
from atomistic.md.timestep import highest_frequency, stable_timestep


def _cu():
    atoms = bulk("Cu", "fcc", a=3.6)  # 1-atom primitive cell: 3N = 3 Hessian rows
    return atoms.repeat((2, 2, 2))


def test_stable_timestep_matches_the_copper_phonon_maximum():
    omega = highest_frequency(_cu(), EMT())
    thz = omega / (2 * np.pi) * 1000  # rad/fs -> THz
    # EMT Cu's top phonon (~7-9 THz, experiment 7.3); a 2x2x2 cell samples few q points
    assert 5.0 < thz < 10.0
    dt = stable_timestep(_cu(), EMT())
    assert 8.0 < dt < 25.0  # T_min/10 for 5-10 THz


def test_nve_with_the_stable_step_conserves_energy():
    atoms = _cu().repeat((2, 1, 1))
    res = run_md(atoms, EMT(), steps=100, timestep_fs=2.0, temperature_K=300, progress=False)
    # EMT Cu at 300 K, 2 fs (T_min/30): drift well below 1 meV/atom
    assert res.drift_eV_per_atom < 1e-3


def test_a_blow_up_is_a_clear_error_not_silent_nans():
    atoms = bulk("Ar", "fcc", a=3.0).repeat((2, 2, 2))  # LJ argon squeezed 15%
    with pytest.raises(MDBlowUp, match="step"):
        run_md(atoms, LennardJones(sigma=3.4, epsilon=0.0104, rc=8.0), steps=400,
               timestep_fs=40.0, temperature_K=300, progress=False)


def test_thermostatted_runs_hold_their_temperature():
    atoms = _cu().repeat((2, 2, 1))
    res = run_md(atoms, EMT(), steps=200, timestep_fs=4.0, ensemble="langevin",
                 friction=0.05, temperature_K=500, progress=False)
    # 32 atoms: instantaneous T fluctuates ~ T sqrt(2/3N) ~ 25%; average of the last half
    assert 300 < np.mean(res.temperature_K[len(res.temperature_K) // 2:]) < 750
