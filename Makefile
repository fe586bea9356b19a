# Thin: every target calls the servingmatrix CLI (or pytest); each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SM := $(BIN)/servingmatrix
PROFILE ?= default

.PHONY: matrix images test unit lint venv clean lock generate tools

# The virtual environment is rebuilt when pyproject.toml changes.
$(BIN)/servingmatrix: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

venv: $(SM)

images: $(SM)
	$(SM) build

matrix: images
	$(SM) run --profile $(PROFILE)

# The browser test opens a report in Debian's chromium: installed here (as root with apt-get), never by the test.
tools: $(SM)
	$(SM) tools

# Unit tests need nothing; integration tests build the images they use (no-op when up to date).
test: $(SM) tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(SM) generate --check
	$(BIN)/pytest

unit: $(SM)
	$(BIN)/pytest tests/unit

lint: $(SM)
	$(BIN)/ruff check .
	$(BIN)/mypy

lock: $(SM)
	$(SM) lock

generate: $(SM)
	$(SM) generate

clean: $(SM)
	$(SM) clean
