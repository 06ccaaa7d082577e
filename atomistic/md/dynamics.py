"""Guarded molecular dynamics with any ASE calculator (learned potentials above all).

- ``stable_timestep(atoms, calc)``: the largest safe time step (fs) from the
  highest vibrational frequency omega_max of a finite-difference Hessian
  (6N force calls) on a sample frame. Verlet is unstable above
  dt = 2 / omega_max = T_min / pi; we return ``fraction`` of the shortest
  period T_min = 2 pi / omega_max (default T_min / 10, the usual accuracy
  rule, a factor pi inside the stability limit).
- ``run_md(atoms, calc, ensemble=...)``: Velocity Verlet (NVE), Langevin or
  Nose-Hoover-chain NVT, checked every ``check_every`` steps. NaN/inf
  energies or forces, an NVE total-energy drift beyond ``max_drift_eV_per_atom``,
  or a kinetic temperature above ``max_temperature_K`` raise ``MDBlowUp``
  naming the step, instead of integrating silent NaNs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import CalculationFailed, InputError


def thermalize(atoms, temperature_K: float, rng=None) -> None:
    """Maxwell-Boltzmann momenta at ``temperature_K``: ASE's ``thermalize_momenta``
    (ASE >= 3.29, which deprecates ``MaxwellBoltzmannDistribution``, the same draw)."""
    from ase.md import velocitydistribution as vd

    if hasattr(vd, "thermalize_momenta"):
        vd.thermalize_momenta(atoms, temperature_K, rng=rng)
    else:  # ASE 3.25-3.28
        vd.MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=rng)


class MDBlowUp(CalculationFailed):
    """The dynamics left physical territory (NaN, runaway energy or temperature)."""


def highest_frequency(atoms, calc, delta: float = 0.01) -> float:
    """omega_max (rad/fs) from a central-difference, mass-weighted Hessian of ``atoms``.

    The Hessian is :func:`atomistic.md.timestep.frequencies`' (one implementation
    for the MD guard and the time-step workflow).
    """
    from .timestep import frequencies

    omega = frequencies(atoms, calc, delta)
    if not np.all(np.isfinite(omega)):
        raise MDBlowUp("stable_timestep: the Hessian has non-finite entries")
    return float(max(omega.max(), 0.0))


def stable_timestep(atoms, calc, fraction: float = 0.1, delta: float = 0.01) -> float:
    """A safe time step in fs: ``fraction`` of the shortest vibrational period."""
    if not 0 < fraction <= 1 / np.pi:
        raise InputError(f"fraction: {fraction}: expected 0 < fraction <= 1/pi "
                         "(Verlet is unstable beyond T_min/pi)")
    omega = highest_frequency(atoms, calc, delta)
    if omega <= 0:
        raise InputError("atoms: no positive vibrational frequency; cannot bound the time step")
    return fraction * 2 * np.pi / omega


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
        dyn = Langevin(atoms, dt, temperature_K=temperature_K, friction=friction,
                       fixcm=False, rng=np.random.default_rng(seed))
    else:
        from ase.md.nose_hoover_chain import NoseHooverChainNVT
        dyn = NoseHooverChainNVT(atoms, dt, temperature_K=temperature_K,
                                 tdamp=tdamp_fs * units.fs)
    if trajectory:
        from ase.io import Trajectory
        dyn.attach(Trajectory(trajectory, "w", atoms), interval=check_every)
    t_max = max_temperature_K or 10 * temperature_K + 1000.0
    n = len(atoms)
    result = MDResult()

    def check():
        epot = atoms.get_potential_energy()
        ekin = atoms.get_kinetic_energy()
        temp = atoms.get_temperature()
        step = dyn.nsteps
        if not (np.isfinite(epot) and np.isfinite(ekin) and np.all(np.isfinite(atoms.positions))
                and np.all(np.isfinite(atoms.get_forces()))):
            raise MDBlowUp(f"step {step}: non-finite energy, forces or positions "
                           f"(time step {timestep_fs:.3g} fs; try a smaller one)")
        result.time_fs.append(step * timestep_fs)
        result.potential_energy.append(epot / n)
        result.total_energy.append((epot + ekin) / n)
        result.temperature_K.append(temp)
        if ensemble == "nve" and abs(result.total_energy[-1] - result.total_energy[0]) > \
                max_drift_eV_per_atom:
            raise MDBlowUp(f"step {step}: total energy drifted by "
                           f"{result.total_energy[-1] - result.total_energy[0]:+.4g} eV/atom "
                           f"(bound {max_drift_eV_per_atom} eV/atom; time step "
                           f"{timestep_fs:.3g} fs)")
        if temp > t_max:
            raise MDBlowUp(f"step {step}: temperature {temp:.4g} K exceeds {t_max:.4g} K "
                           f"(time step {timestep_fs:.3g} fs)")

    check()
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"MD ({ensemble})", total=steps)
        done = 0
        while done < steps:
            chunk = min(check_every, steps - done)
            with np.errstate(all="ignore"):
                dyn.run(chunk)
            done += chunk
            check()
            bar.update(task, completed=done)
    return result
