"""Production MD that survives a kill: one ``.npz`` holds the recorded trajectory and the
state to continue it.

``run_production(atoms, calc, path, steps=...)`` integrates NVT (Bussi's stochastic
velocity rescaling by default: a global thermostat that leaves diffusion and other
dynamics nearly untouched; Langevin on request) and records, every
``record_every`` steps, the unwrapped positions (ASE's integrators never wrap, so
the positions are the unwrapped ones diffusion needs), the potential energy per
atom, the kinetic temperature, the committee's ``max_force_dev`` and the predicted atomic
charges when the calculator gives them. Every ``checkpoint_every`` steps the whole
record plus positions, momenta and the thermostat's random stream are written
atomically to ``path``. Run the same call again after a kill and it continues from
there; the continued trajectory is the one an uninterrupted run makes, as long as
the calculator is a pure function of the positions. A file made with other
settings is refused by name rather than silently extended.

The trust guard (``trust_limit``, eV/A): a committee whose ``max_force_dev`` stays above
it for ``trust_patience`` recorded frames in a row has left what its training data
covers (DP-GEN's trust_hi); the run saves what it has and raises ``UntrustedDynamics``
naming the time, instead of producing a trajectory no one should analyse. Label such
frames and retrain (active learning), then run again. A recorded frame beyond
``FAR_BEYOND`` x ``trust_limit`` stops the run at once: a 196-atom NaCl(aq) run went from
4 to 130 eV/A and 3.5e7 K within 25 fs, well inside the patience window.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foundation.files import atomic_path

from ..errors import InputError
from ..structures import check_atoms
from .guards import BlowUpGuard, MDBlowUp
from .velocities import check_temperature, thermalize

THERMOSTATS = ("bussi", "langevin")


#: a recorded max_force_dev beyond this many times trust_limit stops a run at once
FAR_BEYOND = 5.0


class UntrustedDynamics(MDBlowUp):
    """The committee's disagreement stayed above the trust limit: the run left its training data."""


@dataclass
class Production:
    """A recorded run (ASE units: A, fs, eV, e). ``charges`` is None without predicted charges."""
    time_fs: np.ndarray
    positions: np.ndarray          # (frames, atoms, 3), unwrapped
    potential_energy: np.ndarray   # eV per atom
    temperature_K: np.ndarray
    max_force_dev: np.ndarray      # NaN where the calculator gives none
    charges: np.ndarray | None     # (frames, atoms)
    symbols: list
    cell: np.ndarray
    settings: dict
    steps_done: int
    wall_s: float

    @property
    def frame_dt_fs(self) -> float:
        return float(self.settings["timestep_fs"] * self.settings["record_every"])

    def com_free_positions(self) -> np.ndarray:
        """``positions`` (frames, atoms, 3) relative to each frame's centre of mass: what
        diffusion is measured on when a Langevin start leaves the whole system drifting."""
        from ase.data import atomic_masses, atomic_numbers

        m = np.array([atomic_masses[atomic_numbers[s]] for s in self.symbols])
        com = (self.positions * m[None, :, None]).sum(axis=1) / m.sum()
        return self.positions - com[:, None, :]

    def frames(self, every: int = 1) -> list:
        """Every ``every``-th recorded frame as ``ase.Atoms``, wrapped into the cell."""
        from ase import Atoms

        out = []
        for x in self.positions[::every]:
            a = Atoms(self.symbols, positions=x, cell=self.cell, pbc=True)
            a.wrap()
            out.append(a)
        return out

    def first(self, ps: float) -> "Production":
        """The frames within the run's first ``ps`` picoseconds (its start included), for
        comparing runs of different lengths like for like; the rest is as recorded."""
        import dataclasses

        keep = self.time_fs - self.time_fs[0] <= ps * 1000 + 1e-6
        return dataclasses.replace(
            self, time_fs=self.time_fs[keep], positions=self.positions[keep],
            potential_energy=self.potential_energy[keep],
            temperature_K=self.temperature_K[keep], max_force_dev=self.max_force_dev[keep],
            charges=None if self.charges is None else self.charges[keep])


def _load(path: Path):
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        arr = {k: z[k] for k in z.files if k != "meta"}
    return meta, arr


