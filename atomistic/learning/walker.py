"""One Langevin walker of the active-learning loop, and how it is saved in ``state.json``.

A ``Walker`` holds its atoms (positions and momenta), the thermostat's RNG
state, its step counter, its last trusted state (the snapshot it rolls back
to) and its rollback count; ``to_json`` / ``Walker(index, data)`` round-trip
it exactly, so a resumed run continues the same trajectory.
"""
from __future__ import annotations

import numpy as np

from ..md.velocities import thermalize
from .settings import ActiveLearningSettings


def _atoms_to_json(atoms) -> dict:
    return {"numbers": atoms.numbers.tolist(), "positions": atoms.positions.tolist(),
            "momenta": atoms.get_momenta().tolist(), "cell": atoms.cell.array.tolist(),
            "pbc": [bool(p) for p in atoms.pbc]}


def _atoms_from_json(d: dict):
    from ase import Atoms

    atoms = Atoms(numbers=d["numbers"], positions=d["positions"], cell=d["cell"], pbc=d["pbc"])
    atoms.set_momenta(np.asarray(d["momenta"]))
    return atoms


class Walker:
    """One Langevin trajectory: its atoms, thermostat RNG, step counter and trusted state."""

    def __init__(self, index: int, data: dict):
        self.index = index
        self.atoms = _atoms_from_json(data["atoms"])
        self.trusted = data["trusted"]
        self.step = int(data["step"])
        self.rollbacks = int(data["rollbacks"])
        self.skip_until = int(data["skip_until"])
        self.stopped = bool(data.get("stopped", False))
        self.rng = np.random.default_rng()
        self.rng.bit_generator.state = data["rng"]
        self.dyn = None

    @classmethod
    def new(cls, index: int, atoms, temperature_K: float, seed: int, step: int = 0):
        """A thermalised walker; ``step`` > 0 for one that joins a running campaign."""
        atoms = atoms.copy()
        rng = np.random.default_rng([seed, index])
        thermalize(atoms, temperature_K, rng=rng)
        snap = _atoms_to_json(atoms)
        return cls(index, {"atoms": snap, "trusted": snap, "step": step, "rollbacks": 0,
                           "skip_until": step, "rng": rng.bit_generator.state})

    def to_json(self) -> dict:
        return {"atoms": _atoms_to_json(self.atoms), "trusted": self.trusted, "step": self.step,
                "rollbacks": self.rollbacks, "skip_until": self.skip_until,
                "stopped": self.stopped, "rng": self.rng.bit_generator.state}

    def attach(self, calc, s: ActiveLearningSettings, temperature_K: float) -> None:
        from ase import units
        from ase.md.langevin import Langevin

        self.atoms.calc = calc
        self.dyn = Langevin(self.atoms, s.timestep_fs * units.fs, temperature_K=temperature_K,
                            friction=s.friction / units.fs, fixcm=False,
                            rng=self.rng)

    def advance(self, temperature_K: float) -> float:
        """One MD step at ``temperature_K``; returns the new frame's max_force_dev (eV/A)."""
        self.dyn.set_temperature(temperature_K=temperature_K)
        with np.errstate(all="ignore"):
            self.dyn.step()
        self.step += 1
        dev = float(self.atoms.calc.results["max_force_dev"])
        return dev if np.isfinite(dev) else float("inf")

    def trust_here(self) -> None:
        self.trusted = _atoms_to_json(self.atoms)

    def roll_back(self, temperature_K: float, count: bool = True) -> None:
        """Back to the trusted state with fresh velocities; ``count``: toward max_rollbacks."""
        calc = self.atoms.calc
        back = _atoms_from_json(self.trusted)
        self.atoms.positions[:] = back.positions
        thermalize(self.atoms, temperature_K, rng=self.rng)
        self.atoms.calc = calc
        self.rollbacks += int(count)

    def trusts_start(self, start) -> bool:
        """Whether the trusted state is still the starting structure ``start`` (no step has
        been trusted since, so every rollback so far went back there)."""
        return np.array_equal(np.asarray(self.trusted["positions"]), start.positions)

    @property
    def frame_id(self) -> str:
        """The name of the current frame: walker and step."""
        return f"w{self.index}-s{self.step}"

    def frame(self, dev: float):
        """A copy of the current frame, named for this walker and step."""
        atoms = self.atoms.copy()
        atoms.calc = None
        atoms.info.update(al_id=self.frame_id, al_walker=self.index,
                          al_step=self.step, al_dev=float(dev))
        return atoms

