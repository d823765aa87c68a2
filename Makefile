# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench soak openapi lock clean

# requirements.txt pins what the service needs; requirements-dev.txt adds the PostgreSQL
# driver and the test and lint tools on the same pins. A checkout installs both.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
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
	$(BIN)/lint-imports

# Lint, type check and the whole suite; on PostgreSQL too when BUURTPLUS_TEST_DATABASE_URL is set.
test: lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench --write-docs

# Ten minutes of mixed load on the embedded default: memory, descriptors, no delivery lost.
# Shorter with BUURTPLUS_SOAK_SECONDS=60 make soak.
soak: install
	$(BIN)/python -m bench.soak

openapi: install
	$(BIN)/buurtplus openapi export

# Re-pin both requirement files from pyproject.toml (no index URLs are written).
PIN := $(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
	--no-emit-trusted-host
lock: install
	$(PIN) -o requirements.txt pyproject.toml
	$(PIN) --extra postgres --extra dev -c requirements.txt -o requirements-dev.txt pyproject.toml
	# The project itself is installed from the checkout (`pip install -e .`), not from a path.
	sed -i '/^buurtplus @ file:/,/^    # via buurtplus/d' requirements-dev.txt

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
