"""Choosing which uncertain frames to label: the most uncertain, but not the same one twice.

``select_diverse(devs, fingerprints, k, groups, steps, min_separation)`` picks
up to ``k`` candidates greedily: first the largest deviation, then each time
the candidate maximising  dev * min(1, d_min / d_ref),  where d_min is its
fingerprint distance to the frames already picked and d_ref the median
distance between candidates. A frame that looks like one already chosen is
discounted, so one long uncertain excursion of one walker does not use the
whole round's budget. Candidates of the same group (walker) closer than
``min_separation`` steps to a chosen one are excluded outright (consecutive
MD frames are near-duplicates).

``uncertain_atom_fingerprint(calc, atoms)``: the standardised descriptor
(features of ``atomistic.mlip.model``) of the atom with the largest committee
force spread: the local environment the committee is unsure about.
"""
from __future__ import annotations

import numpy as np


def uncertain_atom_fingerprint(calc, atoms, forces_std=None) -> np.ndarray:
    """Standardised features (F,) of the atom with the largest ``forces_std``.

    ``calc`` is a ``CommitteeCalculator``; ``forces_std`` (n_atoms,) eV/A the committee's
    per-atom spread on ``atoms`` (default: ``calc.results``, from its last evaluation).
    """
    import torch

    from ..mlip.graph import atoms_to_graph, collate

    model = calc.models[0]
    k = int(np.argmax(calc.results["forces_std"] if forces_std is None else forces_std))
    batch = collate([atoms_to_graph(atoms, calc.elements, calc.cutoff)], dtype=calc.dtype)
    with torch.no_grad():
        feats = model.descriptors(batch["positions"], batch["species"], batch["cell"],
                                  batch["edge_index"], batch["shifts"], batch["batch"],
                                  slots=batch["slots"])
        z = (feats[k] - model.feature_mean) / model.feature_std
    return z.to(torch.float64).numpy()


def select_diverse(devs, fingerprints, k: int, groups=None, steps=None,
                   min_separation: int = 0) -> list[int]:
    """Indices of up to ``k`` candidates (see module docstring); devs in eV/Angstrom."""
    devs = np.asarray(devs, dtype=float)
    n = len(devs)
    if n == 0 or k <= 0:
        return []
    fp = np.asarray(fingerprints, dtype=float).reshape(n, -1)
    groups = np.zeros(n, int) if groups is None else np.asarray(groups)
    steps = np.zeros(n, int) if steps is None else np.asarray(steps)
    dist = np.sqrt(((fp[:, None, :] - fp[None, :, :]) ** 2).sum(-1))
    off = dist[~np.eye(n, dtype=bool)]
    d_ref = float(np.median(off)) if off.size and np.median(off) > 0 else 1.0
    alive = np.ones(n, bool)
    chosen: list[int] = []
    d_min = np.full(n, np.inf)
    while len(chosen) < k and alive.any():
        score = devs * np.minimum(1.0, d_min / d_ref)
        score[~alive] = -np.inf
        pick = int(np.argmax(score))
        chosen.append(pick)
        alive[pick] = False
        alive &= ~((groups == groups[pick]) & (np.abs(steps - steps[pick]) < min_separation))
        d_min = np.minimum(d_min, dist[pick])
    return chosen


def select_in_band(k: int, groups, steps, min_separation: int = 0, rng=None,
                   per_group: bool = False) -> list[int]:
    """Indices of up to ``k`` candidates drawn uniformly at random (DP-GEN's choice).

    Every candidate already lies between the trust levels, so the draw does
    not prefer the most uncertain frame of the band, the one most likely to
    be an unphysical excursion of a poor committee; it samples the uncertain
    part of the explored ensemble as it is. ``per_group``: walkers take turns
    (a random candidate of each in turn), so a hot walker with many
    candidates does not take the whole round. ``min_separation`` as in
    ``select_diverse``.
    """
    groups, steps = np.asarray(groups), np.asarray(steps)
    n = len(groups)
    if n == 0 or k <= 0:
        return []
    rng = np.random.default_rng() if rng is None else rng
    order = list(rng.permutation(n))
    if per_group:  # round-robin over walkers, each walker's candidates in random order
        queues = {g: [i for i in order if groups[i] == g] for g in np.unique(groups)}
        turns = list(rng.permutation(list(queues)))
        order = []
        while any(queues.values()):
            for g in turns:
                if queues[g]:
                    order.append(queues[g].pop(0))
    alive = np.ones(n, bool)
    chosen: list[int] = []
    for i in order:
        if len(chosen) == k:
            break
        if alive[i]:
            chosen.append(int(i))
            alive &= ~((groups == groups[i]) & (np.abs(steps - steps[i]) < min_separation))
    return chosen


def round_quota(select_per_round: int, full_round_fraction, n_candidates: int,
                md_steps: int) -> int:
    """Frames to label in a batch round: ``select_per_round``, or, with
    ``full_round_fraction``, in proportion to the round's uncertain fraction of MD steps
    f = n_candidates / md_steps (the full quota from f >= full_round_fraction), at least
    one if there is any candidate."""
    if full_round_fraction is None or n_candidates == 0:
        return select_per_round
    f = n_candidates / max(md_steps, 1)
    return max(1, min(select_per_round,
                      int(np.ceil(select_per_round * f / full_round_fraction - 1e-9))))
