"""The state of an active-learning run: what ``state.json`` holds, as a typed object.

``LearningState`` is everything a run needs to resume: the settings it was
started with, the walkers (``atomistic.learning.walker.Walker.to_json``), the
ids of the frames chosen for labelling and not yet committed, the counters,
the decision log (one ``log_entry`` per decision), the learning curve and
the batch rounds. ``to_json`` / ``from_json`` map it to the file's JSON
object (key for key, so files written before this class existed resume).
``result`` turns it into the ``LearningResult`` a caller sees.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

STATE_VERSION = 1


@dataclass
class LearningState:
    """A run's resumable state (see module docstring). Units: eV/Angstrom, K, s."""

    settings: dict
    walkers: list[dict]
    pending: list[str] = field(default_factory=list)
    trained_on: int = 0
    n_calls: int = 0
    round: int = 0
    log: list[dict] = field(default_factory=list)
    curve: list[dict] = field(default_factory=list)
    rounds: list[dict] = field(default_factory=list)
    stop_reason: str | None = None
    # on the fly: the walker that paused at a frame, until the frame is labelled, trained on
    # and trusted (a kill in between resumes that pause exactly, instead of walking on from it)
    paused: int | None = None

    def to_json(self) -> dict:
        return {**asdict(self), "version": STATE_VERSION}

    @classmethod
    def from_json(cls, data: dict) -> LearningState:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    def count(self, decision: str) -> int:
        """How many log entries made ``decision`` (initial, labelled, start, failed, rejected)."""
        return sum(e["decision"] == decision for e in self.log)

    def result(self, folder: Path, potential: Path, dataset: Path, md_steps: int) -> LearningResult:
        return LearningResult(
            folder=folder, potential=potential, dataset=dataset, n_calls=self.n_calls,
            n_labelled=self.count("labelled"), n_starts=self.count("start"),
            n_failed=self.count("failed"),
            n_rejected=self.count("rejected"), md_steps=md_steps,
            stop_reason=self.stop_reason or "", curve=list(self.curve), rounds=list(self.rounds),
            log=list(self.log))


@dataclass
class LearningResult:
    """What a run did: counts, the learning curve, where its files are."""

    folder: Path
    potential: Path
    dataset: Path
    n_calls: int
    n_labelled: int
    n_failed: int
    n_rejected: int
    md_steps: int
    stop_reason: str
    n_starts: int = 0   # starting structures labelled because a walker rolled back to them
    curve: list = field(default_factory=list)
    rounds: list = field(default_factory=list)
    log: list = field(default_factory=list)


def log_entry(frame: str, walker: int, step: int, dev, decision: str, dft_s=None, error=None,
              calls: int = 0) -> dict:
    """One line of the decision log (deviation and DFT time in eV/Angstrom and seconds)."""
    return {"frame": frame, "walker": int(walker), "step": int(step),
            "dev": None if dev is None else float(dev), "decision": decision,
            "dft_s": None if dft_s is None else float(dft_s), "error": error,
            "calls": int(calls),
            "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
