#!/usr/bin/env bash
# The SDK and CLI suites again, with the lowest versions pyproject.toml allows, against the stack
# tests/run_suite.sh started (MOVEMENT_PROFILES_TEST_STACK_DIR). `make install-lowest` builds the
# two venvs once (pins from scripts/lowest_pins.py); a rerun reuses them.
#   .venv-lowest           the SDK and the cli extra at their lowest; also installs the bare SDK
#                          (tests/packaging) with those pins into a clean venv
#   .venv-lowest-supabase  supabase-py at its lowest (it needs a newer pydantic than the SDK's
#                          lowest, so it is pinned alone), for from_supabase
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MOVEMENT_PROFILES_TEST_STACK_DIR:?run by tests/run_suite.sh, against its throwaway stack}"

versions='import importlib.metadata as m, sys
print("  " + ", ".join(f"{n} {m.version(n)}" for n in sys.argv[1:]))'

lowest=.venv-lowest/bin
"$lowest/python" -c "$versions" httpx pydantic python-dotenv typer click rich PyJWT
# Without the tests of scale (`volume`): they take time, and the smaller tests run the same code.
MOVEMENT_PROFILES_PIP_CONSTRAINTS="$PWD/.venv-lowest/constraints.txt" \
  "$lowest/pytest" -q -p no:cacheprovider -m "not volume" tests/sdk tests/cli tests/packaging

supabase=.venv-lowest-supabase/bin
"$supabase/python" -c "$versions" supabase postgrest pydantic
"$supabase/pytest" -q -p no:cacheprovider tests/sdk/test_supabase_reuse.py tests/integration/test_supabase_py.py
