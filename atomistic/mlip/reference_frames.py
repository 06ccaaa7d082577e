"""Reference structures for training and testing potentials, generated in code.

- ``rattled_fcc``: fcc supercells with Gaussian displacements and small random
  strains (the stress and compression directions MD alone rarely visits).
- ``langevin_frames``: snapshots of Langevin MD at a temperature, labelled by
  the same calculator that drives the dynamics.

All frames come back labelled (SinglePointCalculator: energy eV, forces
eV/Angstrom, stress eV/Angstrom^3) with ``info`` saying how they were made.
"""
from __future__ import annotations

import numpy as np
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator

from ..structures import check_labels, checks_atoms


def _label(atoms, calc, **info):
    atoms.calc = calc
    res = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces(),
           "stress": atoms.get_stress()}
    atoms.calc = SinglePointCalculator(atoms, **res)
    atoms.info.update(info)
    return check_labels(atoms, f"{info.get('source', 'frame')} frame {info.get('index', '')}".strip())


def rattled_fcc(symbol: str, calc, n_frames: int, size=(2, 2, 2), rattle: float = 0.08,
                strain: float = 0.02, a: float | None = None, seed: int = 0) -> list:
    """``n_frames`` rattled (std ``rattle`` Angstrom), strained (std ``strain``) fcc cells."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n_frames):
        atoms = bulk(symbol, "fcc", a=a, cubic=True).repeat(size)
        eps = rng.normal(0.0, strain, (3, 3))
        eps = 0.5 * (eps + eps.T)
        atoms.set_cell(atoms.cell.array @ (np.eye(3) + eps), scale_atoms=True)
        atoms.positions += rng.normal(0.0, rattle, atoms.positions.shape)
        frames.append(_label(atoms, calc, source="rattled_fcc", index=k))
    return frames


@checks_atoms()
def langevin_frames(atoms, calc, temperature_K: float, n_frames: int, interval: int = 20,
                    timestep_fs: float = 2.0, equilibrate: int = 100, friction: float = 0.02,
                    seed: int = 0) -> list:
    """Snapshots every ``interval`` steps of Langevin MD after ``equilibrate`` steps.

    ``friction`` is in ASE's own unit, 1/(ASE time) = 1/(10.18 fs), as ASE's Langevin
    takes it (0.02 is about 0.002/fs), unlike the 1/fs of ``run_md`` and the active
    learning walkers: benchmarks draw their frozen held-out sets with this function, and
    converting would change every one of them."""
    from ase import units
    from ase.md.langevin import Langevin
    from ..md.velocities import check_temperature, thermalize

    temperature_K = check_temperature(temperature_K, zero=False)   # Langevin needs T > 0
    atoms = atoms.copy()
    atoms.calc = calc
    rng = np.random.default_rng(seed)
    thermalize(atoms, temperature_K, rng=rng)
    dyn = Langevin(atoms, timestep_fs * units.fs, temperature_K=temperature_K,
                   friction=friction, fixcm=False, rng=rng)
    dyn.run(equilibrate)
    frames = []
    for k in range(n_frames):
        dyn.run(interval)
        snap = atoms.copy()
        frames.append(_label(snap, calc, source="langevin", temperature_K=float(temperature_K),
                             index=k))
    return frames
