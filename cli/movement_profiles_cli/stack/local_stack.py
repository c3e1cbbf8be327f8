"""`movement-profiles stack up | down | status | reset`: the local stack without Docker.

What `supabase start` would give, on the same ports: a private PostgreSQL cluster (15 or 17, the
majors hosted Supabase runs) with the platform baseline, the project's migrations applied by the
real Supabase CLI, PostgREST, and an nginx gateway on the API port.

`LocalStack` opens a stack from its state folder and runs the commands; the parts they use live
beside it: `cluster` (the PostgreSQL process), `schema` (psql, baseline, migrations, seed),
`services` (PostgREST and the gateway), `binaries` (where the programs are).
"""

from __future__ import annotations

import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

from movement_profiles_cli.stack import binaries, postgresql, processes, services
from movement_profiles_cli.stack.cluster import Cluster
from movement_profiles_cli.stack.errors import StackError
from movement_profiles_cli.stack.schema import BASELINE_SQL, Schema
from movement_profiles_cli.stack.state import (
    ADMIN_USER,
    StackState,
    fallback_runtime_dir,
    find_project_dir,
)

__all__ = ["BASELINE_SQL", "ComponentStatus", "LocalStack", "supabase_project_dir"]


@dataclass
class ComponentStatus:
    name: str
    pid: int | None
    running: bool
    detail: str