def read_production(path) -> Production:
    """The run recorded in ``path`` (finished or not)."""
    path = Path(path)
    try:
        meta, arr = _load(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such production file") from None
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: not a readable production file ({exc})") from None
    return Production(time_fs=arr["time_fs"], positions=arr["positions"],
                      potential_energy=arr["epot"], temperature_K=arr["temp"],
                      max_force_dev=arr["dev"], charges=arr.get("charges"),
                      symbols=meta["symbols"], cell=arr["cell"], settings=meta["settings"],
                      steps_done=int(meta["steps_done"]), wall_s=float(meta["wall_s"]))


def run_production(atoms, calc, path, *, steps: int, timestep_fs: float, temperature_K: float,
                   thermostat: str = "bussi", taut_fs: float = 100.0, friction: float = 0.01,
                   record_every: int = 10, checkpoint_every: int = 500, seed: int = 0,
                   max_temperature_K: float | None = None, trust_limit: float | None = None,
                   trust_patience: int = 10, progress=None) -> Production:
    """Run (or continue) ``steps`` NVT steps of ``atoms`` with ``calc``; the record is in ``path``.

    progress: None, or a callable taking (steps_done, steps) after every checkpoint.
    trust_limit, trust_patience: the trust guard (module doc); None: off.
    friction: Langevin friction (1/fs); taut_fs: the Bussi relaxation time (fs).
    ``atoms`` ends at the last step. Returns ``read_production(path)``.
    """
    from ase import units

    path = Path(path)
    thermostat = thermostat.lower()
    if thermostat not in THERMOSTATS:
        raise InputError(f"thermostat: {thermostat!r}; expected one of {THERMOSTATS}")
    if steps < 1 or record_every < 1 or checkpoint_every < 1:
        raise InputError(f"steps, record_every, checkpoint_every: {steps}, {record_every}, "
                         f"{checkpoint_every}; expected >= 1")
    if checkpoint_every % record_every:
        raise InputError(f"checkpoint_every: {checkpoint_every}; expected a multiple of "
                         f"record_every ({record_every})")
    if not (np.isfinite(timestep_fs) and 0 < timestep_fs <= 10):
        raise InputError(f"timestep_fs: {timestep_fs}; expected 0 < dt <= 10 fs")
    temperature_K = check_temperature(temperature_K, zero=False)
    check_atoms(atoms, "atoms")
    settings = {"timestep_fs": float(timestep_fs), "temperature_K": float(temperature_K),
                "thermostat": thermostat, "taut_fs": float(taut_fs), "friction": float(friction),
                "record_every": int(record_every), "seed": int(seed)}
    symbols = atoms.get_chemical_symbols()
    rng = np.random.default_rng(seed)
    rec = {"time_fs": [], "positions": [], "epot": [], "temp": [], "dev": [], "charges": []}
    done, wall = 0, 0.0
    if path.exists():
        meta, arr = _load(path)
        if meta["settings"] != settings or meta["symbols"] != symbols:
            raise InputError(f"{path}: holds a run of other settings or atoms "
                             f"({meta['settings']}); remove it or choose another path")
        atoms.set_positions(arr["state_positions"])
        atoms.set_momenta(arr["state_momenta"])
        atoms.set_cell(arr["cell"])
        rng.bit_generator.state = meta["rng"]
        done, wall = int(meta["steps_done"]), float(meta["wall_s"])
        rec = {k: list(arr[k]) for k in ("time_fs", "positions", "epot", "temp", "dev")}
        rec["charges"] = list(arr["charges"]) if "charges" in arr else []
    atoms.calc = calc
    if done == 0 and not np.any(atoms.get_momenta()):
        thermalize(atoms, temperature_K, rng=rng)
    dt = timestep_fs * units.fs
    if thermostat == "bussi":
        from ase.md.bussi import Bussi
        dyn = Bussi(atoms, dt, temperature_K=temperature_K, taut=taut_fs * units.fs, rng=rng)
    else:
        from ase.md.langevin import Langevin
        dyn = Langevin(atoms, dt, temperature_K=temperature_K, friction=friction / units.fs,
                       fixcm=False, rng=rng)
    dyn.nsteps = done
    guard = BlowUpGuard(timestep_fs, max_temperature_K or 3 * temperature_K + 500.0, None)
    if trust_limit is not None and not (np.isfinite(trust_limit) and trust_limit > 0):
        raise InputError(f"trust_limit: {trust_limit}; expected a positive eV/A or None")

    def record():
        epot, _, temp = guard.check(atoms, dyn.nsteps)
        res = atoms.calc.results
        rec["time_fs"].append(dyn.nsteps * timestep_fs)
        rec["positions"].append(atoms.get_positions())
        rec["epot"].append(epot)
        rec["temp"].append(temp)
        rec["dev"].append(float(res.get("max_force_dev", np.nan)))
        if "charges" in res:
            rec["charges"].append(np.asarray(res["charges"], dtype=float))

    def save():
        arrays = {k: np.asarray(v, dtype=float) for k, v in rec.items() if k != "charges"}
        if rec["charges"]:
            arrays["charges"] = np.asarray(rec["charges"])
        meta = {"settings": settings, "symbols": symbols, "steps_done": done, "wall_s": wall,
                "rng": rng.bit_generator.state}
        with atomic_path(path) as tmp:
            np.savez(tmp, meta=json.dumps(meta), cell=atoms.cell.array,
                     state_positions=atoms.get_positions(), state_momenta=atoms.get_momenta(),
                     **arrays)

    def untrusted() -> str:
        """Why the run left its data ("" while it has not)."""
        if trust_limit is None:
            return ""
        dev = np.asarray(rec["dev"][-trust_patience:])
        if len(dev) == trust_patience and bool(np.all(dev > trust_limit)):
            return f"above {trust_limit} eV/A for {trust_patience} recorded frames in a row"
        if dev[-1] > FAR_BEYOND * trust_limit:
            return f"above {FAR_BEYOND:g} x {trust_limit} eV/A at once"
        return ""

    if not rec["time_fs"]:      # a resumed file already holds its first frame
        record()
        save()
    while done < steps:
        t0 = time.perf_counter()
        for _ in range(min(checkpoint_every, steps - done) // record_every or 1):
            n = min(record_every, steps - done)
            dyn.run(n)
            done += n
            if done % record_every == 0:
                record()
                why = untrusted()
                if why:
                    wall += time.perf_counter() - t0
                    save()
                    raise UntrustedDynamics(
                        f"step {done} ({done * timestep_fs / 1000:.3g} ps): max_force_dev {why} "
                        f"(last {rec['dev'][-1]:.3g} eV/A): the committee has left its training "
                        f"data; label these frames and retrain before trusting this run")
        wall += time.perf_counter() - t0
        save()
        if progress is not None:
            progress(done, steps)
    return read_production(path)
