"""Starting, watching and stopping the stack's server processes.

Every server is started directly (no wrapper shell) so the pid we record is the server's own,
and `down` can wait for exactly those pids to disappear. When the CLI runs as root the servers run
as the `postgres` system user: initdb refuses root, and one unprivileged owner for every file in
the runtime folder keeps nginx workers and PostgreSQL able to reach them.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import resource
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from movement_profiles_cli.stack.errors import StackError

SERVICE_USER_WHEN_ROOT = "postgres"


def service_user() -> str | None:
    """The user the servers run as: `postgres` when we are root, else ourselves (None)."""
    return SERVICE_USER_WHEN_ROOT if os.geteuid() == 0 else None


def chown_to_service_user(path: Path) -> None:
    user = service_user()
    if user is None:
        return
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def write_private_file(path: Path, text: str) -> None:
    """Write a file only the service user may read (passwords, configurations with secrets)."""
    path.write_text(text)
    path.chmod(0o600)
    chown_to_service_user(path)


def service_user_can_write(folder: Path) -> bool:
    """Whether the service user can reach and write `folder` (not so under a mode-700 /root)."""
    return _service_user_passes("-w", folder) and _service_user_passes("-x", folder)


def service_user_can_execute(program: Path) -> bool:
    return _service_user_passes("-x", program)


def _service_user_passes(test_flag: str, path: Path) -> bool:
    user = service_user()
    if user is None:
        return os.access(path, os.W_OK if test_flag == "-w" else os.X_OK)
    probe = subprocess.run(
        ["runuser", "-u", user, "--", "test", test_flag, str(path)], cwd="/", check=False
    )
    return probe.returncode == 0


def run_as_service_user(
    command: Sequence[str], *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a short command (initdb, say) as the service user and capture its output."""
    return subprocess.run(
        list(command),
        user=service_user(),
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def spawn(command: Sequence[str], *, log_file: Path, env: dict[str, str] | None = None) -> int:
    """Start a long-running server detached from our session; return its own pid."""
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            list(command),
            user=service_user(),
            cwd="/",
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's soft limit on open files to `wanted` (never above the hard limit), so
    that the servers it starts next inherit it; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def is_running(pid: int | None, expected_name: str) -> bool:
    """True when `pid` is alive and is the program we started (guards against pid reuse)."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # /proc/PID/stat is "pid (comm) state ...": comm is the executable's name, cut to 15 bytes.
    name, _, rest = stat.partition("(")[2].rpartition(")")
    state = rest.split()[0]
    # A zombie (state Z) has exited; only its parent could reap it.
    return state != "Z" and name.startswith(expected_name[:15])


def working_in(folder: Path) -> list[int]:
    """Live processes whose working directory is `folder` (PostgreSQL's run in their data folder).

    Processes we may not inspect are skipped: the stack's servers run as ourselves or, when we
    are root, as the service user, and root can read every /proc entry.
    """
    target = folder.resolve()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) != target:
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


def stop(
    pid: int | None, expected_name: str, *, sig: int = signal.SIGTERM, timeout: float = 15
) -> None:
    """Signal `pid` and wait until it is gone; SIGKILL it if it outlives `timeout`."""
    if not is_running(pid, expected_name):
        return
    assert pid is not None
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    if wait_until(lambda: not is_running(pid, expected_name), timeout):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not is_running(pid, expected_name), 5)


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `condition()` until it is true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_is_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    """A port nothing listens on right now (for throwaway stacks in tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def require_free_port(port: int, what: str, option: str) -> None:
    if not port_is_free(port):
        raise StackError(
            f"port {port} ({what}) is already in use by another process; "
            f"stop that process or choose another port with {option}"
        )
