"""What a step above trust_hi does: the walker rolls back, and a start nobody labelled is asked about.

``reject(loop, w, dev, T)`` logs the step, sends walker ``w`` back to its last trusted state
with fresh velocities, and stops it after ``max_rollbacks``. When that trusted state is still
the walker's starting structure and the reference has never been asked about it (no initial
frame, no start label, none failed), the start itself is requested for labelling
(``start-<structure>``, once per structure, from its lowest walker, so the request does not
depend on whether the walkers ran one after another or side by side), and the rollback does
not count toward ``max_rollbacks``: a start beyond trust_hi for the committee would otherwise
roll its walkers back until they stop, and never be learnt. ``take_start_requests`` hands the
requests to the loop (batch: with the round's frames; on the fly: at once);
``revive_stopped`` lets a walker an older run stopped that way walk again.
"""
from __future__ import annotations

from .state import log_entry
from .walker import Walker


def at_unlabelled_start(loop, w: Walker) -> bool:
    """Walker ``w`` rolls back to its starting structure, and the reference has not been asked
    about that structure yet; a request or a pending label does not count as asked."""
    k = loop._structure_index(w.index)
    if not w.trusts_start(loop.structures[k]):
        return False
    asked = ({a.info.get("al_id") for a in loop.dataset}
             | {e["frame"] for e in loop.state.log if e["decision"] == "failed"})
    return not asked & {f"init-{k}-0", f"start-{k}"}


def reject(loop, w: Walker, dev: float, temperature_K: float) -> None:
    """Roll walker ``w`` back from a step with deviation ``dev`` above trust_hi."""
    fid = w.frame_id
    loop.state.log.append(log_entry(fid, w.index, w.step, dev, "rejected",
                                    calls=loop.state.n_calls))
    at_start = at_unlabelled_start(loop, w)
    k = loop._structure_index(w.index)
    sid = f"start-{k}"
    asked = loop._start_requests.get(sid)
    if at_start and sid not in loop.state.pending and (
            asked is None or asked.info["al_walker"] > w.index):
        start = loop.structures[k].copy()
        start.calc = None
        start.info.update(al_id=sid, al_walker=w.index, al_step=w.step)
        loop._start_requests[sid] = start
    w.roll_back(temperature_K, count=not at_start)
    loop._rejections += 1
    if w.rollbacks >= loop.s.max_rollbacks:
        w.stopped = True
    loop._emit("rejected", frame=fid, dev=dev, walker=w.index)


def take_start_requests(loop, room: int) -> list:
    """The start frames requested since the last call, in structure order, at most ``room``
    of them (the others are asked again when a walker next rolls back there)."""
    frames = [loop._start_requests[sid] for sid in sorted(
        loop._start_requests, key=lambda sid: int(sid.split("-")[1]))][:max(room, 0)]
    loop._start_requests.clear()
    return frames


def revive_stopped(loop) -> list[Walker]:
    """Walkers stopped at a start never labelled (before starts were labelled) walk again;
    their rollbacks all went to that start, so none counts now. Returns them."""
    revived = [w for w in loop.walkers if w.stopped and at_unlabelled_start(loop, w)]
    for w in revived:
        w.stopped, w.rollbacks = False, 0
    return revived
