# Lumbung: `make up` runs the whole system locally, `make test` runs every test.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := libs/contracts libs/platform services/catalog services/inventory \
            services/orders services/notifications services/dashboard services/books \
            libs/simulator
STAMP := $(VENV)/.installed
TOOLS := .tools/bin/check-jsonschema
ASYNCAPI_CLI := .tools/npm/asyncapi
# `make stack-down NAME=cluster`: the stack of that name (default: dev, or LUMBUNG_STACK_NAME)
STACK_NAME := $(if $(NAME),--name $(NAME),)


.PHONY: install system stack stack-down up demo down test lint format schemas asyncapi clean \
        distclean bench bench-inventory chaos forecast-eval

install: system $(STAMP) $(TOOLS) $(ASYNCAPI_CLI)

system:
	scripts/install-system.sh

$(STAMP): requirements/constraints.txt requirements/dev.txt $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -c requirements/constraints.txt -r requirements/dev.txt \
	  $(foreach p,$(PACKAGES),-e $(p))
	touch $@

# check-jsonschema wants a newer click than faust-streaming allows: its own environment.
$(TOOLS): requirements/tools.txt
	test -x .tools/bin/python || $(PY) -m venv .tools
	.tools/bin/pip install -q -r requirements/tools.txt
	touch $@

# The AsyncAPI CLI from npm (the version in requirements/npm/package.json), which checks
# docs/asyncapi.yaml: in .tools/npm, run by .tools/npm/asyncapi.
$(ASYNCAPI_CLI): requirements/npm/package.json scripts/install-asyncapi.sh
	scripts/install-asyncapi.sh

stack: system $(STAMP)
	$(BIN)/python stack/stack.py up $(STACK_NAME)

stack-down:
	$(BIN)/python stack/stack.py down $(STACK_NAME)

up: system $(STAMP)
	$(BIN)/python stack/stack.py up $(STACK_NAME)
	$(BIN)/python stack/apps.py up $(STACK_NAME)

# Loads the demo catalog again and runs an event day on the running system (`make up`
# does it by itself only while the catalog is empty).
demo: $(STAMP)
	$(BIN)/python stack/apps.py demo $(STACK_NAME)

down:
	-test -x $(BIN)/python && $(BIN)/python stack/apps.py down $(STACK_NAME)
	-test -x $(BIN)/python && $(BIN)/python stack/stack.py down $(STACK_NAME)

test: install
	scripts/test.sh

# `make flaky-check TESTS=path/to/test_x.py::test_name N=20`: runs that selection N times in
# a row on one private broker and Redis and reports every run that failed.
.PHONY: flaky-check
flaky-check: $(STAMP)
	N=$(or $(N),20) scripts/flaky-check.sh $(TESTS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy libs/contracts/src libs/platform/src libs/simulator/src services/*/src

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schemas: $(STAMP)
	$(BIN)/python -m lumbung.contracts.schemas write

# docs/asyncapi.yaml (AsyncAPI 3) from the topic registry and the committed schemas, then
# validated by the AsyncAPI CLI.
asyncapi: schemas $(ASYNCAPI_CLI)
	$(BIN)/python -m lumbung.contracts.asyncapi write
	$(ASYNCAPI_CLI) validate docs/asyncapi.yaml --fail-severity warn

# Stops everything and deletes the stack's data (Kafka's log, the ops key, the logs):
# the next `make up` starts an empty system. The downloads (.venv, Kafka's jars) stay.
clean: down
	-test -x $(BIN)/python && $(BIN)/python stack/stack.py down --wipe $(STACK_NAME)

distclean: clean
	rm -rf $(VENV) .tools .stack

# Long runs, not part of `make test`: benchmark figures go to docs/PERFORMANCE.md.
chaos: install
	LUMBUNG_CHAOS_REPORT_DIR=$(CURDIR)/.stack/chaos-reports LUMBUNG_TEST_MARKERS=chaos \
	  scripts/test.sh -s

bench: install
	scripts/with-stack.sh $(BIN)/python bench/end_to_end.py

# docker-compose.yml for real under Podman (no Docker engine here), not part of `make test`
# (.ci/run runs it after): see docs/operations.md, "Compose under Podman". The main, secure
# and cluster variants in turn; `scripts/compose-test.sh main|secure|cluster` runs one. The
# main one runs scripts/compose_checks.py with .venv.
.PHONY: compose-test
compose-test: $(TOOLS) $(STAMP)
	scripts/compose-test.sh all

# Issue 17: simulated Porprov weeks through the inventory worker's handlers and forecast
# tick, scored against the truth (docs/FORECAST.md). No broker: under 15 minutes.
forecast-eval: $(STAMP)
	$(BIN)/python bench/forecast_eval.py

# The inventory worker alone (POS events straight onto the topic), with its memory.
bench-inventory: install
	scripts/with-stack.sh $(BIN)/python bench/inventory_pipeline.py
