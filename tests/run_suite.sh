#!/usr/bin/env bash
# The whole test suite, as `make test` runs it: static checks first (fast failure), then two legs,
# one per PostgreSQL major hosted Supabase runs, each on a throwaway stack on free ports.
#   PostgreSQL 15: pgTAP, the Supabase CLI's linter, all of pytest and the frontend e2e tests.
#   PostgreSQL 17: pgTAP and the database-facing pytest suites (integration, security,
#     reliability). The linter needs plpgsql_check, which Debian ships for 15 only; the other
#     suites do not depend on the server's major.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv/bin
echo "== ruff, mypy"
"$venv/ruff" check .
"$venv/ruff" format --check .
"$venv/mypy"
"$venv/python" scripts/unasync.py --check
echo "== released migrations"
"$venv/python" scripts/check_released_migrations.py

# A folder of its own per run and leg, so parallel runs (and the developer's .stack/) never collide.
state_dirs=()
cleanup() {
  for state_dir in "${state_dirs[@]}"; do
    if [ -d "$state_dir" ]; then
      "$venv/movement-profiles" stack down --state-dir "$state_dir" --remove-data --quiet || true
    fi
  done
}
trap cleanup EXIT

# start_stack MAJOR: a throwaway stack of that major; sets state_dir, db_port and the stack's
# variables (DB_URL, API_URL, ANON_KEY, ...), and fails unless the server really is that major.
start_stack() {
  local major=$1
  state_dir="$PWD/.stack-test-$$-pg$major"
  state_dirs+=("$state_dir")
  echo "== PostgreSQL $major: throwaway stack"
  "$venv/movement-profiles" stack up --state-dir "$state_dir" --free-ports --quiet --pg "$major"
  eval "$("$venv/movement-profiles" stack status --state-dir "$state_dir" -o env)"
  db_port=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlparse(sys.argv[1]).port)' "$DB_URL")
  local server_major
  server_major=$(psql "$DB_URL" --no-psqlrc --tuples-only --no-align \
    --command "select current_setting('server_version_num')::int / 10000")
  if [ "$server_major" != "$major" ]; then
    echo "the stack asked for PostgreSQL $major runs $server_major" >&2
    exit 1
  fi
}

run_pgtap() {
  echo "== PostgreSQL $1: pgTAP"
  # pg_prove finds nothing without --ext .sql and passes; make an empty folder an error instead.
  ls supabase/tests/database/*.sql >/dev/null
  PGPASSWORD=postgres pg_prove -h 127.0.0.1 -p "$db_port" -U postgres -d postgres -r --ext .sql \
    supabase/tests/database/
}

# Examples per generated property of the fuzzing suites (tests/security): enough to meet every
# kind of bad input on each run; `make soak` runs thousands.
export MOVEMENT_PROFILES_FUZZ_EXAMPLES="${MOVEMENT_PROFILES_FUZZ_EXAMPLES:-100}"

# The host suite starts a stack of its own (it replaces the database host by host) of the leg's
# major; the real applications' hosts run when $MOVEMENT_PROFILES_HOST_SNAPSHOTS names a folder
# of their snapshots (tests/hosts/fetched/*/README.md) and are skipped, saying so, without it.
run_hosts() {
  "$venv/pytest" -q -rs tests/hosts
}

# -- PostgreSQL 15 ----------------------------------------------------------------------------------
leg_started=$SECONDS
start_stack 15
# pytest and tests that start stacks of their own (tests/stack, tests/reliability) use this major.
export MP_PG=15 MOVEMENT_PROFILES_TEST_STACK_DIR="$state_dir"

echo "== PostgreSQL 15: supabase db lint (plpgsql_check)"
# On hosted Supabase, supautils lets `postgres` create plpgsql_check; plain PostgreSQL wants a
# superuser for it, so the stack's own superuser creates it before the linter (as postgres) runs.
psql "${DB_URL/postgres:postgres@/supabase_admin:postgres@}" --quiet --no-psqlrc \
  --command "create extension if not exists plpgsql_check with schema extensions" >/dev/null
node_modules/.bin/supabase db lint --db-url "$DB_URL" --schema public,movement_profiles_internal --level warning --fail-on warning --workdir "$PWD"

run_pgtap 15

echo "== PostgreSQL 15: pytest"
# tests/packaging installs the bare SDK into a clean venv: tests/lowest.sh runs it, with the pins.
"$venv/pytest" -q --ignore=tests/packaging --ignore=tests/hosts

echo "== PostgreSQL 15: host projects (the component installed into existing projects)"
run_hosts

echo "== PostgreSQL 15: lowest allowed versions: SDK and CLI suites, the bare SDK"
bash tests/lowest.sh

echo "== PostgreSQL 15: frontend e2e (examples/web in Chromium, supabase-js, generated types)"
# Node 20 needs the flag for the global WebSocket supabase-js constructs its realtime client with.
API_URL="$API_URL" ANON_KEY="$ANON_KEY" JWT_SECRET="$JWT_SECRET" DB_URL="$DB_URL" \
  node --experimental-websocket --test tests/e2e/*.test.mjs
"$venv/movement-profiles" stack down --state-dir "$state_dir" --remove-data --quiet
leg15_seconds=$((SECONDS - leg_started))

# -- PostgreSQL 17 ----------------------------------------------------------------------------------
leg_started=$SECONDS
start_stack 17
export MP_PG=17 MOVEMENT_PROFILES_TEST_STACK_DIR="$state_dir"
run_pgtap 17

echo "== PostgreSQL 17: pytest (integration, security, reliability)"
# The gateway's own suites (nginx's answers, slow clients, floods it refuses before PostgREST)
# never reach the database, so they run on the 15 leg only; the floods straight at PostgREST,
# which test the database's defences, run on both.
"$venv/pytest" -q tests/integration tests/security tests/reliability \
  --ignore=tests/security/test_gateway.py --ignore=tests/reliability/test_slow_clients.py \
  --deselect tests/reliability/test_floods.py::test_a_regex_filter_flood_leaves_the_victims_reads_fast

echo "== PostgreSQL 17: host projects"
run_hosts
leg17_seconds=$((SECONDS - leg_started))

echo "== passed: PostgreSQL 15 leg ${leg15_seconds} s, PostgreSQL 17 leg ${leg17_seconds} s, total ${SECONDS} s"
