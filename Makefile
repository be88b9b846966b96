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
	@echo "==> Creating the virtual environment $(VENV) (once)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> Installing spm-api, its dependencies (PostgreSQL driver and OpenTelemetry included) and the example plugins into $(VENV) (a minute or two the first time)"
	$(BIN)/python -m pip install --progress-bar off --upgrade pip
	$(BIN)/python -m pip install --progress-bar off -e '.[dev,postgres,otel]' $(addprefix -e ,$(EXAMPLE_PLUGINS))
	@touch $(INSTALLED)
	@echo "==> Installed"

install: $(INSTALLED)

## Run the API on the embedded SQLite database with demo data: migrate, seed the demo once
## (printing its tokens when it is created) and serve GraphiQL ready to run. PORT=8001 for
## another port.
run: $(INSTALLED)
	@echo "==> Starting SPM API on http://$(HOST):$(PORT)/graphql with SQLite (./spm.db) and demo data"
	@$(BIN)/spm-api serve --demo --services $(DEMO_SERVICES) --host $(HOST) --port $(PORT)

## Run the whole test suite and the example plugins' tests (SQLite always; PostgreSQL and
## Redis when a server answers, required in CI), in TEST_WORKERS processes at once.
test: $(INSTALLED)
	@echo "==> Running the test suite ($(TEST_WORKERS) processes; TEST_WORKERS=0 for one)"
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

lint: $(INSTALLED)
	$(BIN)/ruff check spm_api tests alembic bench plugins
	$(BIN)/mypy
	$(BIN)/lint-imports

## Regenerate schema.graphql after changing the GraphQL types.
schema: $(INSTALLED)
	$(BIN)/spm-api export-schema --output schema.graphql

migrate: $(INSTALLED)
	$(BIN)/spm-api db upgrade

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache spm.db spm.db-*
