# The two commands of the README:
#   make demo   set up .venv/ if needed, then run the main job
#   make test   set up .venv/ if needed, then run the test suite
# Both call scripts/setup-env.sh, which returns at once when nothing changed.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: env demo test bench clean-env
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

clean-env:
	rm -rf $(VENV)
