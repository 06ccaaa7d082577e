"""A batch round's MD: every walker advanced to the round's last step, together or in turn.

``walk_round(loop, end)`` yields ``(walker, dev, forces_std)`` for every step at or below
trust_hi, walker by walker as the steps happen; steps above trust_hi are rolled back
(``rollback.reject``) and not yielded. Two engines, chosen by ``settings.md_engine``:

- ``"batched"`` (default): ``atomistic.md.batched.BatchedMD`` advances all walkers at once,
  with one stacked committee pass per step. Each walker keeps its own RNG (the generator
  saved in ``state.json``) and BatchedMD's Langevin is ASE's line for line, so a walker's
  trajectory is the one ``"ase"`` gives, up to the round-off of summing in another order.
  Steps are yielded step by step across walkers (all walkers' step n, then step n + 1).
- ``"ase"``: ASE's ``Langevin``, one walker after another (each walker's whole round,
  then the next walker's).

Either way a walker that runs out of rollbacks stops, and the frames a round selects do
not depend on the order in which its candidates were found.
"""
from __future__ import annotations

import numpy as np

from .rollback import reject


def settle_step(loop, w, dev: float, temperature_K: float) -> bool:
    """After walker ``w`` made a step with deviation ``dev``: report it, keep it in the pool,
    roll it back above trust_hi (False: not a frame to use), mark it trusted at or below
    trust_lo. Both engines, every step."""
    s = loop.s
    loop._emit("step", walker=w.index, step=w.step, dev=dev, temperature_K=temperature_K)
    loop._keep_pool(w, dev)
    if dev > s.trust_hi:
        reject(loop, w, dev, temperature_K)   # new positions and momenta in w.atoms
        return False
    if dev <= s.trust_lo:
        w.trust_here()
    return True


def walk_round(loop, end: int):
    walkers = [w for w in loop.walkers if not w.stopped]
    # BatchedMD needs the committee's models (a CommitteeCalculator, which is what the loop
    # trains); any other calculator walks with ASE
    if loop.s.md_engine == "ase" or not hasattr(loop.calc, "models"):
        for w in walkers:
            for dev, _ in loop._walk(w, end):
                yield w, dev, loop.calc.results["forces_std"]
        return
    yield from _walk_batched(loop, walkers, end)


def _walk_batched(loop, walkers, end: int):
    from ..md.batched import BatchedMD

    s = loop.s
    active = [w for w in walkers if w.step < end]
    while active:
        temps = [loop._temperature(w.index, w.step) for w in active]
        md = BatchedMD([w.atoms for w in active], loop.calc, s.timestep_fs, "langevin",
                       temperature_K=temps, friction=s.friction, rngs=[w.rng for w in active],
                       nonfinite="report")
        regroup = False
        while not regroup:
            now = [loop._temperature(w.index, w.step) for w in active]
            if now != temps:   # a temperature ramp: ASE's set_temperature before the step
                md.set_temperature(now)
                temps = now
            with np.errstate(all="ignore"):
                md.run(1)
            for k, w in enumerate(active):
                w.step += 1
                dev = float(md.max_force_dev[k])
                dev = dev if np.isfinite(dev) else float("inf")
                if not settle_step(loop, w, dev, temps[k]):
                    # a step rolled back at the round's end ends the walker's round too
                    regroup |= w.stopped or w.step >= end
                    continue
                yield w, dev, md.forces_std(k)
                regroup |= w.step >= end
        active = [w for w in active if not w.stopped and w.step < end]
