# Addon Partner: `make run` starts the gateway, `make test` runs lint and the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
# VENV: where the virtualenv lives (default .venv in this checkout; another checkout may share one)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# the suite's parallel workers (each has its own test database and Redis database)
TEST_WORKERS ?= 2
METRICS_DIR := $(CURDIR)/var/prometheus
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup services tools venv migrate demo run reset-demo test fuzz lint format openapi audit test-outages bench dist clean

help:
	@echo "make run    set up, migrate, seed a demo and start web + worker + beat + relay on :$(PORT) (Ctrl-C stops)"
	@echo "make reset-demo  drop this checkout's demo database, Redis database and credentials"
	@echo "make test   set up, lint, and run the whole suite (reports/ gets junit.xml and coverage.xml)"
	@echo "make fuzz   longer schema fuzzing of the partner API and the hostile-input matrix (FUZZ_EXAMPLES=$(FUZZ_EXAMPLES))"
	@echo "make lint   ruff check, ruff format --check, mypy"
	@echo "make openapi  regenerate docs/openapi.yaml, the partner API's schema (a test keeps it equal)"
	@echo "make audit  known vulnerabilities in the pinned requirements (pip-audit; fails if it cannot audit)"
	@echo "make bench  benchmarks P1..P10 of docs/performance.md (BENCH=P1,P5 for a subset; a quiet machine)"
	@echo "make dist   the release artifact dist/addon-partner-<version>-<commit>.tar.gz (deploy/deploy.sh installs it)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# PostgreSQL and Redis up, and this checkout's own database (.demo/checkout.env, written once)
services:
	@scripts/services.sh

# System tools the deployment and monitoring tests run for real (sshd, promtool, prometheus,
# systemd-analyze, node + npm-groovy-lint); each is installed only when missing.
tools:
	@scripts/install-tools.sh

setup: venv services tools

migrate: setup
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py seed_demo --base-url http://127.0.0.1:$(PORT)

run: demo
	@rm -rf $(METRICS_DIR) && mkdir -p var $(METRICS_DIR)
	@echo ""
	@echo "  Addon Partner on http://127.0.0.1:$(PORT)"
	@echo "  API docs     http://127.0.0.1:$(PORT)/api/docs/   (Redoc: /api/redoc/, staff login)"
	@echo "  Admin        http://127.0.0.1:$(PORT)/admin/"
	@echo "  Metrics      http://127.0.0.1:$(PORT)/metrics"
	@echo "  Health       http://127.0.0.1:$(PORT)/health/ready"
	@echo "  Credentials  .demo/credentials.json"
	@echo ""
	@echo "  Stop         Ctrl-C        Reset   make reset-demo"
	@echo ""
	@PORT=$(PORT) PUBLIC_BASE_URL=http://127.0.0.1:$(PORT) PROMETHEUS_MULTIPROC_DIR=$(METRICS_DIR) VENV=$(VENV) \
		scripts/run.sh

# Stop `make run` first (Ctrl-C). The next `make run` starts from an empty demo.
reset-demo:
	@scripts/reset_demo.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# docs/openapi.yaml: what partners read; tests/core/test_openapi.py fails when it lags behind the code.
openapi: venv
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

# Known vulnerabilities in the pinned requirements (pip-audit). Needs a package index serving
# advisories; without one it says it could not audit and fails. Not part of `make test`.
audit: venv
	@scripts/audit.sh

# The fault tests with peers down for a minute (issue 17); `make test` runs them with a few seconds.
test-outages: setup
	DJANGO_ENV=test $(BIN)/pytest tests/faults --outage-seconds=60

test: setup lint
	@mkdir -p reports
	# --create-db: never trust a test database another checkout or session left behind
	# -n: the suite's workers (pytest-xdist); a test file stays on one worker (--dist loadfile)
	DJANGO_ENV=test $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --create-db --junitxml=reports/junit.xml \
		--cov --cov-report=xml:reports/coverage.xml --cov-report=term:skip-covered

# The schema fuzzing of tests/fuzz/ with FUZZ_EXAMPLES examples per operation and generation mode
# (make test runs 3) and the hostile-input matrix; derandomized, so a failure reproduces. Not part of make test.
FUZZ_EXAMPLES ?= 60
fuzz: venv services
	DJANGO_ENV=test FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest --create-db -q --durations=5 tests/fuzz

# Benchmarks run against their own database (created afresh), never the demo's: every figure of
# docs/performance.md (P1..P10, then the other bench modules) with its reference measured in the
# same run; a table at the end and bench/results/latest.json. `BENCH=P1,P5 make bench`: a subset.
# Run it on a quiet machine (about 25 minutes, P10's soak 10 of them). The local server gets
# autovacuum on, as production's PostgreSQL runs (a machine's configuration may switch it off:
# the soak's hot account row and the idempotency table then only grow dead rows).
BENCH_DB := postgres://postgres@127.0.0.1:5432/addon_partner_bench
bench: setup
	@dropdb -h 127.0.0.1 -U postgres --if-exists addon_partner_bench && scripts/services.sh addon_partner_bench
	@psql -h 127.0.0.1 -U postgres -qAt -c "ALTER SYSTEM SET autovacuum = on" -c "SELECT pg_reload_conf()" >/dev/null
	DJANGO_ENV=test DATABASE_URL=$(BENCH_DB) $(BIN)/python manage.py migrate --no-input -v0
	DJANGO_ENV=test DATABASE_URL=$(BENCH_DB) $(BIN)/python -m bench $(BENCH)

dist: venv
	@scripts/dist.sh

clean:
	rm -rf $(VENV) reports var dist .pytest_cache .mypy_cache .ruff_cache
