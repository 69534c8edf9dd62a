# Every target the README and CI use. `make run` and `make test` set up their own virtualenv.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: setup setup-dev system-deps clients run test lint typecheck ci bench bench-fleet clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@ $(VENV)/.runtime

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

system-deps:
	bash scripts/system-deps.sh

## The agent CLIs tests/clients drives (Claude Code, Codex), pinned by tests/clients/node/package-lock.json.
## Installed from npm into that folder only; a no-op while the lock file is unchanged. Needs node and npm.
CLIENTS := tests/clients/node
$(CLIENTS)/node_modules/.installed: $(CLIENTS)/package.json $(CLIENTS)/package-lock.json
	cd $(CLIENTS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

clients: system-deps $(CLIENTS)/node_modules/.installed

## Set up and start the gateway on the embedded SQLite default.
run: setup
	$(BIN)/ollama-gateway serve

## Set up and run the whole test suite.
test: setup-dev system-deps clients
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup-dev
	$(BIN)/ruff check src tests bench docker
	$(BIN)/ruff format --check src tests bench docker

typecheck: setup-dev
	$(BIN)/mypy

ci: lint typecheck test

## Benchmarks measure the interpreter they run on (bench/README.md, "Interpreter"): BENCH_PYTHON picks it, in its
## own virtualenv BENCH_VENV. By default the one `make setup` uses; e.g. `make bench BENCH_PYTHON=/usr/bin/python3
## BENCH_VENV=.venv-bench` for Debian's PGO/LTO build.
BENCH_PYTHON ?= $(PYTHON)
BENCH_VENV ?= $(VENV)

bench:
	$(MAKE) setup-dev VENV=$(BENCH_VENV) PYTHON=$(BENCH_PYTHON)
	$(BENCH_VENV)/bin/python -m bench.run

bench-fleet: setup-dev
	$(BIN)/python -m bench.fleet

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(CLIENTS)/node_modules
