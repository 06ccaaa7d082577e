"""How many reference calls does it take to find the stable set? Calling in a committee's order.

A committee predicts every candidate's formation energy (eV/atom), one value
per member. The reference (DFT) is expensive, so it is called one candidate at
a time, and the hull is rebuilt from the reference results as they come in:

- before each call, every uncalled candidate gets its predicted distance from
  the current reference hull, d = E_f(committee) - hull(x), per member; its
  optimistic lower bound is ``mean(d) - k * std(d)`` (std over members, k the
  spread scale);
- the reference is called on the candidate with the lowest lower bound;
- the stopping rule, which does not know the truth: stop as soon as every
  uncalled candidate's lower bound lies above ``threshold`` (eV/atom): none of
  them can plausibly go below the hull built so far.

``call_in_committee_order(...)`` runs this and returns a ``RecoveryRun``
(the call order, where the rule stopped). With ``complete=True`` it goes on
calling past the stop, so the order covers every candidate and
``calls_to_recover(order, stable)`` can say how many calls the ranking needed
to reach every truly stable candidate (an oracle count: it measures the
ranking, not the rule). ``expected_random_calls(n, n_stable)`` is the same
count for a random order, the baseline.

With an exact committee (zero spread, the reference's own energies) and
``threshold = 0`` the rule calls exactly the stable set and stops: the
candidate furthest below any hull built from a subset of the points is a
vertex of the full hull (a convex-combination argument), so nothing unstable
is called first, and once every vertex is in, nothing uncalled lies below.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError


def calls_to_recover(order: Sequence[str], stable: Sequence[str]) -> int:
    """Calls in ``order`` until every name in ``stable`` has been called (0 if none is stable).

    A name of ``stable`` missing from ``order`` is an InputError: the count would be infinite.
    """
    position = {n: i for i, n in enumerate(order)}
    missing = sorted(set(stable) - set(position))
    if missing:
        raise InputError(f"stable: {missing[:5]} never called in order; expected every stable name in it")
    return max((position[n] + 1 for n in stable), default=0)


def expected_random_calls(n: int, n_stable: int) -> float:
    """Expected ``calls_to_recover`` of a uniformly random order of n candidates, n_stable of them stable.

    The largest of n_stable positions drawn without replacement from 1..n has mean
    n_stable (n + 1) / (n_stable + 1).
    """
    if n < 0 or not 0 <= n_stable <= n:
        raise InputError(f"n = {n}, n_stable = {n_stable}: expected 0 <= n_stable <= n")
    return n_stable * (n + 1) / (n_stable + 1)


@dataclass
class RecoveryRun:
    """One pass of calling the reference in the committee's order. Energies eV/atom.

    order: candidate names in the order they were called; stop: calls made when the
    stopping rule fired (``len(order)`` when it never fired before the candidates ran out);
    lower_bound: each called candidate's lower bound at the moment it was picked;
    stable_found: candidates on the hull of the reference results up to ``stop``
    (with ``known``), the rule's answer.
    """

    order: list[str]
    stop: int
    lower_bound: list[float]
    stable_found: list[str] = field(default_factory=list)

    @property
    def called_at_stop(self) -> list[str]:
        return self.order[:self.stop]


def _pd(formulas: Sequence[str], e_form: Sequence[float], elements):
    """pymatgen PhaseDiagram of formation energies (eV/atom); the ``elements`` sit at zero.
    Entry names: the index of each formula, and ``element:X``."""
    from .hull import _composition, phase_diagram

    comps = [_composition(f) for f in formulas]
    names = [str(i) for i in range(len(comps))] + [f"element:{el}" for el in elements]
    energies = [float(e) * c.num_atoms for c, e in zip(comps, e_form)] + [0.0] * len(elements)
    return phase_diagram(names, comps + [_composition(str(el)) for el in elements], energies)[0]


def call_in_committee_order(names: Sequence[str], formulas: Sequence[str],
                            predicted: np.ndarray, reference: Callable[[str], float],
                            known: Sequence[tuple[str, float]] = (), k: float = 1.0,
                            threshold: float = 0.0, complete: bool = False) -> RecoveryRun:
    """Call ``reference`` on candidates in the committee's order until the stopping rule fires.

    Args:
        names, formulas: the candidates (n,).
        predicted: (M, n) or (n,) committee formation energies, eV/atom, one row per member
            (formation from the committee's own elemental energies); one row: zero spread.
        reference: name -> reference formation energy (eV/atom); each call is one reference call.
        known: (formula, formation energy eV/atom) already known from the reference
            (e.g. an earlier campaign); the pure elements are always known at zero.
        k: spread scale of the lower bound mean(d) - k std(d) (>= 0).
        threshold: stop when every uncalled candidate's lower bound exceeds it (eV/atom).
        complete: keep calling after the stop until every candidate is called (for
            ``calls_to_recover``); the stop is still recorded.
    """
    names, formulas = list(names), list(formulas)
    pred = np.atleast_2d(np.asarray(predicted, dtype=float))
    n = len(names)
    if len(formulas) != n or pred.shape[1] != n:
        raise InputError(f"names, formulas, predicted: {n} names, {len(formulas)} formulas, "
                         f"predicted shape {pred.shape}; expected (n_members, {n})")
    if len(set(names)) != n:
        raise InputError("names: repeated; every candidate needs its own name")
    if not np.all(np.isfinite(pred)):
        raise InputError("predicted: not finite; expected formation energies in eV/atom")
    if not (np.isfinite(k) and k >= 0):
        raise InputError(f"k = {k}: expected a finite spread scale >= 0")
    from .hull import _composition

    mean, std = pred.mean(axis=0), pred.std(axis=0)
    reduced = [_composition(f).reduced_formula for f in formulas]
    elements = sorted({el for f in list(formulas) + [f for f, _ in known]
                       for el in _composition(f).elements})
    known_f = [f for f, _ in known]
    known_e = [float(e) for _, e in known]
    uncalled = list(range(n))
    order, bounds, stop = [], [], None
    while uncalled:
        pd = _pd(known_f, known_e, elements)
        hull_at: dict[str, float] = {}
        for i in uncalled:
            if reduced[i] not in hull_at:
                hull_at[reduced[i]] = float(pd.get_hull_energy_per_atom(_composition(formulas[i])))
        lb = np.array([mean[i] - hull_at[reduced[i]] - k * std[i] for i in uncalled])
        if stop is None and np.all(lb > threshold):
            stop = len(order)
            if not complete:
                break
        pick = int(np.argmin(lb))          # first of equals: the input order breaks ties
        i = uncalled.pop(pick)
        order.append(names[i])
        bounds.append(float(lb[pick]))
        known_f.append(formulas[i])
        known_e.append(float(reference(names[i])))
    stop = len(order) if stop is None else stop
    # the rule's answer: candidates on the hull of what it had called (and knew) when it stopped
    n_known = len(known)
    at_stop_f = [f for f, _ in known] + known_f[n_known:n_known + stop]
    at_stop_e = [float(e) for _, e in known] + known_e[n_known:n_known + stop]
    pd = _pd(at_stop_f, at_stop_e, elements)
    on = {e.name for e in pd.stable_entries}
    found = [order[j] for j in range(stop) if str(n_known + j) in on]
    return RecoveryRun(order=order, stop=stop, lower_bound=bounds, stable_found=found)
