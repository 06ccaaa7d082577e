"""Pipelines: a run is an ordered graph of stages, cached in a run directory.

Run directory layout::

    OUT/
      .lock                 held while a run is in progress (a second run refuses)
      run.json              the validated config and the run's provenance
      stages/NAME/          one complete stage: its files + stage.json
      stages/NAME.partial/  a stage in progress or interrupted (INCOMPLETE and .stage-key inside)
      results.json, report.md

Each stage's cache key hashes its kind, its parameters, the content of files
its parameters name, the keys of the stages it needs, the package version and
the source of the code the stage runs (its module and every toolkit module it
imports, see :mod:`multiscale.code_digest`): edit a stage's code and it re-runs.
A stage whose ``stage.json`` carries the same key is skipped; anything
upstream that changed re-runs everything downstream of it. A stage is built in
``NAME.partial/`` and renamed into place only when it finished, so an
interrupted run (Ctrl-C, SIGTERM, a crash) never leaves a stage that looks
complete. The next run resumes from there: a partial stage whose key is the
same (same inputs, same code) is kept, so the stage finds its own checkpoints
(finished committee members and epochs, labelled frames, MD checkpoints written with
:meth:`StageContext.save_checkpoint`) and continues, with ``ctx.resumed`` set; one with
another key is removed and the stage starts over.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import gc
import hashlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from foundation.files import write_json, write_text

from .code_digest import code_digest
from .config import STAGE_KINDS, RunConfig, resolve_path
from .errors import RunLockedError, StageFailed
from .provenance import provenance
from .ranks import world as mpi_world

__all__ = ["StageContext", "StageRecord", "run_pipeline", "stage_key"]


@dataclasses.dataclass
class StageContext:
    """What a stage function gets: its parameters, its folder, its inputs."""

    name: str
    params: Any  # the stage's validated pydantic model
    dir: Path  # write outputs here (the stage's .partial folder while it runs)
    inputs: dict[str, dict]  # results of the stages it needs, by name
    input_dirs: dict[str, Path]  # their folders
    config: RunConfig
    executor: Any  # foundation.executor.Executor: ctx.executor.map(func, items)
    progress: Callable[[str], None]  # one-line status updates
    seed: int
    resumed: bool = False  # dir holds the files of an interrupted attempt with the same key
    key: str = ""  # the stage's cache key; checkpoints carry it

    def save_checkpoint(self, meta: dict, arrays: dict | None = None,
                        name: str = "checkpoint.npz") -> None:
        """Commit a long stage's progress to ``dir/name`` atomically: ``meta`` (JSON-able) and
        ``arrays`` (numpy, stored exactly), stamped with the stage's key. A run killed later
        resumes from the last one (:meth:`load_checkpoint`). Rank 0 alone writes."""
        import numpy as np

        from foundation.files import atomic_path, jsonable

        if not mpi_world().root:
            return
        text = json.dumps(jsonable({**meta, "stage_key": self.key}))
        blob = np.frombuffer(text.encode(), np.uint8)
        with atomic_path(self.dir / name) as tmp:
            np.savez(tmp, _meta=blob, **(arrays or {}))

    def load_checkpoint(self, name: str = "checkpoint.npz") -> tuple[dict, dict] | None:
        """``(meta, arrays)`` of the last :meth:`save_checkpoint` of an interrupted attempt with
        this stage's key, the same on every rank (rank 0 reads, the others get its copy);
        None when there is none (or it was made with other inputs: never resumed)."""
        import zipfile

        import numpy as np

        found = None
        world = mpi_world()
        if world.root and (self.dir / name).is_file():
            try:
                with np.load(self.dir / name, allow_pickle=False) as z:
                    meta = json.loads(z["_meta"].tobytes())
                    arrays = {k: z[k] for k in z.files if k != "_meta"}
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                meta, arrays = {}, {}
            if meta.get("stage_key") == self.key:
                found = (meta, arrays)
        return world.bcast(found)

    def resolve(self, value: str | Path) -> Path:
        """A path from the config, relative to the config's folder."""
        return resolve_path(self.config, value)


