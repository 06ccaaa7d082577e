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

# One pytest worker per core (pytest-xdist), a whole test file per worker so that a
# module's expensive fixture is built once; one OpenMP/torch thread per worker so the
# workers do not fight over the cores. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto
XDIST := -n $(PYTEST_WORKERS) --dist loadfile
test: env
	OMP_NUM_THREADS=1 $(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

# The inner loop: everything not marked slow (under a minute on 2 cores).
test-fast: env
	OMP_NUM_THREADS=1 $(PY) -m pytest -m "not slow" $(XDIST) $(PYTEST_ARGS)

# Every benchmark, or the named ones: make bench BENCH="pnp_sweep battery"
bench: env
	$(PY) bench/run_all.py $(BENCH)

# Refresh the lock on purpose (newest versions the ranges allow); then
# `make test` must pass before lock/ is committed.
lock: env
	@bash scripts/lock.sh

clean-env:
	rm -rf $(VENV)
