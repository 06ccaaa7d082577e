"""Suite-wide settings: which tests are ``slow`` is measured, not guessed.

``tests/slow_tests.txt`` lists every test whose set-up plus call took 0.5 s or more in a full
``pytest --durations=0`` run on the 2-core CI machine (the seconds are kept beside each name).
``make test-fast`` (``pytest -m "not slow"``) runs the rest in under a minute. Refresh the list
after adding tests:  .venv/bin/python -m pytest --durations=0 | tee /tmp/d.log;
.venv/bin/python scripts/slow-tests.py /tmp/d.log
then once or twice more on the fast tier's own log (``-m "not slow" --durations=0``): a module
fixture's set-up is timed on the first test that uses it, so when that test is marked slow the cost
moves to the next one, and only a run of the fast tier shows it.
"""
from pathlib import Path

import pytest

_SLOW = Path(__file__).with_name("slow_tests.txt")


def pytest_collection_modifyitems(config, items):
    if not _SLOW.exists():
        return
    slow = {line.split()[0] for line in _SLOW.read_text().splitlines() if line.strip() and line[0] != "#"}
    for item in items:
        if item.nodeid in slow:
            item.add_marker(pytest.mark.slow)
