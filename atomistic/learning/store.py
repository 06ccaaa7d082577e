"""The files of one active-learning run, each written atomically.

A run folder holds::

    dataset.extxyz     every labelled frame (initial and learned); each carries
                       al_id (unique), al_walker, al_step, al_dev, al_dft_s in info
    potential.mlip.pt  the current committee (atomistic.mlip.potential format)
    train/             training checkpoints of the retrain in progress
    state.json         walkers (positions, momenta, thermostat RNG), counters,
                       the decision log, the learning curve, the pending frames' ids
    pending.extxyz     frames chosen for labelling, written before state.json names them
    log.jsonl          the decision log, one JSON object per line (a copy for people)
    pool.extxyz        unlabelled MD frames kept every ``pool_every`` steps (optional)

Commit order makes a kill at any instant safe: a frame to label is written
to ``pending.extxyz`` and named in ``state.json`` before the reference runs;
a label is committed to ``dataset.extxyz`` before ``state.json`` drops it from
the pending list. On restart ``reconcile`` finishes a half-done commit: a
pending frame already in the dataset is not labelled again, and its log
entry is rebuilt from the frame's info.
"""
from __future__ import annotations

import json
from pathlib import Path

from foundation.files import atomic_open
from ..errors import InputError
from .state import STATE_VERSION, LearningState, log_entry


def _write_text(path: Path, text: str) -> None:
    with atomic_open(path) as fh:
        fh.write(text)


def starting_potential(path, frames) -> Path | None:
    """``path`` checked as the committee a run starts from, trained on ``frames``."""
    if path is None:
        return None
    path = Path(path)
    if not frames:
        raise InputError("initial_potential: given without initial_frames; expected the "
                         "labelled frames the committee was trained on")
    if not path.is_file():
        raise InputError(f"initial_potential: {path} is not a file; expected a committee "
                         "file (*.mlip.pt)")
    return path


class LearningStore:
    """Read and write the files of an active-learning run folder (see module docstring)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dataset = self.folder / "dataset.extxyz"
        self.potential = self.folder / "potential.mlip.pt"
        self.train_dir = self.folder / "train"
        self.state_file = self.folder / "state.json"
        self.pending_file = self.folder / "pending.extxyz"
        self.log_file = self.folder / "log.jsonl"
        self.pool_file = self.folder / "pool.extxyz"

    def install_potential(self, source: Path) -> None:
        """Copy a committee file in as the run's potential (temp file, then rename)."""
        import shutil

        tmp = self.folder / "potential.next.mlip.pt"
        shutil.copyfile(source, tmp)
        tmp.replace(self.potential)

    # --- frames -------------------------------------------------------------
    def read_dataset(self) -> list:
        from ..mlip.dataset import read_frames

        return read_frames(self.dataset) if self.dataset.is_file() else []

    def write_dataset(self, frames) -> None:
        from ..mlip.dataset import write_frames

        write_frames(frames, self.dataset)

    def read_pending(self, ids) -> list:
        from ..mlip.dataset import read_frames

        if not ids or not self.pending_file.is_file():
            return []
        by_id = {a.info.get("al_id"): a for a in read_frames(self.pending_file)}
        return [by_id[i] for i in ids if i in by_id]

    def write_pending(self, frames) -> None:
        from ..mlip.dataset import write_frames

        write_frames(frames, self.pending_file)

    def read_pool(self) -> list:
        from ..mlip.dataset import read_frames

        return read_frames(self.pool_file) if self.pool_file.is_file() else []

    def write_pool(self, frames) -> None:
        from ..mlip.dataset import write_frames

        if frames:
            write_frames(frames, self.pool_file)

    # --- state --------------------------------------------------------------
    def read_state(self) -> LearningState | None:
        if not self.state_file.is_file():
            return None
        from foundation.reading import reading

        # writes are atomic, so a bad file is one a person edited or copied in: name it
        with reading(self.state_file, "active-learning state", InputError) as path:
            state = json.loads(path.read_bytes().decode("utf-8"))
            if not isinstance(state, dict):
                raise InputError(f"{path}: expected a JSON object, found "
                                 f"{type(state).__name__}")
            if state.get("version") != STATE_VERSION:
                raise InputError(f"{path}: state version {state.get('version')!r}; "
                                 f"this code reads version {STATE_VERSION}")
            return LearningState.from_json(state)

    def write_state(self, state: LearningState) -> None:
        _write_text(self.state_file, json.dumps(state.to_json()))
        _write_text(self.log_file, "".join(json.dumps(e) + "\n" for e in state.log))


def reconcile(state: LearningState, dataset: list) -> list[str]:
    """Finish a commit a kill interrupted; returns the ids dropped from ``pending``.

    A pending frame whose id is already in the dataset was labelled and saved:
    it leaves the pending list and gets its log entry back (from its info).
    """
    have = {a.info.get("al_id"): a for a in dataset}
    logged = {e["frame"] for e in state.log if e["decision"] in ("labelled", "initial", "start")}
    done = []
    for fid in list(state.pending):
        if fid in have:
            state.pending.remove(fid)
            done.append(fid)
            if fid not in logged:
                info = have[fid].info
                state.n_calls += 1
                state.log.append(log_entry(
                    fid, info.get("al_walker", -1), info.get("al_step", -1),
                    info.get("al_dev"), "initial" if info.get("al_walker", -1) < 0
                    else "start" if fid.startswith("start-") else "labelled",
                    dft_s=info.get("al_dft_s"), calls=state.n_calls))
    return done
