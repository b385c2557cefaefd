# The README's two commands: `make run` (the demo on embedded defaults) and `make test` (the whole suite).
# Both create and reuse one virtual environment in .venv; pyproject.toml changes trigger a reinstall.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: setup run test lint typecheck unit bench clean

# What running needs: herald and its dependencies, nothing of the test and lint tools.
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $(RUN_STAMP)

# What testing needs besides: pytest, mypy, ruff, playwright and the rest of `.[dev]`.
$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(DEV_STAMP)

setup: $(DEV_STAMP)

run: $(RUN_STAMP)
	$(BIN)/herald demo run

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports  # the layers, a pure domain, no import cycles (pyproject.toml)

typecheck: setup
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -q -n 4 --dist loadgroup --durations=15

bench: setup
	$(BIN)/python bench/materialize.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
