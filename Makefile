# The README's two commands: `make run` (the demo on embedded defaults) and `make test` (the whole suite).
# Both create and reuse one virtual environment in .venv; pyproject.toml changes trigger a reinstall.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/herald demo run

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports  # the layers, a pure domain, no import cycles (pyproject.toml)

typecheck: setup
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -q -n 2 --dist loadgroup

bench: setup
	$(BIN)/python bench/materialize.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
