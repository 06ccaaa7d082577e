"""Write tests/slow_tests.txt from the output of `pytest --durations=0` (see tests/conftest.py).

A test is slow when its set-up plus call took at least THRESHOLD seconds (default 0.5). Tests
already listed stay listed unless they ran in the given log, so a partial run cannot drop them.
Usage: python scripts/slow-tests.py DURATIONS_LOG [THRESHOLD]
"""
import re
import sys
from collections import defaultdict
from pathlib import Path

log, threshold = Path(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
out = Path(__file__).resolve().parents[1] / "tests" / "slow_tests.txt"
seconds = defaultdict(float)
for m in re.finditer(r"^(\d+\.\d+)s (setup|call|teardown)\s+(\S+)$", log.read_text(), re.M):
    seconds[m[3]] += float(m[1])
# pytest hides durations under 5 ms: a test absent from the log ran, but fast.
ran = set(seconds) | set(re.findall(r"^(tests/\S+::\S+) (?:PASSED|FAILED)", log.read_text(), re.M))
old = {}
if out.exists():
    for line in out.read_text().splitlines():
        if line.strip() and line[0] != "#":
            name, _, sec = line.partition(" ")
            old[name] = sec.strip()
keep = {n: f"{s:.2f}" for n, s in seconds.items() if s >= threshold}
keep.update({n: s for n, s in old.items() if n not in seconds})
lines = [f"# measured by scripts/slow-tests.py from a full --durations=0 run; threshold {threshold} s"]
lines += [f"{n} {keep[n]}" for n in sorted(keep)]
out.write_text("\n".join(lines) + "\n")
print(f"{len(keep)} slow tests written to {out}")
