# papertape — `make run` serves the platform, `make test` runs everything. Both install first.
SHELL := /bin/bash
.DEFAULT_GOAL := run

VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.8
INSTALLED := $(VENV)/.installed
WEB_DEPS := web/node_modules/.package-lock.json
WEB_BUILT := web/dist/index.html
WEB_SOURCES := $(shell find web/src web/index.html web/vite.config.* web/tsconfig*.json -type f 2>/dev/null)
PORT ?= 8080
STORE ?= sqlite:///./var/papertape.db
QUESTDB_ROOT ?= var/questdb

.PHONY: install run test lint test-python test-web questdb questdb-stop questdb-jar chromium bench clean

install: $(INSTALLED) $(if $(wildcard web/package.json),$(WEB_BUILT))

$(INSTALLED): pyproject.toml uv.lock
	@test -x $(PY) || python3 -m venv $(VENV)
	@test -x $(UV) || { $(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --upgrade; \
		$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION); }
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --quiet
	@touch $@

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

$(WEB_BUILT): $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run build

run: install
	$(VENV)/bin/papertape serve --host 127.0.0.1 --port $(PORT) --store $(STORE)

questdb-jar: $(INSTALLED)
	$(PY) -m papertape.devtools.questdb_server fetch

chromium:
	bash tools/ensure_chromium.sh

test: install questdb-jar chromium
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-web
	$(MAKE) --no-print-directory test-python

# the rules as code: formatting, lint, types, and the import contract (the layers in pyproject.toml);
# for the dashboard ESLint, tsc and the drift check of the generated API types
lint: $(INSTALLED) $(if $(wildcard web/package.json),$(WEB_DEPS))
	$(VENV)/bin/ruff format --check papertape tests bench tools
	$(VENV)/bin/ruff check papertape tests bench tools
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	@if [ -f web/package.json ]; then cd web && npm run --silent lint && npm run --silent check:api; fi

test-web:
	@if [ -f web/package.json ]; then cd web && npm test; fi

# the tests wait on servers, browsers and subprocesses much of the time: two workers share the
# machine's cores (each test module runs whole in one worker; see tests/conftest.py)
TEST_WORKERS ?= 2
test-python: $(INSTALLED)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=25

questdb: questdb-jar
	$(PY) -m papertape.devtools.questdb_server start --root $(QUESTDB_ROOT)

questdb-stop: $(INSTALLED)
	$(PY) -m papertape.devtools.questdb_server stop --root $(QUESTDB_ROOT)

bench: install questdb-jar
	$(PY) -m bench

clean:
	rm -rf $(VENV) web/node_modules web/dist .pytest_cache .hypothesis
