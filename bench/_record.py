"""Write one benchmark's table into BENCHMARKS.md, replacing its previous section.

Every bench/ script ends with ``record(name, command, table_markdown)``. Each
benchmark owns the section between ``<!-- bench:NAME -->`` and
``<!-- /bench:NAME -->``; other sections are left alone. The file is
rewritten atomically (temp file + rename) under a lock, so two benchmarks
finishing at once cannot corrupt it.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import os
import platform
import re
import subprocess
import time
from pathlib import Path

_STARTED = time.time()   # bench scripts import this module first: wall time is measured from here
_LOAD_START = os.getloadavg()[0]   # other work on the machine: a timing's context


def _head():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                              cwd=Path(__file__).resolve().parents[1], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


# the code a run imported is the commit it started at: a commit made while it ran (a long
# benchmark on a shared machine) is named as well, not silently taken for the run's
_HEAD_START = _head()
_ENGINES = ("numpy", "scipy", "ase", "torch", "gpaw", "dolfinx-solver-real", "petsc4py", "pybamm")

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
HEADER = ("# Benchmarks\n\nMeasured tables, one section per `bench/` script; each section "
          "says the command that produced it. Machine: see each section.\n")


def machine() -> str:
    return f"{platform.node() or 'host'}: {os.cpu_count()} cores, {platform.processor() or platform.machine()}"


def provenance() -> str:
    """Commit (with '+dirty' for uncommitted changes), and the versions of the engines installed."""
    from importlib import metadata
    root = BENCHMARKS.parent
    try:
        commit = _head()
        if commit is None:
            raise OSError("git rev-parse failed")
        # BENCHMARKS.md itself does not count: an earlier section of the same `make bench` run
        # has just rewritten it.
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":!BENCHMARKS.md"], cwd=root, capture_output=True, text=True).stdout
        if dirty.strip():   # say which files differ from the commit, so a reader can judge what it means
            paths = [line[3:] for line in dirty.splitlines() if line.strip()]
            folders = sorted({p if "/" not in p else p.rsplit("/", 1)[0] + "/" for p in paths})
            commit += "+dirty (" + ", ".join(folders[:4]) + (", ..." if len(folders) > 4 else "") + ")"
        if _HEAD_START and not commit.startswith(_HEAD_START):
            commit += f" (the run started at {_HEAD_START})"
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    versions = []
    for name in _ENGINES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return f"Commit: {commit}  \nVersions: " + ", ".join(versions)


def record(name: str, command: str, body: str) -> None:
    """Replace (or append) the section ``name`` of BENCHMARKS.md with ``body``, with its provenance."""
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    wall = time.time() - _STARTED
    load_end, cores = os.getloadavg()[0], os.cpu_count() or 1
    # says which it was: a load above the core count means other jobs shared the machine
    busy = (f"above the {cores} cores: other jobs shared the machine, timings are slower"
            if max(_LOAD_START, load_end) > cores else f"within the {cores} cores")
    section = (f"<!-- bench:{name} -->\n## {name}\n\n"
               f"Command: `{command}`  \nMeasured: {stamp}, {machine()}, wall {wall / 60:.1f} min, "
               f"load average {_LOAD_START:.1f} at the start and {load_end:.1f} at the end "
               f"(1 min; {busy})  \n"
               f"{provenance()}\n\n"
               f"{body.rstrip()}\n<!-- /bench:{name} -->\n")
    # The flock file lives beside the bench scripts' outputs, not at the root, where a "*.lock"
    # reads as an environment lock file.
    flock = BENCHMARKS.parent / "bench" / "out" / ".BENCHMARKS.flock"
    flock.parent.mkdir(parents=True, exist_ok=True)
    with open(flock, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
        pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->\n",
                             re.S)
        text = pattern.sub(lambda _m: section, text) if pattern.search(text) else (
            text.rstrip() + "\n\n" + section)
        from foundation.files import write_text   # bench scripts put the repo root on sys.path first

        write_text(BENCHMARKS, text)


def markdown_table(headers: list[str], rows: list[list]) -> str:
    """A GitHub-flavoured Markdown table from headers and rows of values."""
    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
