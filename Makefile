# The two commands of the README:
#   make demo   set up .venv/ if needed, then run the main job
#   make test   set up .venv/ if needed, then run the test suite
# Both call scripts/setup-env.sh, which installs exactly the committed lock
# (lock/*.txt) and returns in well under a second when nothing changed.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: env demo test test-fast bench lock clean-env
env:
	@bash scripts/setup-env.sh

# The main job: check the engines, then run the default multiscale story
# (examples/demo/demo.toml, about 3 minutes on 2 cores; cached stages are
# skipped on a second run). The report path and headline numbers come last.
demo: env
	$(VENV)/bin/multiscale doctor
	OMP_WAIT_POLICY=PASSIVE $(VENV)/bin/multiscale run examples/demo/demo.toml

test: env
	$(PY) -m pytest $(PYTEST_ARGS)

# The inner loop: everything not marked slow (under a minute on 2 cores).
test-fast: env
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# Every benchmark, or the named ones: make bench BENCH="pnp_sweep battery"
bench: env
	$(PY) bench/run_all.py $(BENCH)

# Refresh the lock on purpose (newest versions the ranges allow); then
# `make test` must pass before lock/ is committed.
lock: env
	@bash scripts/lock.sh

clean-env:
	rm -rf $(VENV)
