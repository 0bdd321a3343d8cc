# Three commands matter: `make demo` (offline main job), `make test` (the full suite, what CI
# runs) and `make check` (the fast inner loop: lint, types, unit tests without slow/integration).
# Each creates .venv with the Python found as $(PYTHON) and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export LANGSMITH_TRACING ?= false
export LANGGRAPH_CLI_NO_ANALYTICS ?= 1
export LANGGRAPH_NO_VERSION_CHECK ?= true

.PHONY: demo test check lint typecheck unit fast bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: $(VENV)/.installed-dev
	$(BIN)/llmcompiler-graph demo

bench: $(VENV)/.installed-dev
	$(BIN)/llmcompiler-graph bench

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy llmcompiler_graph

unit: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

# Fewer fuzz examples than `make test` (300): the inner loop stays under a minute.
fast: $(VENV)/.installed-dev
	LLMCOMPILER_FUZZ_EXAMPLES=$${LLMCOMPILER_FUZZ_EXAMPLES:-40} $(BIN)/python -m pytest -q -m "not slow and not integration"

check: lint typecheck fast

test: lint typecheck unit

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache bench-results
