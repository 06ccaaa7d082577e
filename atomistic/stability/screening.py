"""A hierarchical screening funnel: cheap model -> committee -> reference, cached and resumable.

``screen(candidates, references, cheap, committee, reference)`` finds the
candidates on the convex hull while paying for as few reference (DFT)
evaluations as it can:

1. **cheap**: every candidate with the cheap level (typically a single point
   without relaxation); the hull of those energies ranks them, and the
   ``n_committee`` lowest in energy above the hull go on.
2. **committee**: the short list relaxed with the committee; the hull is
   rebuilt per member, giving each candidate ``e_above_hull`` +- sigma and
   ``p_stable`` (``atomistic.stability.hull``).
3. **reference**: the ``n_reference`` best by the committee, plus the
   ``n_uncertain`` others it is least sure are unstable (smallest
   e_above_hull / sigma), relaxed with the reference; their hull is the answer.

The pure-element ``references`` are evaluated at every level (each hull needs
them). Each evaluation is one task: ``map(func, tasks)`` runs them (the
default runs them here; ``foundation.executor.Executor(workers=N).map`` runs
them as Dask tasks). Tasks write their results to
``cache_dir`` themselves, atomically (``atomistic.stability.result_cache``), so a run
that stops part-way resumes where it stopped and a finished run re-reports
for free. A candidate that fails to relax at a level is dropped there and
listed in ``failed``; a failing elemental reference stops the run.

The result reports the reference calls the funnel made and the calls that
evaluating every candidate would take, and whether the reference agrees with
the committee's ranking of what it verified (Spearman rank correlation).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ase import Atoms

from ..errors import CalculationFailed, InputError


@dataclass
class Level:
    """One rung of the funnel: a name, an ASE calculator and how to use it.

    relax: relax (ions + cell) before taking the energy; fmax eV/Angstrom;
    steps: BFGS steps. key: the calculator's identity in the cache (default:
    its class and parameters; set it when two models share a class).
    """

    name: str
    calc: Any
    relax: bool = True
    fmax: float = 0.02
    steps: int = 300
    key: str | None = None

    def identity(self) -> str:
        if self.key:
            return self.key
        c = self.calc
        params = getattr(c, "parameters", {}) or {}
        members = getattr(c, "members", None)
        return (f"{type(c).__module__}.{type(c).__qualname__}:{sorted(params.items())!r}:"
                f"members={len(members) if members is not None else 0}")


def _evaluate(task: dict) -> dict:
    """One (level, structure) evaluation; reads and writes the cache itself (runs on any worker)."""
    from ..ensemble import members_of
    from .relaxation import relax, single_point
    from .result_cache import ResultCache

    cache = ResultCache(task["cache"])
    hit = cache.get(task["level"], task["key"])
    if hit is not None:
        return {**hit, "cached": True}
    import copy
    import time

    # a private copy: calculators keep per-structure state, and thread workers share task objects
    atoms, name, calc = task["atoms"], task["name"], copy.deepcopy(task["calc"])
    out = {"name": name, "energy": None, "member_energies": None, "error": None, "steps": 0}
    t0 = time.perf_counter()
    try:
        if task["relax"]:
            r = relax(atoms, calc, name=name, fmax=task["fmax"], steps=task["steps"])
            geometry, out["energy"], out["steps"] = r.atoms, r.energy, r.steps
        else:
            geometry, out["energy"] = atoms, single_point(atoms, calc, name=name)
        members = members_of(calc)
        if members:
            out["member_energies"] = [single_point(geometry, m, name=name) for m in members]
    except (CalculationFailed, InputError, RuntimeError) as exc:  # ConvergenceError is a RuntimeError
        out["error"] = str(exc)
    out["seconds"] = time.perf_counter() - t0  # what a cache hit saves, for cost accounting
    cache.put(task["level"], task["key"], out)
    return {**out, "cached": False}


@dataclass
class ScreeningResult:
    """What the funnel found and what it cost. Energies above hull in eV/atom.

    ``table``: one dict per candidate with the fields each level filled in
    (cheap_e_above_hull, committee_e_above_hull, committee_std, p_stable,
    selected ("top" | "uncertain" | None), reference_e_above_hull, stable).
    ``calls``: evaluations per level (cache hits included: work the funnel needs).
    """

    stable: list[str]
    table: list[dict]
    calls: dict[str, int]
    reference_calls: int
    exhaustive_reference_calls: int
    spearman: float | None
    failed: dict[str, str] = field(default_factory=dict)
    cache_hits: int = 0

    @property
    def reference_calls_saved(self) -> int:
        return self.exhaustive_reference_calls - self.reference_calls

    @property
    def saving_factor(self) -> float:
        return self.exhaustive_reference_calls / max(self.reference_calls, 1)

    def to_dict(self) -> dict:
        return {"stable": self.stable, "calls": self.calls, "reference_calls": self.reference_calls,
                "exhaustive_reference_calls": self.exhaustive_reference_calls,
                "reference_calls_saved": self.reference_calls_saved,
                "saving_factor": self.saving_factor, "spearman_committee_vs_reference": self.spearman,
                "failed": self.failed, "cache_hits": self.cache_hits, "candidates": self.table}


def _named(structures: Sequence[Atoms], what: str) -> list[tuple[str, Atoms]]:
    out = []
    for i, a in enumerate(structures):
        if not isinstance(a, Atoms):
            raise InputError(f"{what}[{i}]: expected ase.Atoms, got {type(a).__name__}")
        out.append((a.info.get("name") or f"{a.get_chemical_formula()}-{i}", a))
    names = [n for n, _ in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{what}: names {dup[:5]} repeat; give each atoms.info['name'] its own")
    return out


def _spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    if len(a) < 3:
        return None
    from scipy.stats import spearmanr

    rho = spearmanr(a, b).statistic
    return None if not np.isfinite(rho) else float(rho)


def screen(candidates: Sequence[Atoms], references: Sequence[Atoms], cheap: Level, committee: Level,
           reference: Level, n_committee: int = 30, n_reference: int = 10, n_uncertain: int = 5,
           cache_dir: str | None = None, map: Callable | None = None, quiet: bool = True,
           progress: Callable[[str], None] | None = None) -> ScreeningResult:
    """Run the funnel (see module doc) and return a ``ScreeningResult``.

    Args:
        candidates: structures to screen, each named by ``atoms.info['name']``.
        references: one structure per pure element present (the hulls' zero).
        cheap, committee, reference: the three ``Level``s.
        n_committee: candidates the committee sees; n_reference + n_uncertain:
            candidates the reference sees.
        cache_dir: folder for the per-task results (None: no cache, not resumable).
        map: ``map(func, items)`` to run tasks (default: here, in order).
        quiet: no progress bars (the default map); progress: one-line status callback.
    """
    from .hull import check_references, hull_from_energies

    cands = _named(candidates, "candidates")
    refs = [(a.get_chemical_formula(), a) for a in references]
    for n, a in refs:
        if len(set(a.get_chemical_symbols())) != 1:
            raise InputError(f"references: {n!r} is not a pure element")
    check_references([a.get_chemical_formula() for _, a in cands + refs])
    for name, value in (("n_committee", n_committee), ("n_reference", n_reference),
                        ("n_uncertain", n_uncertain)):
        if value < 0:
            raise InputError(f"{name} = {value}: expected >= 0")
    say = progress or (lambda _msg: None)
    if map is None:
        from foundation.executor import Executor

        run_map = Executor(workers=1, quiet=quiet).map    # here, with a progress bar unless quiet
    else:
        run_map = map
    calls: dict[str, int] = {}
    failed: dict[str, str] = {}
    hits = 0
    row = {n: {"name": n, "formula": a.get_chemical_formula()} for n, a in cands}

    def run_level(level: Level, named: list[tuple[str, Atoms]]):
        nonlocal hits
        from .result_cache import structure_key

        tasks = [{"level": level.name, "name": n, "atoms": a, "calc": level.calc,
                  "relax": level.relax, "fmax": level.fmax, "steps": level.steps, "cache": cache_dir,
                  "key": structure_key(a, level.name, level.identity(), level.relax, level.fmax,
                                       level.steps)}
                 for n, a in refs + named]
        say(f"{level.name}: {len(tasks)} evaluations")
        try:
            results = run_map(_evaluate, tasks, desc=level.name)
        except TypeError:  # a plain map(func, items) without desc
            results = run_map(_evaluate, tasks)
        calls[level.name] = len(tasks)
        hits += sum(bool(r.get("cached")) for r in results)
        for (n, _), r in zip(refs, results[:len(refs)]):
            if r["error"]:
                raise CalculationFailed(f"{level.name} level, elemental reference {n}: {r['error']}")
        ok = []
        for (n, a), r in zip(refs + named, results):
            if r["error"]:
                failed[n] = f"{level.name}: {r['error']}"
            else:
                ok.append((n, a, r))
        entries = [(n, a.get_chemical_formula(), r["energy"]) for n, a, r in ok]
        members = None
        if ok and ok[0][2]["member_energies"] is not None:
            members = np.array([r["member_energies"] for _, _, r in ok]).T
        return hull_from_energies(entries, member_energies=members)

    # 1. cheap: everyone
    h_cheap = run_level(cheap, cands)
    cand_names = {n for n, _ in cands}
    ranked = sorted((e, n) for n, e in zip(h_cheap.names, h_cheap.e_above_hull) if n in cand_names)
    for e, n in ranked:
        row[n]["cheap_e_above_hull"] = float(e)
    short = {n for _, n in ranked[:n_committee]}

    # 2. committee: the short list
    h_com = run_level(committee, [(n, a) for n, a in cands if n in short])
    com = {}
    for i, n in enumerate(h_com.names):
        if n not in cand_names:
            continue
        std = float(h_com.e_above_hull_std[i]) if h_com.e_above_hull_std is not None else 0.0
        p = float(h_com.p_stable[i]) if h_com.p_stable is not None else float(h_com.stable[i])
        com[n] = (float(h_com.e_above_hull[i]), std, p)
        row[n].update(committee_e_above_hull=com[n][0], committee_std=std, p_stable=p)

    # 3. reference: the committee's best, then the ones it is least sure about
    order = sorted(com, key=lambda n: (com[n][0], -com[n][2]))
    top = order[:n_reference]
    rest = [n for n in order if n not in top]
    rest.sort(key=lambda n: com[n][0] / com[n][1] if com[n][1] > 0 else np.inf)
    uncertain = [n for n in rest[:n_uncertain] if com[n][1] > 0]
    for n in top:
        row[n]["selected"] = "top"
    for n in uncertain:
        row[n]["selected"] = "uncertain"
    chosen = set(top) | set(uncertain)
    h_ref = run_level(reference, [(n, a) for n, a in cands if n in chosen])
    verified = []
    for i, n in enumerate(h_ref.names):
        if n in cand_names:
            row[n].update(reference_e_above_hull=float(h_ref.e_above_hull[i]),
                          stable=bool(h_ref.stable[i]))
            verified.append(n)
    stable = sorted(n for n in verified if row[n]["stable"])
    rho = _spearman([com[n][0] for n in verified], [row[n]["reference_e_above_hull"] for n in verified])
    return ScreeningResult(stable=stable, table=[row[n] for n, _ in cands], calls=calls,
                           reference_calls=calls[reference.name],
                           exhaustive_reference_calls=len(cands) + len(refs), spearman=rho,
                           failed=failed, cache_hits=hits)