class LocalStack:
    """One local stack, identified by its state folder."""

    def __init__(self, state: StackState, project_dir: Path) -> None:
        self.state = state
        self.project_dir = project_dir

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        state_dir: Path,
        *,
        api_port: int | None = None,
        db_port: int | None = None,
        free_ports: bool = False,
        pg_major: int | None = None,
        supabase_project: Path | None = None,
    ) -> LocalStack:
        """The stack recorded in `state_dir`, or a new one with the given (or default) ports and
        PostgreSQL major (`postgresql.default_major`). A cluster keeps the major it was made with:
        asking an existing one for another is an error, not an upgrade.

        `supabase_project`: another Supabase project folder (one holding supabase/migrations)
        whose migrations and seed the stack applies from now on instead of the checkout's;
        remembered in the state folder."""
        project_dir = find_project_dir()
        if pg_major is not None:
            pg_major = postgresql.parse_major(pg_major)
        state = StackState.load(state_dir)
        if state is None:
            state_dir.mkdir(parents=True, exist_ok=True)
            runtime_dir = state_dir / "run"
            state = StackState(
                state_dir=state_dir,
                runtime_dir=runtime_dir,
                pg_major=pg_major or postgresql.default_major(project_dir),
            )
            if free_ports:
                state.api_port, state.db_port, state.rest_port, state.rest_admin_port = (
                    processes.free_port() for _ in range(4)
                )
        else:
            existing = postgresql.cluster_major(state.pgdata)
            if existing is not None:
                state.pg_major = existing
            if pg_major is not None and pg_major != state.pg_major:
                if existing is not None:
                    raise StackError(
                        f"the stack in {state_dir} runs PostgreSQL {existing}, not {pg_major}: "
                        "remove it first (`movement-profiles stack down --remove-data`) or choose "
                        "another --state-dir"
                    )
                state.pg_major = pg_major
        if api_port is not None:
            state.api_port = api_port
        if db_port is not None:
            state.db_port = db_port
        if supabase_project is not None:
            state.supabase_project = supabase_project_dir(supabase_project)
        return cls(state, project_dir)

    # -- parts, paths and binaries ----------------------------------------------------------------

    @property
    def supabase_project(self) -> Path:
        """The folder whose supabase/migrations and supabase/seed.sql are applied."""
        return self.state.supabase_project or self.project_dir

    @property
    def cluster(self) -> Cluster:
        # Built on each use: callers may replace `state` (a stack reopened after a restart).
        return Cluster(self.state, self.project_dir)

    @property
    def schema(self) -> Schema:
        return Schema(self.state, self.project_dir, self.supabase_project)

    @property
    def server(self) -> postgresql.Server:
        """The PostgreSQL server binaries of the stack's major."""
        return self.cluster.server

    @property
    def client_bindir(self) -> Path:
        return postgresql.client_bindir()

    @property
    def postgrest_binary(self) -> str:
        return binaries.postgrest(self.project_dir)

    @property
    def supabase_cli(self) -> str:
        return binaries.supabase_cli(self.project_dir)

    @property
    def nginx_binary(self) -> str:
        return binaries.nginx()

    def _prepare_runtime_dir(self) -> None:
        """Create the folder the servers write to, owned by the service user."""
        state = self.state
        state.state_dir.mkdir(parents=True, exist_ok=True)
        state.runtime_dir.mkdir(parents=True, exist_ok=True)
        processes.chown_to_service_user(state.runtime_dir)
        if not processes.service_user_can_write(state.runtime_dir):
            state.runtime_dir = fallback_runtime_dir(state.state_dir)
            state.runtime_dir.mkdir(parents=True, exist_ok=True)
            state.runtime_dir.chmod(0o700)
            processes.chown_to_service_user(state.runtime_dir)
        for folder in (state.logs, state.runtime_dir / "nginx"):
            folder.mkdir(exist_ok=True)
            processes.chown_to_service_user(folder)

    # -- the database -----------------------------------------------------------------------------

    def psql(
        self,
        *arguments: str,
        database: str = "postgres",
        script: str | None = None,
        user: str = "postgres",
    ) -> str:
        """Run psql against the stack, as `postgres` (not a superuser) unless `user` says
        otherwise; return its output (`Schema.psql`)."""
        return self.schema.psql(*arguments, database=database, script=script, user=user)

    def migrate(self) -> None:
        """Apply pending migrations with the Supabase CLI, then have PostgREST reload its schema
        cache and its in-database settings."""
        self.schema.migrate()

    def reload_postgrest(self) -> None:
        """Have PostgREST reload its schema cache and in-database settings; when it runs, return
        once it has done both."""
        self.schema.reload_postgrest()

    # -- commands ---------------------------------------------------------------------------------

    def check_binaries(self) -> None:
        """Fail before starting anything when a binary is missing, naming every one of them."""
        binaries.check(self.project_dir, self.state.pg_major)

    def up(self) -> None:
        """Start whatever is not running; apply new migrations. Safe to run again."""
        self.check_binaries()
        self._prepare_runtime_dir()
        cluster = self.cluster
        created = cluster.init()
        postgres_was_down = not cluster.running()
        if postgres_was_down:
            cluster.start()
        self.schema.apply(seed=created)
        if postgres_was_down:
            # A PostgREST that outlived its database (a crash, a kill) reconnects on a back-off
            # of up to 32 s; a fresh one is ready in about a second.
            processes.stop(self.state.pids.postgrest, "postgrest")
        if not processes.is_running(self.state.pids.postgrest, "postgrest"):
            services.start_postgrest(self.state, self.project_dir)
        elif not processes.wait_until(
            lambda: services.postgrest_ready(self.state), 30, interval=0.1
        ):
            # Running but not ready: it is reloading its schema cache after the migrations.
            raise StackError(f"PostgREST is not ready; see {self.state.logs / 'postgrest.log'}")
        if not processes.is_running(self.state.pids.nginx, "nginx"):
            services.start_gateway(self.state)
        self.state.save()

    def down(self) -> None:
        """Stop exactly the processes this stack started and wait until each is gone."""
        pids = self.state.pids
        processes.stop(pids.nginx, "nginx", sig=signal.SIGTERM)
        processes.stop(pids.postgrest, "postgrest")
        # SIGINT is PostgreSQL's "fast" shutdown: disconnect clients, checkpoint, exit.
        processes.stop(pids.postgres, "postgres", sig=signal.SIGINT, timeout=30)
        pids.nginx = pids.postgrest = pids.postgres = None
        if self.state.file.exists():
            self.state.save()

    def destroy(self) -> None:
        """Stop the stack and delete everything it wrote: the state folder and, when the data
        lived outside it (/var/tmp), the runtime folder too."""
        self.down()
        shutil.rmtree(self.state.runtime_dir, ignore_errors=True)
        shutil.rmtree(self.state.state_dir, ignore_errors=True)

    def reset(self) -> None:
        """Drop all data, then reapply the baseline, migrations and seed."""
        if not self.cluster.running():
            raise StackError("the stack is not running: start it with `movement-profiles stack up`")
        self.psql(
            "--command",
            "drop database if exists postgres with (force)",
            "--command",
            "create database postgres",
            # The migrations set PostgREST's hook on authenticator for the whole cluster; from a
            # fresh database they set it again, and an older chain's hook must not stay behind.
            "--command",
            "alter role authenticator reset pgrst.db_pre_request",
            database="template1",
            user=ADMIN_USER,
        )
        self.schema.apply(seed=True)
        # Dropping the database cut PostgREST's connections: it would reconnect on a back-off of
        # up to 32 s, and the project's API may have no path that tells when. A fresh one is
        # ready in about a second, with the new schema and settings.
        if processes.is_running(self.state.pids.postgrest, "postgrest"):
            processes.stop(self.state.pids.postgrest, "postgrest")
            # Its main thread can be gone while the others still hold the port a moment.
            processes.wait_until(lambda: processes.port_is_free(self.state.rest_port), 10)
            services.start_postgrest(self.state, self.project_dir)

    def status(self) -> list[ComponentStatus]:
        state = self.state
        return [
            ComponentStatus(
                "postgres",
                state.pids.postgres,
                self.cluster.ready(),
                f"{state.db_url()} (PostgreSQL {state.pg_major}, data in {state.pgdata})",
            ),
            ComponentStatus(
                "postgrest",
                state.pids.postgrest,
                services.postgrest_ready(state),
                f"{state.postgrest_url} (internal)",
            ),
            ComponentStatus(
                "gateway",
                state.pids.nginx,
                services.gateway_ready(state),
                state.api_url,
            ),
        ]


def supabase_project_dir(folder: Path) -> Path:
    """`folder` resolved, when it is a Supabase project (it holds supabase/migrations)."""
    folder = folder.resolve()
    if not (folder / "supabase" / "migrations").is_dir():
        raise StackError(f"{folder} is not a Supabase project: it has no supabase/migrations")
    return folder
