"""`make bench`: run every bench/ script, or the named ones, one after another.

Each script writes its own BENCHMARKS.md section. This runner adds a section "bench-runs"
listing each script it ran with its exit status and wall time, so a script that failed says so
there instead of leaving its old section looking current.

Usage: .venv/bin/python bench/run_all.py [NAME ...]     (NAME: a script's name without .py)
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from bench._record import markdown_table, record  # noqa: E402


def main(names):
    scripts = sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_") and p.stem != "run_all")
    unknown = sorted(set(names) - set(scripts))
    if unknown:
        sys.exit(f"bench: unknown benchmark(s) {', '.join(unknown)}; expected some of: {', '.join(scripts)}")
    rows = []
    for name in names or scripts:
        t0 = time.time()
        rc = subprocess.call([sys.executable, str(HERE / f"{name}.py")], cwd=HERE.parent)
        rows.append([name, "ok" if rc == 0 else f"FAILED (exit {rc}): its section is stale",
                     f"{(time.time() - t0) / 60:.1f}"])
        print(f"[bench] {name}: {rows[-1][1]} in {rows[-1][2]} min", flush=True)
    record("bench-runs", "make bench" + (f" BENCH=\"{' '.join(names)}\"" if names else ""),
           markdown_table(["script", "result", "wall (min)"], rows))
    return 1 if any(r[1] != "ok" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
