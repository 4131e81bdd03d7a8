# One entry point each: setup, demo (the main job), test, lint, typecheck, bench.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export NEXT_TELEMETRY_DISABLED := 1

.PHONY: setup setup-python setup-web web demo test test-python test-web lint typecheck bench clean

setup: setup-python setup-web

# Stamp files: each step reruns only when its inputs changed, so a no-op `make setup` takes a second.
PY_STAMP := $(VENV)/.brain-agent-installed
WEB_STAMP := web/node_modules/.brain-agent-installed

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(PY_STAMP): pyproject.toml setup.py $(wildcard src/brain_agent/simulation/local/kernels/*.c) | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

setup-python: $(PY_STAMP)

$(WEB_STAMP): $(wildcard web/package.json web/package-lock.json)
	@if [ -f web/package-lock.json ]; then cd web && npm ci --no-audit --no-fund; fi
	@if [ -d web/node_modules ]; then touch $@; fi

setup-web: $(if $(wildcard web/package-lock.json),$(WEB_STAMP))

web: setup-web
	@if [ -f web/package.json ]; then cd web && npm run build; fi

# The main job: fresh store, server + HUD, a live mock batch paced for watching (installs only when
# pyproject.toml changed since the last install).
demo: setup-python
	@if [ -f web/package.json ] && [ ! -f web/out/index.html ]; then $(MAKE) web; fi
	$(BIN)/brain-agent demo

# Front-end unit tests first, then every Python test (the browser tests among them drive the built HUD).
test: setup
	@if [ -f web/package.json ] && [ ! -f web/out/index.html ]; then $(MAKE) web; fi
	@if [ -f web/package.json ]; then cd web && npm test; fi
	$(BIN)/python -m pytest

test-python:
	$(BIN)/python -m pytest

lint:
	$(BIN)/ruff check src tests benchmarks setup.py
	$(BIN)/ruff format --check src tests benchmarks setup.py
	$(BIN)/mypy

typecheck:
	$(BIN)/mypy

bench:
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) web/node_modules web/out web/.next
