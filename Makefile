# The two commands of the README:
#   make demo   set up .venv/ if needed, then run the main job
#   make test   set up .venv/ if needed, then run the test suite
# Both call scripts/setup-env.sh, which returns at once when nothing changed.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: env demo test bench clean-env
env:
	@bash scripts/setup-env.sh

demo: env
	$(VENV)/bin/multiscale doctor
	$(PY) examples/h2_bond_length.py

test: env
	$(PY) -m pytest $(PYTEST_ARGS)

clean-env:
	rm -rf $(VENV)
