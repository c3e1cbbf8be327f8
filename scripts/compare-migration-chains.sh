#!/usr/bin/env bash
# Compare the schema two migration chains build: the chain of git revision OLD_REV (plus an
# optional SQL file applied after it) against the working tree's. Used when migrations that were
# never deployed are re-sliced: the re-sliced chain must build the same schema, so the diff must
# be empty (or show only what the extra SQL file does not cover).
#
#   scripts/compare-migration-chains.sh OLD_REV [EXTRA_SQL]
#
# Needs a running local stack (`make up`, or MOVEMENT_PROFILES_STACK_DIR for another one). Builds
# two scratch databases in it, each on the platform baseline, applies the chains as `postgres`,
# dumps both schemas (owners and privileges included) and prints the unified diff; exits 1 when
# they differ. Role settings are cluster-wide, so both chains share them: they are not compared.
set -euo pipefail
cd "$(dirname "$0")/.."
old_rev=${1:?usage: $0 OLD_REV [EXTRA_SQL]}
extra_sql=${2:-}

eval "$(.venv/bin/movement-profiles stack status -o env)"
admin_url=${DB_URL/postgres:postgres@/supabase_admin:postgres@}
export PGOPTIONS="-c client_min_messages=warning"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git archive "$old_rev" supabase/migrations | tar -x -C "$work"

build() {
  local database=$1 migrations=$2 extra=$3
  psql "$admin_url" --quiet --no-psqlrc -v ON_ERROR_STOP=1 \
    --command "drop database if exists $database with (force)" \
    --command "create database $database owner postgres"
  psql "${admin_url/\/postgres\?//$database?}" --quiet --no-psqlrc -v ON_ERROR_STOP=1 \
    --file cli/movement_profiles_cli/stack/platform_baseline.sql >/dev/null
  local file
  for file in "$migrations"/*.sql $extra; do
    psql "${DB_URL/\/postgres\?//$database?}" --quiet --no-psqlrc -v ON_ERROR_STOP=1 \
      --single-transaction --file "$file" >/dev/null 2>"$work/$database.log" \
      || { cat "$work/$database.log" >&2; exit 2; }
  done
  # \restrict lines carry a random key per dump.
  pg_dump "${admin_url/\/postgres\?//$database?}" --schema-only \
    --schema public --schema movement_profiles_internal --schema auth \
    | grep -v '^\\\(un\)\?restrict ' >"$work/$database.sql"
  psql "$admin_url" --quiet --no-psqlrc --command "drop database $database with (force)"
}

build chain_old "$work/supabase/migrations" "$extra_sql"
build chain_new supabase/migrations ""
if diff -u "$work/chain_old.sql" "$work/chain_new.sql"; then
  echo "identical: $(grep -c '^CREATE\|^ALTER\|^GRANT\|^REVOKE\|^COMMENT' "$work/chain_new.sql") statements in each schema dump"
else
  exit 1
fi