@dataclasses.dataclass
class StageRecord:
    name: str
    status: str  # "ran" | "cached"
    seconds: float
    results: dict
    dir: Path


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _params_with_file_hashes(cfg: RunConfig, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _params_with_file_hashes(cfg, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_params_with_file_hashes(cfg, v) for v in value]
    if isinstance(value, str) and value and len(value) < 4096:
        try:
            p = resolve_path(cfg, value)
            if p.is_file():
                return {"path": value, "sha256": _file_digest(p)}
        except (OSError, ValueError):
            pass
    return value


def stage_key(cfg: RunConfig, name: str, upstream_keys: dict[str, str], code_version: str) -> str:
    """The cache key of one stage (hex sha256). ``code_version``: the package version and the
    digest of the stage's code (``run_pipeline`` passes both)."""
    # allow_large only lifts a size guard: raising it must not throw away a cached stage
    params = cfg.stage[name].model_dump(mode="json", exclude={"allow_large"})
    blob = json.dumps({"params": _params_with_file_hashes(cfg, params),
                       "upstream": upstream_keys, "code": code_version, "seed": cfg.run.seed},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _same_key(path: Path, key: str) -> bool:
    try:
        return path.read_text().strip() == key
    except (OSError, UnicodeDecodeError):
        return False


@contextlib.contextmanager
def _run_lock(out: Path) -> Iterator[None]:
    out.mkdir(parents=True, exist_ok=True)
    fh = open(out / ".lock", "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "?"
        fh.close()
        raise RunLockedError(f"{out}: another multiscale run (pid {holder}) is using this output "
                             "directory; wait for it to finish or choose another --out") from None
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so partial stages are marked on the way out."""
    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_pipeline(cfg: RunConfig, out: Path, executor=None, progress: Callable[[str], None] | None = None,
                 only: list[str] | None = None) -> list[StageRecord]:
    """Run (or resume) every stage of ``cfg`` into ``out``; returns one record per stage.

    ``only`` limits the run to the named stages and what they need.

    Under ``mpirun -n N`` every rank runs every stage (collective solves need
    all ranks); rank 0 alone holds the lock, decides what is cached and writes
    the run directory, the others work in scratch folders (see
    :mod:`multiscale.ranks`).
    """
    from . import __version__
    from foundation.executor import Executor

    out = Path(out)
    say = progress or (lambda msg: None)
    executor = executor or Executor(workers=1)
    wanted = _closure(cfg, only) if only else list(cfg.stage)
    records: list[StageRecord] = []
    ranks = mpi_world()
    lock = _run_lock(out) if ranks.root else contextlib.nullcontext()
    with lock, _sigterm_as_interrupt():
        stages_dir = out / "stages"
        if ranks.root:
            write_json(out / "run.json", {"config": cfg.model_dump(mode="json"),
                                          "config_file": str(cfg.source) if cfg.source else None,
                                          "provenance": provenance(cfg)})
            stages_dir.mkdir(exist_ok=True)
        ranks.barrier()
        keys: dict[str, str] = {}
        results: dict[str, dict] = {}
        code: dict[str, str] = {}    # stage kind -> version and digest of the code it runs
        for name in wanted:
            params = cfg.stage[name]
            if params.kind not in code:
                code[params.kind] = f"{__version__}+{code_digest(STAGE_KINDS[params.kind][1].__module__)}"
            keys[name] = stage_key(cfg, name, {n: keys[n] for n in params.needs}, code[params.kind])
            final = stages_dir / name
            cached = ranks.bcast(_cached_results(final / "stage.json", keys[name]) if ranks.root else None)
            if cached is not None:
                results[name] = cached["results"]
                records.append(StageRecord(name, "cached", cached.get("seconds", 0.0),
                                           cached["results"], final))
                say(f"{name}: up to date (cached)")
                continue
            if ranks.root:
                partial = stages_dir / f"{name}.partial"
                resumed = _same_key(partial / ".stage-key", keys[name])
                if resumed:
                    say(f"{name}: resuming an interrupted attempt (its files in {partial.name} are kept)")
                else:
                    shutil.rmtree(partial, ignore_errors=True)
                    partial.mkdir()
                    write_text(partial / ".stage-key", keys[name] + "\n")
                (partial / "INCOMPLETE").write_text(
                    "this stage did not finish; the next run with the same inputs resumes it\n")
            else:  # this rank's copies of the stage's files are scratch
                partial = Path(tempfile.mkdtemp(prefix=f"{name}.rank{ranks.rank}.", dir=stages_dir))
                resumed = False
            resumed = ranks.bcast(resumed if ranks.root else None)
            ctx = StageContext(name=name, params=params, dir=partial,
                               inputs={n: results[n] for n in params.needs},
                               input_dirs={n: stages_dir / n for n in params.needs},
                               config=cfg, executor=executor, progress=lambda m, n=name: say(f"{n}: {m}"),
                               seed=cfg.run.seed, resumed=resumed, key=keys[name])
            _, func = STAGE_KINDS[params.kind]
            say(f"{name}: running ({params.kind})")
            t0 = time.perf_counter()
            try:
                res = func(ctx) or {}
            except KeyboardInterrupt:
                if ranks.root:
                    (partial / "INCOMPLETE").write_text("interrupted; the next run with the same inputs "
                                                        "resumes this stage\n")
                raise
            except Exception as exc:
                if ranks.root:
                    (partial / "INCOMPLETE").write_text(f"failed: {type(exc).__name__}: {exc}\n")
                raise StageFailed(f"stage {name!r} ({params.kind}) failed: "
                                  f"{type(exc).__name__}: {exc}") from exc
            finally:
                if not ranks.root:
                    shutil.rmtree(partial, ignore_errors=True)
                # Engines' objects (PETSc solvers, dolfinx problems) are destroyed collectively:
                # left to the garbage collector, rank 0 may free one inside its rank-0-only
                # bookkeeping below while the others wait at the barrier, and the run deadlocks.
                # Collect here, at the same point on every rank.
                if ranks.size > 1:
                    gc.collect()
            seconds = time.perf_counter() - t0
            res = json.loads(json.dumps(res, default=_jsonable))
            if ranks.root:
                (partial / "INCOMPLETE").unlink()
                (partial / ".stage-key").unlink()
                write_json(partial / "stage.json", {
                    "status": "complete", "key": keys[name], "kind": params.kind,
                    "seconds": seconds, "results": res, "provenance": provenance(cfg)})
                shutil.rmtree(final, ignore_errors=True)
                os.replace(partial, final)
            ranks.barrier()  # downstream stages on every rank read the finished folder
            results[name] = res
            records.append(StageRecord(name, "ran", seconds, res, final))
            say(f"{name}: done in {seconds:.1f} s")
    return records


def _cached_results(record_file: Path, key: str) -> dict | None:
    """The stage record at ``record_file`` if it is complete and has ``key``."""
    if not record_file.is_file():
        return None
    try:      # written atomically: a bad record was damaged outside the run, so redo the stage
        rec = json.loads(record_file.read_bytes().decode("utf-8"))
    except (ValueError, OSError):
        return None
    if isinstance(rec, dict) and rec.get("key") == key and rec.get("status") == "complete":
        return rec
    return None


def _closure(cfg: RunConfig, only: list[str]) -> list[str]:
    unknown = [n for n in only if n not in cfg.stage]
    if unknown:
        raise StageFailed(f"no stage(s) named {unknown} in the config (have {list(cfg.stage)})")
    need: set[str] = set()
    todo = list(only)
    while todo:
        n = todo.pop()
        if n not in need:
            need.add(n)
            todo.extend(cfg.stage[n].needs)
    return [n for n in cfg.stage if n in need]


def _jsonable(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"stage result of type {type(value).__name__} is not JSON-serialisable")
