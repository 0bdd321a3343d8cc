# Three commands matter: `make demo` (offline main job), `make test` (the full suite, what CI
# runs) and `make check` (the fast inner loop: lint, types, unit tests without slow/integration).
# Each creates .venv with the Python found as $(PYTHON) and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export LANGSMITH_TRACING ?= false
export LANGGRAPH_CLI_NO_ANALYTICS ?= 1
export LANGGRAPH_NO_VERSION_CHECK ?= true
export NO_MKDOCS_2_WARNING ?= 1

.PHONY: demo test check lint typecheck unit fast docs bench bench-limits bench-journal bench-cache clean

$(BIN)/python:
	@echo ">> Creating $(VENV) with $(PYTHON) and upgrading pip in it"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# What `demo` and `bench` need: the package and its `bench` extra (langchain, matplotlib, tqdm).
$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	@echo ">> Installing llmcompiler-graph[bench] into $(VENV) (first run only; pip shows its progress)"
	$(BIN)/python -m pip install --progress-bar on -e ".[bench]"
	touch $@

# Everything for the tests: the bench and docs extras plus pytest, linters, notebooks, the
# langgraph CLI.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	@echo ">> Installing llmcompiler-graph[dev] into $(VENV) (first run only, about 1-2 min, quiet)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-bench

# The benchmark suite lives in benchmarks/ (not installed): run it from the repository's root.
demo: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks demo

bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks bench --out benchmarks/results

# Regenerates benchmarks/results/limits: per-tool limits, critical path, fusion, dispatch.
bench-limits: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks limits --out benchmarks/results/limits

# An 8,000-line plan with no checkpointer, an in-memory one and SQLite (a simulation): the
# crash journal's cost; exits 1 if a run with a checkpointer takes over 2x the run without.
bench-journal: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.journal --lines 8000 --out benchmarks/results
# Regenerates benchmarks/results/cache and cache-vllm: every approach with and without a
# simulated provider prompt cache (OpenAI's rules, then a self-hosted server's).
bench-cache: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks cache --out benchmarks/results/cache
	$(BIN)/python -m benchmarks cache --rules vllm --out benchmarks/results/cache-vllm

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy llmcompiler_graph benchmarks

unit: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -rs

# Fewer fuzz examples than `make test` (300), on both cores (pytest-xdist, 2 workers): the
# inner loop stays around a minute. `make test` (CI) runs serially.
fast: $(VENV)/.installed-dev
	LLMCOMPILER_FUZZ_EXAMPLES=$${LLMCOMPILER_FUZZ_EXAMPLES:-40} $(BIN)/python -m pytest -q -n 2 -m "not slow and not integration"

# The documentation site, into site/ (strict: a broken link or reference fails). `make test`
# builds it too, in tests/test_docs_site.py, which also checks what the pages show.
docs: $(VENV)/.installed-dev
	$(BIN)/mkdocs build --strict

check: lint typecheck fast

test: lint typecheck unit

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache bench-results site .cache
