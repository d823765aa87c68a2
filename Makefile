# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench openapi lock clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# The embedded default: SQLite file, demo data, in-process worker, and a partner's webhook
# receiver (examples/partner_receiver.py on port 8001) that prints what the demo partners get.
run: export BUURTPLUS_DEMO ?= true
run: export BUURTPLUS_WEBHOOK_ALLOW_NETWORKS ?= 127.0.0.1:8001
run: install
	$(BIN)/buurtplus db upgrade
	$(BIN)/buurtplus demo seed
	$(BIN)/python examples/partner_receiver.py --port 8001 & receiver=$$!; \
	trap 'kill $$receiver 2>/dev/null' EXIT INT TERM; \
	$(BIN)/buurtplus serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Lint, type check and the whole suite; on PostgreSQL too when BUURTPLUS_TEST_DATABASE_URL is set.
test: lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench

openapi: install
	$(BIN)/buurtplus openapi export

# Re-pin requirements.txt from pyproject.toml (no index URLs are written).
lock: install
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url \
		--no-emit-find-links --no-emit-trusted-host -o requirements.txt pyproject.toml

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
