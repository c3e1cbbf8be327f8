"""What goes into the local stack's database, and how: psql, the platform baseline, the Supabase
project's migrations and seed, and PostgREST's reload once they changed the schema.

The baseline is applied by the superuser `supabase_admin`; migrations and seed by `postgres`, not
a superuser, exactly as `supabase db push` applies them to a hosted project.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from movement_profiles_cli.stack import binaries, postgresql, processes
from movement_profiles_cli.stack.errors import StackError
from movement_profiles_cli.stack.state import ADMIN_USER, DB_PASSWORD, StackState

BASELINE_SQL = Path(__file__).with_name("platform_baseline.sql")


class Schema:
    """The database of one stack; `supabase_project` is the folder whose supabase/migrations and
    supabase/seed.sql are applied, `project_dir` the checkout whose Supabase CLI applies them."""

    def __init__(self, state: StackState, project_dir: Path, supabase_project: Path) -> None:
        self.state = state
        self.project_dir = project_dir
        self.supabase_project = supabase_project

    def psql(
        self,
        *arguments: str,
        database: str = "postgres",
        script: str | None = None,
        user: str = "postgres",
    ) -> str:
        """Run psql against the stack, as `postgres` (not a superuser) unless `user` says
        otherwise; return its output.

        `script` is fed on standard input: unlike `--command`, it expands `:'variables'` set with
        `--set`, which is how user input reaches SQL safely quoted.
        """
        result = subprocess.run(
            [
                str(postgresql.client_bindir() / "psql"),
                self.state.db_url(user=user, database=database),
                "--no-psqlrc",
                "--quiet",
                "--tuples-only",
                "--no-align",
                "--set",
                "ON_ERROR_STOP=1",
                *arguments,
            ],
            input=script,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            # The first line holds PostgreSQL's message; DETAIL and CONTEXT lines follow it.
            first_line = (result.stderr.strip().splitlines() or ["(no output)"])[0]
            raise StackError(f"psql failed: {first_line.removeprefix('ERROR:').strip()}")
        return result.stdout

    def apply(self, *, seed: bool) -> None:
        """The platform baseline as the superuser; migrations and, when `seed`, the seed as
        `postgres`."""
        self.ensure_admin_role()
        self.psql("--file", str(BASELINE_SQL), user=ADMIN_USER)
        self.migrate()
        seed_file = self.supabase_project / "supabase" / "seed.sql"
        if seed and seed_file.is_file():
            self.psql("--file", str(seed_file))

    def ensure_admin_role(self) -> None:
        """Clusters made before the stack had a `supabase_admin` were bootstrapped by `postgres`,
        then still a superuser: give them the platform's bootstrap superuser, which the baseline
        then demotes `postgres` under."""
        try:
            self.psql("--command", "select", user=ADMIN_USER)
        except StackError:
            self.psql(
                "--command",
                f"create role {ADMIN_USER} superuser login password '{DB_PASSWORD}'",
            )

    def migrate(self) -> None:
        """Apply pending migrations with the Supabase CLI, then have PostgREST reload its schema
        cache and its in-database settings."""
        result = migration_up(
            binaries.supabase_cli(self.project_dir), self.state.db_url(), self.supabase_project
        )
        if result.returncode != 0:
            raise StackError(f"supabase migration up failed: {result.stderr.strip()}")
        applied = {
            line.strip()
            for line in self.psql(
                "--command", "select version from supabase_migrations.schema_migrations"
            ).splitlines()
            if line.strip()
        }
        expected = {
            path.name.split("_", 1)[0]
            for path in (self.supabase_project / "supabase" / "migrations").glob("*.sql")
        }
        if missing := sorted(expected - applied):
            raise StackError(f"migrations not applied: {', '.join(missing)}")
        self.reload_postgrest()

    def reload_postgrest(self) -> None:
        """Have PostgREST reload its schema cache and, since db-config is on as on hosted, the
        `pgrst.*` settings of the authenticator role (a migration may have set
        `pgrst.db_pre_request`); when it runs, return once it has done both."""
        log = self.state.logs / "postgrest.log"
        running = processes.is_running(self.state.pids.postgrest, "postgrest")
        before = _reloads_logged(log)
        self.psql(
            "--command",
            "notify pgrst, 'reload schema'",
            "--command",
            "notify pgrst, 'reload config'",
        )
        if running and not processes.wait_until(
            lambda: all(now > then for now, then in zip(_reloads_logged(log), before, strict=True)),
            30,
            interval=0.05,
        ):
            raise StackError(f"PostgREST did not reload its schema and settings; see {log}")


def _reloads_logged(log: Path) -> tuple[int, int]:
    """How often PostgREST has logged reloading its settings and its schema cache (it logs both
    even at log-level crit)."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return (0, 0)
    return (text.count("Config reloaded"), text.count("Schema cache loaded"))


def migration_up(supabase_cli: str, db_url: str, project: Path) -> subprocess.CompletedProcess[str]:
    """`supabase migration up` of a project's pending migrations into the database at `db_url`,
    as `supabase db push` applies them to a hosted project (telemetry off)."""
    return subprocess.run(
        [
            supabase_cli,
            "migration",
            "up",
            "--include-all",
            "--db-url",
            db_url,
            "--workdir",
            str(project),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SUPABASE_TELEMETRY_DISABLED": "1", "DO_NOT_TRACK": "1"},
    )
