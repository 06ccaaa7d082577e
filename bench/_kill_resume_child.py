"""``multiscale ARGS...`` as bench/kill_resume.py runs it: the real CLI, plus a journal of its checkpoints.

    python bench/_kill_resume_child.py run CONFIG --out DIR     # == multiscale run CONFIG --out DIR
    python bench/_kill_resume_child.py learn CONFIG             # == multiscale learn CONFIG

Nothing the command computes is changed. After each checkpoint the toolkit has
*finished* writing, one JSON line goes to ``$KILL_RESUME_JOURNAL``: which file
(slot), under which key, how far it got (progress), and the attempt number
``$KILL_RESUME_ATTEMPT``. The benchmark reads it to count work a resumed run
did again although a checkpoint already held it. Journalled:

- training epochs: ``atomistic.mlip.potential.atomic_torch_save`` of a member
  checkpoint (``{"key", "state": {"epoch"}}``): slot = the file, progress = epoch;
- MD chunks: ``multiscale.pipeline.StageContext.save_checkpoint``: slot = the
  npz, key = the stage key, progress = ``chunks`` (mlip_md) or ``nsteps`` (hybrid_md);
- labelling batches of ``mlip_data``: ``atomistic.mlip.dataset.write_frames`` to
  ``.../parts/*.extxyz``: progress 1;
- reference calls of active learning: ``atomistic.learning.reference_labelling.label_one``
  returned for frame id X: slot ``label:X`` (noted when the label exists, before
  the loop commits it).

A kill between a write and its journal line loses that line, never invents one.
The patched names are looked up at call time by the toolkit (imports inside
functions), so the wrappers see every call; if one is renamed the child fails loudly.
torch runs on one thread, as the repository's resume tests do, so a resumed run
sums in the same order as the uninterrupted one.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

JOURNAL = os.environ["KILL_RESUME_JOURNAL"]
ATTEMPT = int(os.environ.get("KILL_RESUME_ATTEMPT", "0"))


def _note(slot: str, key: str, progress: int) -> None:
    line = json.dumps({"attempt": ATTEMPT, "slot": slot, "key": key, "progress": int(progress),
                       "t": time.time()})
    with open(JOURNAL, "a") as fh:       # one short write per line: whole or absent after a kill
        fh.write(line + "\n")


def _install() -> None:
    import torch

    torch.set_num_threads(1)

    import atomistic.learning.reference_labelling as labelling
    import atomistic.mlip.dataset as dataset
    import atomistic.mlip.potential as potential
    from multiscale.pipeline import StageContext

    torch_save = potential.atomic_torch_save

    def journalled_torch_save(obj, path):
        torch_save(obj, path)
        if isinstance(obj, dict) and "key" in obj and isinstance(obj.get("state"), dict):
            _note(os.path.realpath(path), str(obj["key"]), obj["state"]["epoch"])

    potential.atomic_torch_save = journalled_torch_save

    save_checkpoint = StageContext.save_checkpoint

    def journalled_save_checkpoint(self, meta, arrays=None, name="checkpoint.npz"):
        save_checkpoint(self, meta, arrays, name)
        _note(os.path.realpath(self.dir / name), self.key,
              meta.get("chunks", meta.get("nsteps", 0)))

    StageContext.save_checkpoint = journalled_save_checkpoint

    write_frames = dataset.write_frames

    def journalled_write_frames(frames, path, *args, **kwargs):
        out = write_frames(frames, path, *args, **kwargs)
        if Path(path).parent.name == "parts":
            _note(os.path.realpath(path), "", 1)
        return out

    dataset.write_frames = journalled_write_frames

    label_one = labelling.label_one

    def journalled_label_one(atoms, reference, frame_id, *args, **kwargs):
        out = label_one(atoms, reference, frame_id, *args, **kwargs)
        _note(f"label:{frame_id}", "", 1)
        return out

    labelling.label_one = journalled_label_one


if __name__ == "__main__":
    _install()
    from multiscale.cli import app

    sys.argv = ["multiscale", *sys.argv[1:]]
    app()
