#!/usr/bin/env bash
# The whole test suite, as `make test` runs it: static checks first (fast failure), then a
# throwaway stack on free ports, pgTAP, the Supabase CLI's linter and pytest against it.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv/bin
echo "== ruff, mypy"
"$venv/ruff" check .
"$venv/ruff" format --check .
"$venv/mypy"
"$venv/python" scripts/unasync.py --check

# A folder of its own per run, so parallel runs (and the developer's .stack/) never collide.
state_dir="$PWD/.stack-test-$$"
export MOVEMENT_PROFILES_TEST_STACK_DIR="$state_dir"
cleanup() {
  if [ -d "$state_dir" ]; then
    "$venv/movement-profiles" stack down --state-dir "$state_dir" --remove-data --quiet || true
  fi
}
trap cleanup EXIT
cleanup

echo "== throwaway stack"
"$venv/movement-profiles" stack up --state-dir "$state_dir" --free-ports --quiet
eval "$("$venv/movement-profiles" stack status --state-dir "$state_dir" -o env)"
db_port=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlparse(sys.argv[1]).port)' "$DB_URL")

echo "== supabase db lint (plpgsql_check)"
# On hosted Supabase, supautils lets `postgres` create plpgsql_check; plain PostgreSQL wants a
# superuser for it, so the stack's own superuser creates it before the linter (as postgres) runs.
psql "${DB_URL/postgres:postgres@/supabase_admin:postgres@}" --quiet --no-psqlrc \
  --command "create extension if not exists plpgsql_check with schema extensions" >/dev/null
node_modules/.bin/supabase db lint --db-url "$DB_URL" --schema public,private,pre_request --level warning --fail-on warning --workdir "$PWD"

echo "== pgTAP"
# pg_prove finds nothing without --ext .sql and passes; make an empty folder an error instead.
ls supabase/tests/database/*.sql >/dev/null
PGPASSWORD=postgres pg_prove -h 127.0.0.1 -p "$db_port" -U postgres -d postgres -r --ext .sql supabase/tests/database/

echo "== pytest"
# tests/packaging installs the bare SDK into a clean venv: tests/lowest.sh runs it, with the pins.
"$venv/pytest" -q --ignore=tests/packaging

echo "== lowest allowed versions: SDK and CLI suites, the bare SDK"
bash tests/lowest.sh

echo "== frontend e2e (examples/web in Chromium, supabase-js, generated types)"
# Node 20 needs the flag for the global WebSocket supabase-js constructs its realtime client with.
API_URL="$API_URL" ANON_KEY="$ANON_KEY" JWT_SECRET="$JWT_SECRET" DB_URL="$DB_URL" \
  node --experimental-websocket --test tests/e2e/*.test.mjs
