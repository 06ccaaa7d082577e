"""``BatchedMD``: many small MD walkers advanced together, one committee pass per step.

Active learning and committee MD run many small cells (~32 atoms). Run one after another
through ASE, every step of every walker pays Python/torch per-call overhead once per
committee member, and at 32 atoms that overhead, not arithmetic, is most of the time.
``BatchedMD`` puts every walker's pairs into one batch and evaluates the whole committee
on it at once (``atomistic.mlip.stacked``: shared geometry, member-stacked tensors, the
ZBL core repulsion computed once for all members; with predicted charges, one PME sum
per member on the shared descriptors).

Update scheme: ASE 3.29's integrators, line for line (same coefficients, same expression
order), on flat (atoms, 3) float64 arrays of all walkers:

- "langevin": ``ase.md.langevin.Langevin(atoms, dt, temperature_K=T,
  friction=friction / ase.units.fs, fixcm=False, rng=...)`` (Vanden-Eijnden & Ciccotti
  2006 eq. 23, ASE's ``step`` including the velocity recomputed after the drift);
- "nve": ``ase.md.verlet.VelocityVerlet(atoms, dt)``.

No constraints (refused), no wrapping into the cell (ASE does not wrap either). Forces,
energy and ``max_force_dev`` are ``CommitteeCalculator``'s: every energy head of every
model is a member (each head differentiated, as ``head_forces=True``); forces and energy
are the members' mean; ``max_force_dev`` (eV/A) is max over a walker's atoms of
sqrt(<|F_i - <F_i>|^2>).

Random numbers: walker k owns ``np.random.default_rng([seed, k])`` and draws from it what
ASE's Langevin draws each step (xi, then eta, each (n_atoms, 3)). A walker therefore
follows the trajectory ``Langevin(..., rng=np.random.default_rng([seed, k]))`` makes with
the same calculator alone, whichever walkers share its batch (to float round-off of the
batched sums: in float64 the positions agree to ~1e-15 A after 30 steps).

Units: ASE's; ``timestep_fs`` in fs, ``friction`` in 1/fs (0.01/fs = 10/ps, what ASE's
Langevin takes as ``0.01 / ase.units.fs``), temperatures in K.

Measured (bench/batched_md_probe.py; 8 walkers x 32 Cu atoms, Langevin 2 fs, a 3-member
committee of default size, float32, torch 1 thread, the machine's other core busy with a
DFT job; three runs of best-of-3): ASE Langevin + CommitteeCalculator walker by walker
2,900-3,400 atom-steps/s; BatchedMD 12,000-13,500 with neighbour lists every step
(3.9-4.6x) and 13,500-18,500 with the default 0.5 A Verlet skin (4.7-5.8x). The stacked
committee pass costs what one member's forward + backward does (11 ms vs 33-35 ms for
the three in turn).
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..structures import check_atoms
from .guards import MDBlowUp
from .velocities import check_temperature

ENSEMBLES = ("langevin", "nve")


class BatchedMD:
    """Langevin or NVE dynamics of many walkers with one committee, batched.

    Args:
        walkers: ``ase.Atoms`` (sizes, compositions and periodicity may differ; no
            constraints); momenta as they are (none: zero). Advanced in place: after
            ``run`` (and inside a callback) their positions and momenta are the current
            state, and a caller may change them between runs (a rollback, new momenta):
            ``run`` starts from what the Atoms hold.
        calc: a ``CommitteeCalculator`` (its ``models`` and ``dtype`` are used).
        timestep_fs: time step (fs).
        ensemble: "langevin" or "nve".
        temperature_K: Langevin temperature (K): one for all, or one per walker.
        friction: Langevin friction (1/fs).
        seed: walker k draws from ``np.random.default_rng([seed, k])``.
        skin: Verlet-list skin (Angstrom): a walker's neighbour list is rebuilt only when
            one of its atoms has moved skin / 2; 0 rebuilds every step. Same forces.
        rngs: one ``np.random.Generator`` per walker, used instead of ``seed`` (and
            advanced in place): a caller that keeps its walkers' generators, like the
            active-learning loop, continues their streams.
        nonfinite: "raise" (``MDBlowUp`` naming the walker) or "report": a walker whose
            forces or energy are not finite gets ``max_force_dev`` inf and zero forces, so
            the others go on and the caller can roll it back (in a callback, or between
            runs); non-finite positions always raise.

    After every step, for every walker k: ``energies[k]`` committee-mean potential
    energy (eV), ``max_force_dev[k]`` (eV/A), ``forces(k)`` (n_atoms, 3) eV/A;
    ``max_force_dev_history`` (walkers, steps) holds every step of every ``run``;
    ``forces_std(k)`` the per-atom spread behind ``max_force_dev[k]``.
    """

    def __init__(self, walkers, calc, timestep_fs: float, ensemble: str = "langevin",
                 temperature_K=300.0, friction: float = 0.01, seed: int = 0,
                 skin: float = 0.5, rngs=None, nonfinite: str = "raise"):
        walkers = list(walkers) if walkers is not None else []
        if not walkers:
            raise InputError("walkers: an empty list; expected at least one ase.Atoms")
        if not isinstance(ensemble, str) or ensemble.lower() not in ENSEMBLES:
            raise InputError(f"ensemble: {ensemble!r}; expected one of {ENSEMBLES}")
        ensemble = ensemble.lower()
        timestep_fs = _positive(timestep_fs, "timestep_fs", "a time step > 0 fs")
        if ensemble == "langevin":
            friction = _positive(friction, "friction", "a Langevin friction > 0 (1/fs)")
        skin = _positive(skin, "skin", "a Verlet skin >= 0 Angstrom", zero=True)
        if not (hasattr(calc, "models") and hasattr(calc, "dtype") and hasattr(calc, "elements")):
            raise InputError(f"calc: {type(calc).__name__}; expected a CommitteeCalculator "
                             "(atomistic.mlip.calculator)")
        if len({id(a) for a in walkers}) < len(walkers):
            raise InputError("walkers: the same Atoms object appears twice; give copies")
        for k, atoms in enumerate(walkers):
            if not hasattr(atoms, "positions") or not hasattr(atoms, "get_masses"):
                raise InputError(f"walkers[{k}]: {type(atoms).__name__}; expected ase.Atoms")
            check_atoms(atoms, f"walkers[{k}]")
            if atoms.constraints:
                raise InputError(f"walkers[{k}].constraints: {atoms.constraints}; BatchedMD "
                                 "applies no constraints; use ASE's dynamics for this walker")
            if atoms.has("momenta") and not np.all(np.isfinite(atoms.get_momenta())):
                raise InputError(f"walkers[{k}].momenta: not finite; expected finite momenta")
        self.walkers = walkers
        self.calc = calc
        self.ensemble = ensemble
        self.timestep_fs = timestep_fs
        self.friction = friction if ensemble == "langevin" else None  # 1/fs
        if nonfinite not in ("raise", "report"):
            raise InputError(f"nonfinite: {nonfinite!r}; expected 'raise' or 'report'")
        self.nonfinite = nonfinite
        self.seed = int(seed)
        if rngs is None:
            rngs = [np.random.default_rng([self.seed, k]) for k in range(len(walkers))]
        rngs = list(rngs)
        if len(rngs) != len(walkers) or not all(isinstance(r, np.random.Generator) for r in rngs):
            raise InputError(f"rngs: expected one numpy Generator per walker ({len(walkers)})")
        self.rngs = rngs
        self.nsteps = 0
        sizes = np.array([len(a) for a in walkers])
        self._offsets = np.concatenate([[0], np.cumsum(sizes)])
        self._slices = [slice(int(a), int(b))
                        for a, b in zip(self._offsets[:-1], self._offsets[1:])]
        self._masses = np.concatenate([a.get_masses() for a in walkers])[:, None]
        self._pos = self._mom = self._forces = None
        self._evaluated_at = None  # the positions the forces belong to
        self.energies = np.full(len(walkers), np.nan)
        self.max_force_dev = np.full(len(walkers), np.nan)
        self._f_std = None
        self._history: list[np.ndarray] = []
        from ase import units

        self._dt = self.timestep_fs * units.fs
        self.set_temperature(temperature_K)
        self._evaluator = _BatchEvaluator(walkers, calc, skin)

    def set_temperature(self, temperature_K) -> None:
        """The Langevin temperature (K), one for all walkers or one per walker, from the next
        step on (a ramp: call it from the callback); ASE's ``Langevin.set_temperature``."""
        from ase import units

        t = np.atleast_1d(np.asarray(temperature_K, dtype=object))
        if t.ndim != 1 or len(t) not in (1, self.n_walkers):
            raise InputError(f"temperature_K: {temperature_K!r}; expected one temperature or "
                             f"one per walker ({self.n_walkers})")
        t = np.array([check_temperature(v, zero=self.ensemble == "nve") for v in t])
        self.temperature_K = float(t[0]) if len(t) == 1 else t
        if self.ensemble != "langevin":
            return
        # ASE's Langevin.updatevars, with per-atom T where walkers differ
        temp = units.kB * (t[0] if len(t) == 1 else np.repeat(t, np.diff(self._offsets))[:, None])
        dt, fr = self._dt, self.friction / units.fs
        sigma = np.sqrt(2 * temp * fr / self._masses)
        self._c1 = dt / 2.0 - dt * dt * fr / 8.0
        self._c2 = dt * fr / 2 - dt * dt * fr * fr / 8.0
        self._c3 = np.sqrt(dt) * sigma / 2.0 - dt**1.5 * fr * sigma / 8.0
        self._c5 = dt**1.5 * sigma / (2 * np.sqrt(3))
        self._c4 = fr / 2.0 * self._c5

    # --- public --------------------------------------------------------------
    @property
    def n_walkers(self) -> int:
        return len(self.walkers)

    @property
    def neighbour_list_builds(self) -> int:
        """Neighbour lists built so far, summed over walkers (the Verlet skin's saving)."""
        return self._evaluator.rebuilds

    @property
    def max_force_dev_history(self) -> np.ndarray:
        """(walkers, steps) eV/A: ``max_force_dev`` after every step run so far."""
        if not self._history:
            return np.zeros((self.n_walkers, 0))
        return np.stack(self._history, axis=1)

    def forces(self, k: int) -> np.ndarray:
        """Committee-mean forces (n_atoms, 3) eV/A on walker ``k`` at its current positions."""
        self._gather()
        return self._forces[self._slices[k]].copy()

    def forces_std(self, k: int) -> np.ndarray:
        """Per-atom committee force spread (n_atoms,) eV/A of walker ``k``, at its positions."""
        self._gather()
        return self._f_std[self._slices[k]].copy()

    def run(self, steps: int, callback=None) -> None:
        """Advance every walker ``steps`` steps.

        ``callback(step, md)``, if given, is called after every step with the walkers'
        Atoms up to date (it may change them); a truthy return stops the run after that
        step. A walker whose forces, energy or positions become non-finite raises
        ``MDBlowUp`` naming it and the step.
        """
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
            raise InputError(f"steps: {steps!r}; expected an integer >= 0")
        self._gather()
        try:
            for _ in range(int(steps)):
                if self.ensemble == "langevin":
                    self._langevin_step()
                else:
                    self._verlet_step()
                self.nsteps += 1
                self._history.append(self.max_force_dev.copy())
                if callback is not None:
                    self._scatter()
                    stop = callback(self.nsteps, self)
                    self._gather()
                    if stop:
                        break
        finally:
            self._scatter()

    # --- integrators (ASE's, line for line) ------------------------------------
    def _langevin_step(self):
        n = len(self._pos)
        xi, eta = np.empty((n, 3)), np.empty((n, 3))
        for rng, s in zip(self.rngs, self._slices):  # ASE draws xi, then eta, per walker
            rng.standard_normal(out=xi[s])
            rng.standard_normal(out=eta[s])
        m = self._masses
        v = self._mom / m
        rnd_pos = self._c5 * eta
        rnd_vel = self._c3 * xi - self._c4 * eta
        v += self._c1 * self._forces / m - self._c2 * v + rnd_vel
        x = self._pos
        x_new = x + self._dt * v + rnd_pos
        v = (x_new - x - rnd_pos) / self._dt
        self._pos = x_new
        self._evaluate(self.nsteps + 1)
        v += self._c1 * self._forces / m - self._c2 * v + rnd_vel
        self._mom = v * m

    def _verlet_step(self):
        p = self._mom + 0.5 * self._dt * self._forces
        self._pos = self._pos + self._dt * p / self._masses
        self._mom = p
        self._evaluate(self.nsteps + 1)
        self._mom = self._mom + 0.5 * self._dt * self._forces

    # --- state and forces ------------------------------------------------------
    def _gather(self):
        """Read positions and momenta from the walkers' Atoms; new forces if positions moved."""
        pos = np.concatenate([a.positions for a in self.walkers])
        if len(pos) != self._offsets[-1]:
            raise InputError(f"walkers: now {len(pos)} atoms in all, {self._offsets[-1]} at "
                             "the start; a BatchedMD keeps its walkers' sizes")
        self._mom = np.concatenate([a.get_momenta() for a in self.walkers])
        self._pos = pos
        if self._evaluated_at is None or not np.array_equal(pos, self._evaluated_at):
            self._evaluate(self.nsteps)

    def _scatter(self):
        """Write the current positions and momenta into the walkers' Atoms."""
        for atoms, s in zip(self.walkers, self._slices):
            atoms.positions[:] = self._pos[s]
            atoms.set_momenta(self._mom[s], apply_constraint=False)

    def _evaluate(self, step: int):
        """Committee forces, energies and deviations at ``self._pos``, reached at ``step``."""
        bad = ~np.isfinite(self._pos).all(axis=1)
        if bad.any():
            self._blow_up(np.logical_or.reduceat(bad, self._offsets[:-1]), "positions", step)
        forces, energies, dev, f_std = self._evaluator(self._pos)
        bad = ~np.isfinite(forces).all(axis=1)
        bad = np.logical_or.reduceat(bad, self._offsets[:-1]) | ~np.isfinite(energies)
        if bad.any():
            if self.nonfinite == "raise":
                self._blow_up(bad, "forces or energy", step)
            rows = np.repeat(bad, np.diff(self._offsets))
            forces[rows], f_std[rows], dev[bad] = 0.0, np.inf, np.inf
        self._forces, self.energies, self.max_force_dev = forces, energies, dev
        self._f_std = f_std
        self._evaluated_at = self._pos

    def _blow_up(self, bad_walkers, what, step):
        k = int(np.flatnonzero(bad_walkers)[0])
        raise MDBlowUp(f"walker {k}, step {step}: non-finite {what} (time step "
                       f"{self.timestep_fs:.3g} fs; try a smaller one)")


