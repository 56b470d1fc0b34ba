# Exception Playbooks: every command sets itself up (.venv, dependencies, Chromium) on first run.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 3000
SEED_DEMO ?= 1
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: dev dev-reset test lint bench synth deploy openapi chromium clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	@touch $(STAMP)

# Debian's Chromium for the UI tests; Playwright never downloads a browser here.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "chromium missing: run 'sudo apt-get install -y chromium'"; exit 1; fi; \
	fi

dev: $(STAMP)
	PORT=$(PORT) SEED_DEMO=$(SEED_DEMO) $(PY) -m local.server

dev-reset:
	rm -rf .local

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/common functions local infra

test: $(STAMP) chromium lint
	$(PY) -m pytest --cov --cov-report=xml:coverage.xml --cov-report= -p no:cacheprovider
	@$(PY) -m coverage report --include='layers/common/*' --format=total \
	  | xargs -I{} echo "Domain core (layers/common) line coverage: {}%"

bench: $(STAMP)
	$(PY) -m tests.benchmarks.run

synth: $(STAMP)
	cd infra && ../$(PY) app.py

deploy: $(STAMP)
	cd infra && npx --yes aws-cdk@2 deploy --app "../$(PY) app.py" --require-approval never

openapi: $(STAMP)
	$(PY) -m local.openapi --write

clean:
	rm -rf cdk.out coverage.xml .coverage build
