"""Guarded molecular dynamics with any ASE calculator (learned potentials above all).

``run_md(atoms, calc, ensemble=...)``: Velocity Verlet (NVE), Langevin or
Nose-Hoover-chain NVT, checked every ``check_every`` steps by a
``BlowUpGuard`` (``atomistic.md.guards``): NaN/inf energies or forces, an NVE
total-energy drift beyond ``max_drift_eV_per_atom``, or a kinetic temperature
above ``max_temperature_K`` raise ``MDBlowUp`` naming the step, instead of
integrating silent NaNs. Without a time step it takes
``atomistic.md.timestep.stable_timestep`` (T_min / 10 from the highest
vibrational frequency).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..structures import StructureError, check_atoms
from .guards import BlowUpGuard, MDBlowUp
from .timestep import stable_timestep
from .velocities import check_temperature, thermalize


@dataclass
class MDResult:
    """Energies per check (eV), temperatures (K) and times (fs) of a run."""
    time_fs: list = field(default_factory=list)
    potential_energy: list = field(default_factory=list)
    total_energy: list = field(default_factory=list)
    temperature_K: list = field(default_factory=list)

    @property
    def drift_eV_per_atom(self) -> float:
        e = np.asarray(self.total_energy)
        return float(np.max(np.abs(e - e[0]))) if len(e) else 0.0


def run_md(atoms, calc, steps: int, timestep_fs: float | None = None,
           ensemble: str = "nve", temperature_K: float = 300.0, friction: float = 0.01,
           tdamp_fs: float = 100.0, check_every: int = 10, max_drift_eV_per_atom: float = 0.05,
           max_temperature_K: float | None = None, trajectory: str | None = None,
           seed: int = 0, progress: bool = True) -> MDResult:
    """Integrate ``steps`` steps in place on ``atoms``; returns an ``MDResult``.

    Args:
        timestep_fs: time step; default ``stable_timestep(atoms, calc)`` (capped at 5 fs).
        ensemble: "nve" (Velocity Verlet), "langevin" or "nvt" (Nose-Hoover chain).
        temperature_K: target temperature for the thermostats (and initial velocities
            when ``atoms`` has none).
        friction: Langevin friction (1/fs; 0.01 = a 100 fs velocity relaxation time).
        max_drift_eV_per_atom: NVE only: |E_tot - E_tot(0)| / N allowed before MDBlowUp.
        max_temperature_K: blow-up bound on the kinetic temperature
            (default 10 x temperature_K + 1000 K).
    """
    from ase import units
    from rich.progress import Progress

    ensemble = ensemble.lower()
    if ensemble not in ("nve", "langevin", "nvt"):
        raise InputError(f"ensemble: {ensemble!r}: expected 'nve', 'langevin' or 'nvt'")
    if steps < 0 or check_every < 1:
        raise InputError(f"steps, check_every: {steps}, {check_every}: expected >= 0 and >= 1")
    temperature_K = check_temperature(temperature_K, zero=ensemble == "nve")  # a thermostat needs T > 0
    if timestep_fs is not None and not (np.isfinite(timestep_fs) and timestep_fs > 0):
        raise InputError(f"timestep_fs = {timestep_fs!r}: expected a finite time step > 0 fs")
    check_atoms(atoms, "atoms")   # finite, no overlapping atoms: a blow-up would be the input's fault
    atoms.calc = calc
    if timestep_fs is None:
        timestep_fs = min(stable_timestep(atoms, calc), 5.0)
    if not np.any(atoms.get_momenta()):
        thermalize(atoms, temperature_K, rng=np.random.default_rng(seed))
    dt = timestep_fs * units.fs
    if ensemble == "nve":
        from ase.md.verlet import VelocityVerlet
        dyn = VelocityVerlet(atoms, dt)
    elif ensemble == "langevin":
        from ase.md.langevin import Langevin
        dyn = Langevin(atoms, dt, temperature_K=temperature_K, friction=friction / units.fs,
                       fixcm=False, rng=np.random.default_rng(seed))
    else:
        from ase.md.nose_hoover_chain import NoseHooverChainNVT
        dyn = NoseHooverChainNVT(atoms, dt, temperature_K=temperature_K,
                                 tdamp=tdamp_fs * units.fs)
    if trajectory:
        from ase.io import Trajectory
        dyn.attach(Trajectory(trajectory, "w", atoms), interval=check_every)
    guard = BlowUpGuard(timestep_fs, max_temperature_K or 10 * temperature_K + 1000.0,
                        max_drift_eV_per_atom if ensemble == "nve" else None)
    result = MDResult()

    def check():
        epot, etot, temp = guard.check(atoms, dyn.nsteps)
        result.time_fs.append(dyn.nsteps * timestep_fs)
        result.potential_energy.append(epot)
        result.total_energy.append(etot)
        result.temperature_K.append(temp)

    check()
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"MD ({ensemble})", total=steps)
        done = 0
        while done < steps:
            chunk = min(check_every, steps - done)
            try:
                with np.errstate(all="ignore"):
                    dyn.run(chunk)
                done += chunk
                check()
            except StructureError as exc:   # the input was checked: NaN positions now are a blow-up
                raise MDBlowUp(f"step {dyn.nsteps}: the dynamics produced impossible positions "
                               f"({exc}; time step {timestep_fs:.3g} fs; try a smaller one)") from None
            bar.update(task, completed=done)
    return result
