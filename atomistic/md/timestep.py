"""The MD time step, from the highest vibrational frequency: the one time-step API.

Velocity Verlet on a harmonic mode of angular frequency omega is stable for
omega * dt < 2 and unstable above (the amplification matrix has
|trace| = |2 - (omega dt)^2| > 2). ``estimate_timestep(atoms, calc)`` finds
omega_max from the mass-weighted Hessian of ``atoms`` (finite differences of
forces; for a committee, the largest over members), and returns the Verlet
bound dt_crit = 2 / omega_max and a recommended dt = T_min / 10 =
2 pi / (10 omega_max), far enough below the bound that energy is conserved
well. ``nve_drift`` checks a step size by a short NVE run.
``stable_timestep(atoms, calc)`` is the quick guard ``run_md`` uses when it is
given no step: ``fraction`` (default 1/10) of the shortest period of
``atoms`` as given, with the calculator itself (no repeat, no committee).
Both read the same Hessian (``hessian`` / ``frequencies``).

Units: time in fs, frequencies in THz (cycles per ps), omega in rad/fs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase import units

from ..ensemble import members_of
from ..errors import InputError
from ..structures import checks_atoms
from .guards import MDBlowUp
from .velocities import thermalize


@checks_atoms()
def hessian(atoms: Atoms, calc, delta: float = 0.005) -> np.ndarray:
    """Hessian d2E/dx_i dx_j (eV/A^2), shape (3N, 3N), by central differences of forces (delta in A)."""
    a = atoms.copy()
    a.calc = calc
    n = len(a)
    H = np.zeros((3 * n, 3 * n))
    x0 = a.positions.copy()
    for i in range(n):
        for c in range(3):
            fs = []
            for s in (1, -1):
                x = x0.copy()
                x[i, c] += s * delta
                a.positions = x
                fs.append(a.get_forces().ravel())
            H[3 * i + c] = -(fs[0] - fs[1]) / (2 * delta)
    a.positions = x0
    return 0.5 * (H + H.T)


@checks_atoms()
def frequencies(atoms: Atoms, calc, delta: float = 0.005) -> np.ndarray:
    """Normal-mode angular frequencies omega (rad/fs), ascending, shape (3N,); imaginary modes negative."""
    H = hessian(atoms, calc, delta)
    m = np.repeat(atoms.get_masses(), 3)
    w2 = np.linalg.eigvalsh(H / np.sqrt(np.outer(m, m)))  # eV/(A^2 amu)
    w = np.sign(w2) * np.sqrt(np.abs(w2))  # in sqrt(eV/amu)/A = 1/ASE-time
    return w * units.fs  # rad per fs


@checks_atoms()
def highest_frequency(atoms: Atoms, calc, delta: float = 0.01) -> float:
    """omega_max (rad/fs) of ``atoms`` with ``calc``; ``MDBlowUp`` when the Hessian is not finite."""
    omega = frequencies(atoms, calc, delta)
    if not np.all(np.isfinite(omega)):
        raise MDBlowUp("stable_timestep: the Hessian has non-finite entries")
    return float(max(omega.max(), 0.0))


@checks_atoms()
def stable_timestep(atoms: Atoms, calc, fraction: float = 0.1, delta: float = 0.01) -> float:
    """A safe time step in fs: ``fraction`` of the shortest vibrational period of ``atoms``.

    Verlet is unstable above dt = 2 / omega_max = T_min / pi, so ``fraction``
    must be at most 1/pi; the default T_min / 10 is the usual accuracy rule.
    Cost: 6N force calls.
    """
    if not 0 < fraction <= 1 / np.pi:
        raise InputError(f"fraction: {fraction}: expected 0 < fraction <= 1/pi "
                         "(Verlet is unstable beyond T_min/pi)")
    omega = highest_frequency(atoms, calc, delta)
    if omega <= 0:
        raise InputError("atoms: no positive vibrational frequency; cannot bound the time step")
    return fraction * 2 * np.pi / omega


@dataclass
class TimestepEstimate:
    """omega_max (rad/fs), f_max (THz), dt_crit = 2/omega_max (fs, the Verlet bound),
    dt_recommended = 1/(10 f_max) (fs), per-member omega_max (committee) or None."""

    omega_max: float
    f_max: float
    dt_crit: float
    dt_recommended: float
    member_omega_max: list[float] | None = None

    def to_dict(self) -> dict:
        return {"omega_max_rad_per_fs": self.omega_max, "f_max_THz": self.f_max, "dt_crit_fs": self.dt_crit,
                "dt_recommended_fs": self.dt_recommended, "member_omega_max": self.member_omega_max}


def from_omega(omega_max: float, member_omega_max=None) -> TimestepEstimate:
    """Time-step bounds for a highest angular frequency omega_max (rad/fs)."""
    if omega_max <= 0:
        raise InputError(f"omega_max = {omega_max}: no positive vibrational frequency; the structure has no "
                         "restoring forces (is it relaxed and bound?)")
    f = omega_max / (2 * np.pi) * 1000  # cycles/fs -> THz
    return TimestepEstimate(omega_max=float(omega_max), f_max=float(f), dt_crit=float(2 / omega_max),
                            dt_recommended=float(2 * np.pi / omega_max / 10),
                            member_omega_max=member_omega_max)


def enlarged(atoms: Atoms, min_atoms: int) -> Atoms:
    """A periodic cell repeated isotropically until it holds at least min_atoms atoms (short waves matter)."""
    if not all(atoms.pbc) or len(atoms) >= min_atoms:
        return atoms
    n = int(np.ceil((min_atoms / len(atoms)) ** (1 / 3)))
    return atoms.repeat((n, n, n))


@checks_atoms()
def estimate_timestep(atoms: Atoms, calc, delta: float = 0.005, repeat=None, min_atoms: int = 32
                      ) -> TimestepEstimate:
    """Largest stable and recommended velocity-Verlet step for ``atoms`` with ``calc``.

    The Hessian is that of ``atoms`` itself (its normal modes are the phonons
    commensurate with the cell); pass ``repeat=(n, n, n)`` to sample shorter
    wavelengths in a small periodic cell; a periodic cell with fewer than
    ``min_atoms`` atoms is repeated up to that size automatically. Cost: 6N force calls per calculator.
    A committee uses the largest omega over its members (the most stiff member
    limits the step).
    """
    if repeat is not None:
        atoms = atoms.repeat(repeat)
    atoms = enlarged(atoms, min_atoms)
    members = members_of(calc)
    if members:
        per = [float(frequencies(atoms, m, delta).max()) for m in members]
        return from_omega(max(per), per)
    return from_omega(float(frequencies(atoms, calc, delta).max()))


def verlet_amplitude(omega_dt: float, n_steps: int = 1000) -> float:
    """Max |x| over ``n_steps`` of velocity Verlet on x'' = -omega^2 x from x=1, v=0 (units: omega=1)."""
    x, v, dt = 1.0, 0.0, omega_dt
    a = -x
    peak = 1.0
    for _ in range(n_steps):
        v += 0.5 * dt * a
        x += dt * v
        a = -x
        v += 0.5 * dt * a
        peak = max(peak, abs(x))
        if peak > 1e12:
            break
    return peak


@checks_atoms()
def nve_drift(atoms: Atoms, calc, dt: float, temperature: float = 300.0, n_steps: int = 500, seed: int = 0,
              min_atoms: int = 32) -> dict:
    """Energy conservation at step dt (fs): NVE velocity Verlet from Maxwell-Boltzmann velocities.

    Returns 'drift' (eV/atom/ps, slope of total energy), 'fluctuation'
    (std of total energy, eV/atom) and 'energies' (eV/atom per step). Periodic
    cells smaller than ``min_atoms`` are repeated (one atom has no thermal motion
    once its momentum is removed).
    """
    from ase.md.velocitydistribution import Stationary
    from ase.md.verlet import VelocityVerlet

    a = enlarged(atoms, min_atoms).copy()
    a.calc = calc
    thermalize(a, 2 * temperature, rng=np.random.default_rng(seed))
    Stationary(a)
    md = VelocityVerlet(a, timestep=dt * units.fs)
    e = []
    md.attach(lambda: e.append(a.get_total_energy() / len(a)), interval=1)
    md.run(n_steps)
    e = np.array(e)
    t = np.arange(len(e)) * dt / 1000
    finite = np.all(np.isfinite(e))
    slope = float(np.polyfit(t, e, 1)[0]) if finite else float("inf")
    return {"drift": slope, "fluctuation": float(np.std(e)) if finite else float("inf"), "energies": e}
