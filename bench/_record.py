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
import tempfile
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
HEADER = ("# Benchmarks\n\nMeasured tables, one section per `bench/` script; each section "
          "says the command that produced it. Machine: see each section.\n")


def machine() -> str:
    return f"{platform.node() or 'host'}: {os.cpu_count()} cores, {platform.processor() or platform.machine()}"


def record(name: str, command: str, body: str) -> None:
    """Replace (or append) the section ``name`` of BENCHMARKS.md with ``body``."""
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    section = (f"<!-- bench:{name} -->\n## {name}\n\n"
               f"Command: `{command}`  \nMeasured: {stamp}, {machine()}\n\n"
               f"{body.rstrip()}\n<!-- /bench:{name} -->\n")
    with open(BENCHMARKS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
        pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->\n",
                             re.S)
        text = pattern.sub(lambda _m: section, text) if pattern.search(text) else (
            text.rstrip() + "\n\n" + section)
        fd, tmp = tempfile.mkstemp(dir=BENCHMARKS.parent, prefix=".BENCHMARKS.")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, BENCHMARKS)


def markdown_table(headers: list[str], rows: list[list]) -> str:
    """A GitHub-flavoured Markdown table from headers and rows of values."""
    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
