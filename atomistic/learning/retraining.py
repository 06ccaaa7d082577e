"""The loop's (re)training: the whole dataset, each time it grew; a warm start once a committee exists.

``retrain(loop)`` trains to ``potential.next.mlip.pt``, records the training in
``state.json`` (with a point of the learning curve: calls, labels, MD steps, time and,
given test frames, their errors), then installs the file as the run's potential. A kill
between the record and the install is finished on resume (installing first would let a
resume warm-start from weights the state does not know). Warm starts train at most
``retrain_epochs`` at ``retrain_learning_rate``.
"""
from __future__ import annotations

import time

from ..errors import InputError


def retrain(loop) -> None:
    """(Re)train ``loop``'s committee on its whole dataset when it grew (see module docstring)."""
    from ..mlip.potential import load_potential
    from ..mlip.training import train_committee, validate_settings

    n = len(loop.dataset)
    base = {"seed": loop.s.seed, **loop.s.train}
    # trained to tmp, recorded in state.json, then installed; a kill between the last
    # two finishes here (installing first: a resume would warm-start from new weights)
    tmp = loop.store.folder / "potential.next.mlip.pt"
    if tmp.is_file() and loop.state.trained_on == n:
        tmp.replace(loop.store.potential)
    if loop.state.trained_on == n and loop.store.potential.is_file():
        if loop.calc is None:   # in the precision it was trained in, as after training
            dtype = validate_settings(base, where="settings.train").dtype
            loop.calc = load_potential(loop.store.potential, dtype=dtype)
        return
    if n < 2:
        raise InputError(f"dataset: {n} labelled frame(s); expected at least 2 to train "
                         "(did the reference fail on the initial structures? see log.jsonl)")
    warm = loop.store.potential if loop.state.trained_on > 0 and \
        loop.store.potential.is_file() else None
    if warm is not None:
        base.update(epochs=min(loop.s.retrain_epochs, base.get("epochs", 10 ** 9)),
                    learning_rate=loop.s.retrain_learning_rate)
    settings = validate_settings(base, where="settings.train")
    t0 = time.perf_counter()
    loop._emit("training", frames=n)
    loop.calc = train_committee(loop.dataset, settings, tmp, progress=False,
                                checkpoint_dir=loop.store.train_dir, warm_start=warm)
    loop.calc.metadata["path"] = str(loop.store.potential)
    loop.state.trained_on = n
    point = {"calls": loop.state.n_calls, "labelled": n,
             "md_steps": sum(w.step for w in loop.walkers), "round": loop.state.round,
             "train_s": time.perf_counter() - t0}
    if loop.test_frames:
        from ..mlip.evaluation import prediction_errors

        err = prediction_errors(loop.calc, loop.test_frames)
        point.update(force_mae=err.force_mae, energy_mae=err.energy_mae)
    loop.state.curve.append(point)
    loop._save()
    tmp.replace(loop.store.potential)
    loop._emit("trained", **point)
