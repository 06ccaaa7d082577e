"""Energy-gap sampling for Marcus theory: MD on one diabatic state, the vertical gap to the other.

``sample_energy_gap(atoms, reactant, product, state="reactant", ...)`` runs
Langevin dynamics at ``temperature_K`` on the ``state`` calculator and records
dE = E_product - E_reactant (eV) every ``interval`` steps. Two runs, one per
state, feed :func:`atomistic.reactions.marcus.reorganisation_energy`.

The integrator is BAOAB (Leimkuhler & Matthews, Appl. Math. Res. Express
2013): its configurational distribution has the smallest time-step error of
the common Langevin splittings and is exact for harmonic systems at any
stable step, which is what the gap statistics (means and variances of a
configurational quantity) need. The centre of mass is left free: the
diabatic states are external wells, and fixing it would remove degrees of
freedom and bias the gap variance. ``FixAtoms`` constraints are honoured
(fixed atoms get no force and no velocity).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import InputError
from ..structures import checks_atoms


@checks_atoms()
def sample_energy_gap(atoms, reactant, product, *, state: str = "reactant",
                      temperature_K: float = 300.0, n_samples: int = 2000, interval: int = 10,
                      timestep_fs: float = 1.0, equilibrate: int = 1000, friction: float = 0.02,
                      seed: int = 0, progress: Callable[[str], None] | None = None) -> np.ndarray:
    """(n_samples,) energy gaps E_product - E_reactant (eV) along Langevin MD in ``state``.

    Args:
        atoms: starting structure (copied; its calculator is ignored).
        reactant, product: ASE calculators of the two diabatic states.
        state: "reactant" or "product": which one drives the dynamics.
        temperature_K: thermostat temperature (K).
        n_samples, interval: samples, and MD steps between them.
        timestep_fs: MD time step (fs); friction: Langevin friction gamma (1/fs).
        equilibrate: steps discarded before the first sample.
        seed: random seed (initial velocities and noise).
    """
    from ase import units

    if state not in ("reactant", "product"):
        raise InputError(f"state = {state!r}; expected 'reactant' or 'product'")
    if n_samples < 1 or interval < 1 or equilibrate < 0:
        raise InputError(f"n_samples = {n_samples}, interval = {interval}, equilibrate = "
                         f"{equilibrate}; expected >= 1, >= 1, >= 0")
    if temperature_K <= 0 or timestep_fs <= 0 or friction <= 0:
        raise InputError(f"temperature_K = {temperature_K}, timestep_fs = {timestep_fs}, "
                         f"friction = {friction}; expected all > 0")
    a = atoms.copy()
    a.calc = reactant if state == "reactant" else product
    probe = a.copy()
    probe.set_constraint()
    probe.calc = product if state == "reactant" else reactant
    rng = np.random.default_rng(seed)
    m = a.get_masses()[:, None]
    kT = units.kB * temperature_K
    dt = timestep_fs * units.fs
    c1 = np.exp(-friction / units.fs * dt)
    noise = np.sqrt((1.0 - c1 ** 2) * kT / m)
    free = np.ones((len(a), 1))
    for c in a.constraints:
        idx = getattr(c, "index", None)
        if idx is not None:
            free[np.asarray(idx)] = 0.0
    x = a.get_positions()
    v = rng.normal(size=x.shape) * np.sqrt(kT / m) * free
    f = a.get_forces() * free
    say = progress or (lambda _m: None)

    def steps(n):
        nonlocal x, v, f
        for _ in range(n):
            v += 0.5 * dt * f / m                                    # B
            x += 0.5 * dt * v                                        # A
            v = c1 * v + noise * rng.normal(size=v.shape) * free     # O
            x += 0.5 * dt * v                                        # A
            a.set_positions(x, apply_constraint=False)
            f = a.get_forces() * free
            v += 0.5 * dt * f / m                                    # B

    say(f"equilibrating in the {state} state ({equilibrate} steps)")
    steps(equilibrate)
    gaps = np.empty(n_samples)
    sign = 1.0 if state == "reactant" else -1.0
    for k in range(n_samples):
        steps(interval)
        probe.set_positions(x, apply_constraint=False)
        gaps[k] = sign * (probe.get_potential_energy() - a.get_potential_energy())
        if progress is not None and (k + 1) % max(1, n_samples // 10) == 0:
            say(f"{state}: {k + 1}/{n_samples} samples")
    return gaps
