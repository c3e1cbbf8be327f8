"""The local stack's private PostgreSQL cluster as a process: create it, start it, tell whether
it runs and answers.

Which binaries serve which major is `postgresql`'s job; what goes into the cluster (baseline,
migrations, seed) is `schema`'s.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from movement_profiles_cli.stack import postgresql, processes
from movement_profiles_cli.stack.errors import StackError
from movement_profiles_cli.stack.state import ADMIN_USER, DB_PASSWORD, StackState


class Cluster:
    """The cluster of one stack, in `state.pgdata`, listening on `state.db_port`."""

    def __init__(self, state: StackState, project_dir: Path) -> None:
        self.state = state
        self.project_dir = project_dir

    @property
    def server(self) -> postgresql.Server:
        """The PostgreSQL server binaries of the stack's major."""
        return postgresql.server(self.state.pg_major, self.project_dir)

    def server_reachable_by_service_user(self) -> postgresql.Server:
        """The server binaries, copied beside the runtime files when the service user cannot run
        them from the checkout; with pgTAP's files in its extension folder when they are
        installed."""
        server = postgresql.reachable_by_service_user(self.server, self.state.runtime_dir)
        postgresql.provide_pgtap(server)
        return server

    def running(self) -> bool:
        return processes.is_running(self.state.pids.postgres, "postgres")

    def ready(self) -> bool:
        if not self.running():
            return False
        probe = subprocess.run(
            [
                str(postgresql.client_bindir() / "pg_isready"),
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.state.db_port),
            ],
            check=False,
        )
        return probe.returncode == 0

    def init(self) -> bool:
        """initdb the private cluster if it does not exist; True when it was created now."""
        pgdata = self.state.pgdata
        if (pgdata / "PG_VERSION").is_file():
            return False
        if pgdata.exists():
            shutil.rmtree(pgdata)  # a half-made cluster from an interrupted first run
        password_file = self.state.runtime_dir / "initdb-password"
        processes.write_private_file(password_file, DB_PASSWORD + "\n")
        try:
            result = processes.run_as_service_user(
                [
                    str(self.server_reachable_by_service_user().initdb),
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

    def start(self) -> None:
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
            str(self.server_reachable_by_service_user().postgres),
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
            processes.wait_until(lambda: self.ready() or not self.running(), 30, interval=0.1)
            if self.ready():
                return
            if self.running():
                break
            time.sleep(1)
        raise StackError(f"PostgreSQL did not start; see {log_file}")


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
