"""A per-step record of hybrid (QM/ML) MD: weights, forces, energies and the time split, and its plot.

``HybridTrace(calc, atoms)`` is attached to an ASE dynamics object
(``dyn.attach(trace.record)``, or called by hand after each step). It follows a few
atoms that start in the switching shell (or the ones given), so the plot shows their
weights moving between 0 and 1 as they cross it. ``trace.plot(path)`` writes the
three-panel figure (weights, |F|, energy vs time); ``trace.summary()`` gives the
numbers a report needs. ``trace.state()`` / ``trace.load_state()`` give and take the
record as plain arrays, so a checkpointed run continues the same record.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
from ase import Atoms, units

__all__ = ["HybridTrace"]


class HybridTrace:
    """Record of a HybridCalculator MD run.

    Parameters
    ----------
    calc: the ``couplers.HybridCalculator`` driving ``atoms``.
    atoms: the system.
    dynamics: optional ASE dynamics; its ``get_time()`` gives the time axis (else steps).
    follow: atom indices to plot; default: up to ``n_follow`` atoms in the shell at the
        first record (else the lowest-weight atoms of the cluster).
    """

    def __init__(self, calc, atoms: Atoms, dynamics=None, follow: Sequence[int] | None = None,
                 n_follow: int = 6):
        self.calc = calc
        self.atoms = atoms
        self.dynamics = dynamics
        self.follow = None if follow is None else np.asarray(follow, dtype=int)
        self.n_follow = int(n_follow)
        self.time_fs: list[float] = []
        self.weights: list[np.ndarray] = []  # (n_follow,) per record
        self.force_norms: list[np.ndarray] = []  # eV/A, (n_follow,)
        self.epot: list[float] = []  # eV, the calculator's energy
        self.ekin: list[float] = []  # eV
        self.weighted: list[float] = []  # eV, sum_i w_i e_i^high + (1 - w_i) e_i^low (force mode)
        self.t_high: list[float] = []  # s per step
        self.t_low: list[float] = []

    def record(self) -> None:
        """Append the current state (computes forces if needed)."""
        forces = self.atoms.get_forces()
        w = self.calc.weights
        if self.follow is None:
            shell = np.flatnonzero((w > 0) & (w < 1))
            if len(shell) == 0:
                shell = np.argsort(np.where(w > 0, w, np.inf))
            self.follow = shell[:self.n_follow]
        info = self.calc.step_info
        self.time_fs.append(self.dynamics.get_time() / units.fs if self.dynamics is not None
                            else float(len(self.time_fs)))
        self.weights.append(w[self.follow].copy())
        self.force_norms.append(np.linalg.norm(forces[self.follow], axis=1))
        self.epot.append(float(self.atoms.get_potential_energy()))
        self.ekin.append(float(self.atoms.get_kinetic_energy()))
        self.weighted.append(float(info.get("weighted_energy", np.nan)))
        self.t_high.append(float(info["t_high"]))
        self.t_low.append(float(info["t_low"]))

    _SERIES = ("time_fs", "weights", "force_norms", "epot", "ekin", "weighted", "t_high", "t_low")

    def state(self) -> dict[str, np.ndarray]:
        """The record so far as float64 arrays (``np.savez``-able, exact) plus ``follow``."""
        n_follow = 0 if self.follow is None else len(self.follow)
        out = {k: np.asarray(getattr(self, k), dtype=float) for k in self._SERIES}
        for k in ("weights", "force_norms"):
            out[k] = out[k].reshape(len(self.time_fs), n_follow)
        out["follow"] = np.asarray([] if self.follow is None else self.follow, dtype=int)
        return out

    def load_state(self, state: dict) -> None:
        """Continue from ``state()`` output: the records so far and the atoms followed."""
        follow = np.asarray(state["follow"], dtype=int)
        self.follow = follow if len(state["time_fs"]) else None
        for k in self._SERIES:
            rows = np.asarray(state[k], dtype=float)
            setattr(self, k, [r.copy() for r in rows] if rows.ndim == 2
                    else [float(v) for v in rows])

    def summary(self) -> dict:
        """Drift (eV/ps, least-squares slope) of E_kin + E, spread (eV), mean time split (s)."""
        t = np.asarray(self.time_fs) / 1000.0
        etot = np.asarray(self.epot) + np.asarray(self.ekin)
        out = {"steps": len(t) - 1, "etot_spread_eV": float(np.ptp(etot)) if len(t) else 0.0,
               "etot_drift_eV_per_ps": float(np.polyfit(t, etot, 1)[0]) if len(t) > 2 else 0.0,
               "t_high_s": float(np.mean(self.t_high)) if self.t_high else 0.0,
               "t_low_s": float(np.mean(self.t_low)) if self.t_low else 0.0}
        ew = np.asarray(self.weighted) + np.asarray(self.ekin)
        if len(t) > 2 and np.all(np.isfinite(ew)):
            out["weighted_drift_eV_per_ps"] = float(np.polyfit(t, ew, 1)[0])
        return out

    def plot(self, path: str | os.PathLike, title: str = "") -> Path:
        """Write the weights / |F| / energy-vs-time figure to ``path`` (PNG, atomically)."""
        from matplotlib.figure import Figure

        from foundation.files import save_figure

        path = Path(path)
        t = np.asarray(self.time_fs)
        fig = Figure(figsize=(6, 8))
        ax = fig.subplots(3, 1, sharex=True)
        ax[0].plot(t, np.array(self.weights))
        ax[0].set_ylabel("weight w (followed atoms)")
        ax[0].set_ylim(-0.05, 1.05)
        ax[1].plot(t, np.array(self.force_norms))
        ax[1].set_ylabel("|F| followed atoms (eV/Å)")
        etot = np.asarray(self.epot) + np.asarray(self.ekin)
        ax[2].plot(t, etot - etot[0], label="E_kin + E")
        ax[2].plot(t, np.asarray(self.epot) - self.epot[0], label="E")
        ew = np.asarray(self.weighted) + np.asarray(self.ekin)
        if np.all(np.isfinite(ew)):
            ax[2].plot(t, ew - ew[0], label="E_kin + E_w (force mode)")
        ax[2].set_ylabel("energy change (eV)")
        ax[2].set_xlabel("time (fs)")
        ax[2].legend(fontsize=8)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        return save_figure(fig, path, dpi=100)
