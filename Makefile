# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_SERVICES ?= 40
# Test processes (pytest-xdist): `make test TEST_WORKERS=0` runs the suite in this one.
TEST_WORKERS ?= 2
# The example plugins are installed beside the API, so their entry points load and
# `make test` runs their tests with the rest.
EXAMPLE_PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))

.PHONY: install run test lint schema migrate clean

$(INSTALLED): pyproject.toml $(addsuffix pyproject.toml,$(EXAMPLE_PLUGINS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]' $(addprefix -e ,$(EXAMPLE_PLUGINS))
	touch $(INSTALLED)

install: $(INSTALLED)

## Run the API on the embedded SQLite database with demo data, printing tokens.
run: $(INSTALLED)
	$(BIN)/spm-api db upgrade
	$(BIN)/spm-api demo --once --services $(DEMO_SERVICES)
	@echo "GraphiQL: http://$(HOST):$(PORT)/graphql (send one of the tokens above as 'Authorization: Bearer <token>')"
	$(BIN)/spm-api serve --host $(HOST) --port $(PORT)

## Run the whole test suite and the example plugins' tests (SQLite always; PostgreSQL and
## Redis when a server answers, required in CI), in TEST_WORKERS processes at once.
test: $(INSTALLED)
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

lint: $(INSTALLED)
	$(BIN)/ruff check spm_api tests alembic bench plugins
	$(BIN)/mypy

## Regenerate schema.graphql after changing the GraphQL types.
schema: $(INSTALLED)
	$(BIN)/spm-api export-schema --output schema.graphql

migrate: $(INSTALLED)
	$(BIN)/spm-api db upgrade

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache spm.db spm.db-*
