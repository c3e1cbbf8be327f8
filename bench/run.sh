#!/usr/bin/env bash
# `make bench`: start a throwaway stack on free ports, run bench/run_bench.py against it, stop it.
# Never touches the developer's stack (.stack/, port 54321). Arguments go to run_bench.py, e.g.
#   bash bench/run.sh --quick          # check the harness in about a minute, writes nothing
#   bash bench/run.sh --only 1,2       # some items only
#   MP_PG=17 bash bench/run.sh         # on PostgreSQL 17 (`make bench PG=17`); 15 otherwise
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv/bin
for tool in wrk pgbench valgrind; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: run \`make bench\`, which installs it" >&2; exit 1; }
done

state_dir="$PWD/.stack-bench-$$"
cleanup() {
  if [ -d "$state_dir" ]; then
    "$venv/movement-profiles" stack down --state-dir "$state_dir" --remove-data --quiet || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== throwaway stack in $state_dir (PostgreSQL ${MP_PG:-as supabase/config.toml says})"
"$venv/movement-profiles" stack up --state-dir "$state_dir" --free-ports --quiet
"$venv/movement-profiles" stack status --state-dir "$state_dir" -o json >/dev/null

PYTHONPATH="$PWD/bench${PYTHONPATH:+:$PYTHONPATH}" \
  "$venv/python" bench/run_bench.py --state-dir "$state_dir" "$@"
