"""On-the-fly active learning: the committee explores, the reference labels only where it is unsure.

``ActiveLearner(structures, reference, folder, settings).run()`` drives
Langevin MD walkers with the committee potential: one per structure and seed,
either each at one of the constant ``temperatures_K`` (so the whole
temperature range is explored from the first round on) or all ramped from
``temperature_K`` to ``final_temperature_K`` over the run. It watches every
step's ``max_force_dev`` (eV/Angstrom) against the trust levels
(``atomistic.learning.trust_levels``):

- ``mode="onthefly"``: a step with ``trust_lo < dev <= trust_hi`` pauses the
  walker; the frame is labelled by the reference calculator, added to the
  dataset, the committee is retrained from its current weights (warm start,
  ``retrain_epochs`` at most), and the walker resumes from the paused state
  with the new committee.
- ``mode="batch"``: each round every walker runs ``steps`` steps collecting
  candidates (``trust_lo < dev <= trust_hi``); up to ``select_per_round``
  of the most uncertain, mutually different ones (or a random draw:
  ``selection``, ``atomistic.learning.frame_selection``) are labelled in parallel (Dask, local or
  ``scheduler``), then one warm-start retrain. With ``full_round_fraction``
  the quota follows the uncertain fraction f of the round's MD steps:
  ``ceil(select_per_round * min(1, f / full_round_fraction))`` frames, so
  the reference calls per MD step fall as the committee improves instead of
  staying at the quota while any candidate is left.
- In both, a step with ``dev > trust_hi`` is not labelled: the walker rolls
  back to its last trusted state (the last step with ``dev <= trust_lo``, or
  the last labelled one) with fresh Maxwell-Boltzmann velocities.
- A starting structure is a configuration the user asked to explore, so it is
  labelled once (log decision ``"start"``, frame id ``start-<structure>``) when a walker
  rolls back to it and it has no label yet (``atomistic.learning.rollback``). Batch mode
  labels starts with the round's frames, on top of its quota; on the fly labels them at once.
- A failed reference calculation (SCF not converged, any engine error) is
  recorded in the log and skipped; the walker does not ask again for
  ``failure_cooldown_steps`` steps.

Everything is checkpointed in ``folder`` (``atomistic.learning.store``):
killing the process at any moment and calling ``run()`` again resumes
without losing a labelled frame or labelling one twice. A run starts by
labelling the structures themselves plus ``initial_rattled`` rattled copies
of each (counted as reference calls) and training a committee from scratch,
unless ``folder`` already has a dataset. ``max_calls`` bounds the reference
calls of the whole run. A run is extended by calling it again with larger
``rounds`` or ``max_calls`` (a stopped run goes on), or with structures
appended to the list: each new structure gets its walkers, which join at the
current round (snapshots where production MD left the committee's trust are
the usual ones to append). Removing or reordering structures is refused.

The loop's parts: ``settings`` (what decides a run), ``state`` (what
``state.json`` holds, typed), ``walker`` (one Langevin trajectory), ``walking`` (a
round's MD), ``rollback`` (steps above trust_hi, unlabelled starts), ``retraining``,
``store`` (the run folder's files), ``display`` (progress line, learning curve).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from .display import ProgressDisplay
from .settings import validate_learning_settings
from .state import LearningResult, LearningState, log_entry
from .retraining import retrain
from .rollback import revive_stopped, take_start_requests
from .store import LearningStore, reconcile, starting_potential
from .walker import Walker
from .walking import settle_step, walk_round


class ActiveLearner:
    """The active-learning loop (see module docstring).

    Args:
        structures: starting ``ase.Atoms`` (unlabelled is fine); one walker per
            structure and ``walkers_per_structure`` seed.
        reference: ASE calculator or zero-argument factory (picklable for Dask).
        folder: run folder (created; an existing run there is resumed).
        settings: ``ActiveLearningSettings`` or a dict of its fields.
        test_frames: labelled held-out frames; the force MAE on them is recorded
            after every (re)training.
        initial_frames: labelled frames to start from instead of labelling the
            structures (not counted as reference calls).
        initial_potential: a committee file trained on ``initial_frames``, used
            as is instead of training one (production on the fly after a campaign).
        progress: show a live rich display.
        callback: called with a dict per event ("step", "labelled", "failed",
            "rejected", "trained"); steps carry walker, step, dev, temperature_K.
    """

    def __init__(self, structures, reference, folder: str | Path, settings=None,
                 test_frames=None, initial_frames=None, progress: bool = True, callback=None,
                 initial_potential: str | Path | None = None):
        self.s = validate_learning_settings(settings)
        self.initial_potential = starting_potential(initial_potential, initial_frames)
        self.structures = [a.copy() for a in structures]
        if not self.structures:
            raise InputError("structures: empty; expected at least one starting structure")
        self.reference = reference
        self.store = LearningStore(folder)
        self.test_frames = list(test_frames or [])
        self.initial_frames = list(initial_frames or [])
        self.progress = progress
        self.callback = callback
        self.calc = None
        self.dataset: list = []
        self.pool: list = []
        self._labeller = None
        self._display = None
        self._rejections = 0  # rollbacks in this process (a batch round counts its own)
        self._start_requests: dict = {}   # start-<structure> id -> frame, not yet queued

    # --- bookkeeping ---------------------------------------------------------
    @property
    def _temps_per_structure(self) -> int:
        return len(self.s.temperatures_K) if self.s.temperatures_K else 1

    @property
    def n_walkers(self) -> int:
        return len(self.structures) * self._temps_per_structure * self.s.walkers_per_structure

    def _structure_index(self, walker: int) -> int:
        return walker // (self._temps_per_structure * self.s.walkers_per_structure)

    def _structure_of(self, walker: int):
        return self.structures[self._structure_index(walker)]

    def _total_steps(self) -> int:
        return self.s.steps * (self.s.rounds if self.s.mode == "batch" else 1)

    def _temperature(self, walker: int, step: int) -> float:
        """Thermostat temperature (K) of ``walker`` at ``step``."""
        if self.s.temperatures_K:
            temps = self.s.temperatures_K
            return float(temps[(walker // self.s.walkers_per_structure) % len(temps)])
        t0 = self.s.temperature_K
        t1 = self.s.final_temperature_K or t0
        return t0 + (t1 - t0) * min(1.0, step / max(self._total_steps(), 1))

    def _emit(self, event: str, **data) -> None:
        if self.callback is not None:
            self.callback({"event": event, **data})
        if self._display is not None:
            self._display.update(self, event, data)

    def _save(self) -> None:
        self.state.walkers = [w.to_json() for w in self.walkers]
        self.store.write_state(self.state)

    def _new_state(self) -> LearningState:
        s = self.s
        walkers = [Walker.new(k, self._structure_of(k), self._temperature(k, 0), s.seed)
                   for k in range(self.n_walkers)]
        self.walkers = walkers
        return LearningState(settings=s.model_dump(), walkers=[w.to_json() for w in walkers])

    def _load(self) -> None:
        state = self.store.read_state()
        self.dataset = self.store.read_dataset()
        if state is None:
            self.state = self._new_state()
            if self.dataset:  # a dataset without state: keep it, start exploring from it
                self.state.log = [log_entry(a.info.get("al_id", f"d{k}"), -1, -1, None,
                                            "initial") for k, a in enumerate(self.dataset)]
            self._save()
        else:
            self.state = state
            self.walkers = [Walker(k, d) for k, d in enumerate(state.walkers)]
            saved = len(self.walkers)
            if saved > self.n_walkers or saved % (self.n_walkers // len(self.structures)):
                raise InputError(f"{self.store.state_file}: {saved} walkers saved, "
                                 f"{self.n_walkers} configured; structures can only be appended "
                                 "to a run; use a new folder to change them")
            # appended structures get walkers that join at the current round's MD (a round
            # saved but not yet labelled has its walkers one round ahead already)
            start = max(w.step for w in self.walkers)
            self.walkers += [Walker.new(k, self._structure_of(k), self._temperature(k, start),
                                        self.s.seed, step=start)
                             for k in range(saved, self.n_walkers)]
            # a run that stopped at a limit the settings now raise goes on
            more = {"rounds": self.s.mode == "batch" and self.state.round < self.s.rounds,
                    "max_calls": self._calls_left() > 0}
            goes_on = more.get(self.state.stop_reason, False)
            self.state.stop_reason = None if goes_on else self.state.stop_reason
            revived = revive_stopped(self)
            if (reconcile(self.state, self.dataset) or saved < self.n_walkers or goes_on
                    or revived):
                self._save()
        self.pool = [a for a in self.store.read_pool()
                     if a.info.get("al_step", 0) <= self.walkers[a.info["al_walker"]].step]

    # --- labelling and training -----------------------------------------------
    def _get_labeller(self):
        if self._labeller is None:
            from .reference_labelling import ReferenceLabeller

            self._labeller = ReferenceLabeller(self.reference, workers=self.s.reference_workers,
                                               scheduler=self.s.scheduler,
                                               properties=self.s.reference_properties)
        return self._labeller

    def _calls_left(self) -> int:
        return self.s.max_calls - self.state.n_calls

    def _label_pending(self) -> int:
        """Label the pending frames, committing each result; returns how many were labelled."""
        from ..mlip.dataset import as_stored

        frames = self.store.read_pending(self.state.pending)
        have = {a.info.get("al_id") for a in self.dataset}
        frames = [a for a in frames if a.info["al_id"] not in have]
        self.state.pending = [a.info["al_id"] for a in frames]
        by_id = {a.info["al_id"]: a for a in frames}
        labelled = 0

        def commit(outcome):
            nonlocal labelled
            src = by_id[outcome.frame_id]
            walker, step, dev = src.info["al_walker"], src.info["al_step"], src.info.get("al_dev")
            self.state.n_calls += 1
            if outcome.error is None:
                atoms = outcome.atoms
                atoms.info.update(src.info)
                atoms.info["al_dft_s"] = float(outcome.seconds)
                # the numbers a resumed run will read from dataset.extxyz, not more digits
                self.dataset.append(as_stored(atoms, self.store.dataset))
                self.store.write_dataset(self.dataset)  # commit point of the label
                decision = "initial" if walker < 0 else (
                    "start" if outcome.frame_id.startswith("start-") else "labelled")
                labelled += 1
            else:
                decision = "failed"
                if walker >= 0:
                    w = self.walkers[walker]
                    w.skip_until = max(w.skip_until, w.step + self.s.failure_cooldown_steps)
            self.state.pending.remove(outcome.frame_id)
            self.state.log.append(log_entry(outcome.frame_id, walker, step, dev, decision,
                                            dft_s=outcome.seconds, error=outcome.error,
                                            calls=self.state.n_calls))
            self._save()
            self._emit("failed" if outcome.error else "labelled", frame=outcome.frame_id,
                       dev=dev, seconds=outcome.seconds, error=outcome.error)

        if frames:
            self._get_labeller().label([(a.info["al_id"], a) for a in frames], on_result=commit)
        return labelled

    def _queue(self, frames) -> None:
        """Make ``frames`` pending: written to disk before the state names them."""
        self.store.write_pending(frames)
        self.state.pending = [a.info["al_id"] for a in frames]
        self._save()

    def _train(self) -> None:
        retrain(self)

    # --- the phases -------------------------------------------------------------
    def _initial(self) -> None:
        if self.dataset or self.state.pending:
            return
        if self.initial_frames:
            from ase.calculators.singlepoint import SinglePointCalculator

            from ..mlip.dataset import as_stored, labels_of

            self.dataset = []
            for k, a in enumerate(self.initial_frames):
                b = a.copy()
                b.calc = SinglePointCalculator(b, **labels_of(a))
                b.info.update(al_id=f"init-{k}", al_walker=-1, al_step=-1)
                self.dataset.append(as_stored(b, self.store.dataset))   # as a resume reads it
            self.store.write_dataset(self.dataset)
            self.state.log += [log_entry(a.info["al_id"], -1, -1, None, "initial")
                                  for a in self.dataset]
            if self.initial_potential is not None:  # installed before the state says so
                self.store.install_potential(self.initial_potential)
                self.state.trained_on = len(self.dataset)
            self._save()
            return
        rng = np.random.default_rng([self.s.seed, 7])
        frames = []
        for k, atoms in enumerate(self.structures):
            for r in range(self.s.initial_rattled + 1):
                a = atoms.copy()
                a.calc = None
                if r:
                    a.positions += rng.normal(0.0, self.s.initial_rattle_A, a.positions.shape)
                a.info.update(al_id=f"init-{k}-{r}", al_walker=-1, al_step=-1)
                frames.append(a)
        self._queue(frames[:max(self._calls_left(), 0)])

    def _stop(self, reason: str) -> None:
        self.state.stop_reason = reason
        self._save()

    def _walk(self, w: Walker, end: int):
        """Advance walker ``w`` to step ``end``; yield (dev, temperature) for every step at
        or below trust_hi (trusted steps already marked). Steps above trust_hi are rolled
        back here; a walker out of rollbacks stops."""
        w.attach(self.calc, self.s, self._temperature(w.index, w.step))
        while w.step < end:
            temp = self._temperature(w.index, w.step)
            dev = w.advance(temp)
            if settle_step(self, w, dev, temp):
                yield dev, temp
            elif w.stopped:
                return
            elif self.s.mode == "onthefly" and self._start_requests:
                starts = take_start_requests(self, self._calls_left())
                if starts:   # labelled and trained on now; the walker goes on from its start
                    self._queue(starts)
                    self._label_pending()
                    self._train()
                    w.attach(self.calc, self.s, temp)

    def _run_onthefly(self) -> None:
        s = self.s
        for w in self.walkers:
            if w.stopped:
                continue
            for dev, temp in self._walk(w, s.steps):
                if dev > s.trust_lo and w.step >= w.skip_until:
                    if self._calls_left() <= 0:
                        self._stop("max_calls")
                        return
                    # the next few frames are near-copies of this one: do not ask again at once
                    # (set before the checkpoint, so that a resumed pause skips them too)
                    w.skip_until = w.step + s.min_separation_steps
                    self.state.paused = w.index
                    self._queue([w.frame(dev)])  # checkpoint at the pause, frame pending
                    self._finish_pause(w, temp)
                elif w.step % s.checkpoint_every == 0:
                    self._save_with_pool()
            self._save_with_pool()
        self._stop("steps")

    def _finish_pause(self, w: Walker, temp: float) -> None:
        """Label the frame walker ``w`` paused at (``state.paused``), retrain on it and trust it:
        the same steps whether the pause is new or a resumed run finishes one a kill cut short
        (its label may already be committed, its training half done)."""
        self._label_pending()
        if any(a.info.get("al_id") == w.frame_id for a in self.dataset):
            self._train()
            w.trust_here()  # the paused frame is now in the training set
            w.attach(self.calc, self.s, temp)
        self.state.paused = None
        self._save()

    def _keep_pool(self, w: Walker, dev: float) -> None:
        if self.s.pool_every and w.step % self.s.pool_every == 0:
            self.pool.append(w.frame(dev))

    def _save_with_pool(self) -> None:
        self.store.write_pool(self.pool)
        self._save()

    def _run_batch(self) -> None:
        s = self.s
        from .frame_selection import (round_quota, select_diverse, select_in_band,
                                      uncertain_atom_fingerprint)

        uniform = s.selection == "uniform"
        while self.state.round < s.rounds:
            if self._round_in_flight():
                # resumed after this round's MD and selection were saved: finish the round
                self._label_pending()
                self._train()
                self._finish_round()
                continue
            if self._calls_left() <= 0:
                self._stop("max_calls")
                return
            cands, steps0 = [], sum(w.step for w in self.walkers)
            rejected0 = self._rejections
            for w, dev, f_std in walk_round(self, (self.state.round + 1) * s.steps):
                if w.step >= w.skip_until and (dev > s.trust_lo or uniform):
                    fp = (uncertain_atom_fingerprint(self.calc, w.atoms, f_std)
                          if s.selection == "most_uncertain" else None)
                    frame = w.frame(dev)
                    frame.info["al_mean_dev"] = float(np.mean(f_std))
                    cands.append((frame, fp))
            # the order candidates arrive in depends on the engine (walker by walker, or
            # step by step): the selection sees them walker by walker whichever ran
            cands.sort(key=lambda c: (c[0].info["al_walker"], c[0].info["al_step"]))
            n_rejected = self._rejections - rejected0
            md_steps = sum(w.step for w in self.walkers) - steps0
            k = min(round_quota(s.select_per_round, s.full_round_fraction, len(cands), md_steps),
                    self._calls_left())
            groups = [c[0].info["al_walker"] for c in cands]
            steps = [c[0].info["al_step"] for c in cands]
            if s.selection == "most_uncertain":
                key = "al_dev" if s.rank_by == "max" else "al_mean_dev"
                pick = select_diverse([c[0].info[key] for c in cands],
                                      [c[1] for c in cands], k, groups=groups, steps=steps,
                                      min_separation=s.min_separation_steps)
            else:  # same draw again on resume: seeded by the run seed and the round
                rng = np.random.default_rng([s.seed, 11, self.state.round])
                pick = select_in_band(k, groups, steps, s.min_separation_steps, rng,
                                      per_group=s.selection == "random_per_walker")
            if uniform:  # for the round log: the uncertain steps, as in the other modes
                n_uncertain = sum(c[0].info["al_dev"] > s.trust_lo for c in cands)
            starts = take_start_requests(self, self._calls_left() - len(pick))
            self.state.rounds.append({
                "round": self.state.round, "md_steps": md_steps,
                "candidates": n_uncertain if uniform else len(cands),
                "selected": len(pick), "starts": len(starts), "rejected": n_rejected,
                "temperature_K": max(self._temperature(w.index, w.step) for w in self.walkers),
                "calls_before": self.state.n_calls})
            self.store.write_pool(self.pool)
            # walkers and choice saved together
            self._queue([cands[i][0] for i in pick] + starts)
            self._label_pending()
            self._train()
            self._finish_round()
        self._stop("rounds")

    def _round_in_flight(self) -> bool:
        """A batch round's MD and selection are saved but the round is not finished."""
        rounds = self.state.rounds
        return self.s.mode == "batch" and bool(rounds) and rounds[-1]["round"] == self.state.round

    def _finish_round(self) -> None:
        self.state.round += 1
        self._save()

    # --- entry point ----------------------------------------------------------
    def run(self) -> LearningResult:
        """Run (or resume) the loop to its end; returns a ``LearningResult``."""
        from .._engines import import_engine

        import_engine("torch")
        self._load()
        try:
            with ProgressDisplay(self) as self._display:
                if self.state.stop_reason is None:
                    self._initial()
                    # pending frames of the first data set are labelled now (and those of an
                    # on-the-fly pause in a state.json written before pauses were recorded);
                    # a recorded pause is finished as it would have been; a batch round
                    # labels its own when it resumes
                    if self.state.pending and (not self.state.trained_on or (
                            self.s.mode == "onthefly" and self.state.paused is None)):
                        self._label_pending()
                    if self.state.paused is not None:
                        w = self.walkers[self.state.paused]
                        self._finish_pause(w, self._temperature(w.index, w.step))
                    if not self._round_in_flight():
                        # a round cut short trains once, after all its labels, in
                        # _run_batch: training here on part of them would warm-start that
                        # training from another committee than an uninterrupted run does
                        self._train()
                    if self.s.mode == "onthefly":
                        self._run_onthefly()
                    else:
                        self._run_batch()
        finally:
            self._display = None
            if self._labeller is not None:
                self._labeller.close()
                self._labeller = None
        return self.result()

    def result(self) -> LearningResult:
        return self.state.result(self.store.folder, self.store.potential, self.store.dataset,
                                 md_steps=sum(w.step for w in self.walkers))


def learn(structures, reference, folder, settings=None, **kwargs) -> LearningResult:
    """Run (or resume) an active-learning loop; see ``ActiveLearner`` for the arguments."""
    return ActiveLearner(structures, reference, folder, settings, **kwargs).run()
