#!/usr/bin/env bash
# `make soak`: the long run of the hardening suite, a few minutes, on throwaway stacks only.
#   1. fault cycles under load (tests/reliability/soak.py): PostgREST, PostgreSQL and the gateway
#      SIGKILLed in turn, restored with `stack up`, every acknowledged write audited; then the
#      attacks (regex-filter floods as anon and as a user, 1,100 half-open requests, slow bodies)
#      while a victim reads, with their figures;
#   2. the import's first pass on thousands of generated hostile files (no stack);
#   3. the security suite and the concurrency races again, with many more generated bad inputs.
# Arguments go to soak.py, e.g. `make soak SOAK_ARGS="--cycles 30 --writers 100 --attack-seconds 60"`.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.venv/bin
# Never the developer's stack nor a `make test` run's: pytest below starts a stack of its own.
unset MOVEMENT_PROFILES_TEST_STACK_DIR

echo "== fault cycles under load, then attacks"
"$venv/python" -m tests.reliability.soak "$@"

examples="${MOVEMENT_PROFILES_FUZZ_EXAMPLES:-2000}"
echo "== the import's first pass, $examples generated hostile files per property"
MOVEMENT_PROFILES_FUZZ_EXAMPLES="$examples" "$venv/pytest" -q -p no:cacheprovider \
	tests/cli/test_import_fuzz.py

echo "== security suite and races, $examples generated bad inputs per property"
MOVEMENT_PROFILES_FUZZ_EXAMPLES="$examples" "$venv/pytest" -q -p no:cacheprovider \
	tests/security tests/reliability/test_concurrency.py