def _positive(value, field: str, expected: str, zero: bool = False) -> float:
    """``value`` as a finite float > 0 (>= 0 with ``zero``), else InputError naming ``field``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if isinstance(value, bool) or not math.isfinite(v) or v < 0 or (v == 0 and not zero):
        raise InputError(f"{field}: {value!r}; expected {expected}")
    return v


class _BatchEvaluator:
    """Committee energies, mean forces and max_force_dev of all walkers in one batch.

    The batch's static parts (species, frame index, cells) are built once. Neighbour lists
    are Verlet lists: built per walker (``atoms_to_graph``'s ``neighbour_pairs``) out to
    cutoff + ``skin`` and kept until one of the walker's atoms has moved more than skin / 2
    since, so no pair can have entered the cutoff unseen; every call keeps the pairs within
    the cutoff, which is the pair set a fresh list gives (skin = 0: a fresh list every call).
    Pairs are ordered by centre atom as in ``atoms_to_graph``; within a centre the order
    may differ from a fresh list's, which changes sums only by round-off.
    """

    def __init__(self, walkers, calc, skin: float = 0.0):
        import torch

        from ..mlip.graph import species_of

        self._torch = torch
        self.models = list(calc.models)
        self.dtype = calc.dtype
        self.elements = list(calc.elements)
        self.cutoff = float(calc.cutoff)
        self.skin = float(skin)
        sizes = np.array([len(a) for a in walkers])
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        self._starts = self.offsets[:-1]
        self._scratch = [a.copy() for a in walkers]  # neighbour lists read positions from Atoms
        for a in self._scratch:
            a.calc = None
        species = np.concatenate([species_of(a.numbers, self.elements) for a in walkers])
        self.n_frames = len(walkers)
        self.n_atoms = int(sizes.sum())
        self.species = torch.as_tensor(species)
        self.frame = torch.as_tensor(np.repeat(np.arange(len(walkers)), sizes))
        self.cells = torch.as_tensor(np.stack([a.cell.array for a in walkers]), dtype=self.dtype)
        charges = [a.info.get("charge") for a in walkers]
        self.total_charge = None
        if any(q is not None for q in charges):
            self.total_charge = torch.as_tensor([float(q or 0.0) for q in charges],
                                                dtype=self.dtype)
        self.rebuilds = 0  # neighbour lists built so far, over all walkers
        self._lists = [None] * len(walkers)  # per walker: global (i, j, S) out to cutoff + skin
        self._reference = None  # positions at each walker's last build
        self._candidates = None
        from ..mlip.stacked import stackable

        self.stacked = stackable(self.models)
        self.n_members = sum(getattr(m, "n_heads", 1) for m in self.models)

    def _update_lists(self, pos):
        """Rebuild the Verlet lists of the walkers that moved too far; True if any was."""
        from ..mlip.graph import neighbour_pairs

        if self._reference is None or self.skin == 0:
            stale = np.ones(self.n_frames, dtype=bool)
        else:
            moved = ((pos - self._reference) ** 2).sum(axis=1)
            stale = np.maximum.reduceat(moved, self._starts) > (0.5 * self.skin) ** 2
            if not stale.any():
                return False
        for k in np.flatnonzero(stale):
            a, start, end = self._scratch[k], self.offsets[k], self.offsets[k + 1]
            a.positions[:] = pos[start:end]
            i, j, S = neighbour_pairs(a, self.cutoff + self.skin)
            self._lists[k] = (i + start, j + start, S)
        self.rebuilds += int(stale.sum())
        if self._reference is None:
            self._reference = pos.copy()
        else:
            rows = np.repeat(stale, np.diff(self.offsets))
            self._reference[rows] = pos[rows]
        torch = self._torch
        i, j, S = (np.concatenate(parts) for parts in zip(*self._lists))
        order = np.argsort(i, kind="stable")  # the model's padded layout: pairs grouped by i
        i, j = torch.as_tensor(i[order]), torch.as_tensor(j[order])
        S = torch.as_tensor(S[order], dtype=self.dtype)
        shift = torch.einsum("ea,eab->eb", S, self.cells[self.frame[i]])  # as the model does
        self._candidates = (i, j, S, shift)
        return True

    def pairs(self, pos, update: bool = True):
        """Pairs within the cutoff at ``pos`` (N, 3): (positions tensor, i, j, S, slot, vec);
        ``update=False``: the lists as they are (the caller has just updated them)."""
        from ..mlip.model import pair_slots

        torch = self._torch
        if update:
            self._update_lists(pos)
        i, j, S, shift = self._candidates
        pos_t = torch.as_tensor(pos, dtype=self.dtype)
        vec = pos_t[j] - pos_t[i] + shift
        if self.skin > 0:
            keep = torch.nonzero(torch.linalg.vector_norm(vec, dim=1) < self.cutoff).squeeze(1)
            i, j, S, vec = i[keep], j[keep], S[keep], vec[keep]
        return pos_t, i, j, S, pair_slots(i, self.n_atoms), vec

    def __call__(self, pos):
        """(forces (N, 3) eV/A, energies (B,) eV, max_force_dev (B,) eV/A, per-atom spread
        (N,) eV/A), float64 numpy; on one torch thread for small batches
        (``atomistic.mlip.threads``)."""
        from ..mlip.threads import threads_for

        self._update_lists(pos)
        with threads_for(len(self._candidates[0]) * self.n_members):
            return self._call(pos)

    def _call(self, pos):
        from ..mlip.calculator import force_spread

        torch = self._torch
        pos_t, i, j, S, slot, vec = self.pairs(pos, update=False)
        if self.stacked:
            from ..mlip.stacked import stacked_energies_forces

            energies, forces = stacked_energies_forces(
                self.models, pos_t, torch.stack([i, j]), slot, vec, self.species, self.frame,
                self.n_frames, cell=self.cells, total_charge=self.total_charge)
        else:
            batch = {"positions": pos_t, "species": self.species, "cell": self.cells,
                     "batch": self.frame, "edge_index": torch.stack([i, j]), "shifts": S,
                     "slots": slot}
            if self.total_charge is not None:
                batch["total_charge"] = self.total_charge
            energies, forces = self._model_by_model(batch)
        energies = energies.to(torch.float64).numpy()   # (M, B)
        forces = forces.to(torch.float64).numpy()       # (M, N, 3)
        mean_f, f_std = force_spread(forces)
        with np.errstate(invalid="ignore"):
            dev = np.maximum.reduceat(f_std, self._starts)
        return mean_f, energies.sum(axis=0) / len(energies), dev, f_std   # = mean, cheaper

    def _model_by_model(self, batch):
        """Each model's forward over the whole batch; every head a member."""
        torch = self._torch
        energies, forces = [], []
        for model in self.models:
            heads = getattr(model, "n_heads", 1) > 1
            out = model(batch, compute_forces=True, head_forces=heads)
            if heads:
                energies.append(out["head_energies"].detach().T)
                forces.append(out["head_forces"].detach())
            else:
                energies.append(out["energy"].detach()[None])
                forces.append(out["forces"].detach()[None])
        return torch.cat(energies), torch.cat(forces)
