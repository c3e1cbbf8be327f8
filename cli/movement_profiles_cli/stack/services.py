"""PostgREST and the nginx gateway in front of it, as processes: write their configuration,
start them, tell when they answer.

What their configurations say is `postgrest`'s and `gateway`'s job.
"""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path

from movement_profiles_cli.stack import binaries, gateway, postgrest, processes
from movement_profiles_cli.stack.errors import StackError
from movement_profiles_cli.stack.state import StackState


def start_postgrest(state: StackState, project_dir: Path) -> None:
    processes.require_free_port(state.rest_port, "PostgREST", "a fresh --state-dir")
    config_file = state.runtime_dir / "postgrest.conf"
    processes.write_private_file(config_file, postgrest.render_config(state))
    state.pids.postgrest = processes.spawn(
        [_postgrest_reachable_by_service_user(state, project_dir), str(config_file)],
        log_file=state.logs / "postgrest.log",
    )
    state.save()
    if not processes.wait_until(lambda: postgrest_ready(state), 30, interval=0.1):
        raise StackError(f"PostgREST did not become ready; see {state.logs / 'postgrest.log'}")


def _postgrest_reachable_by_service_user(state: StackState, project_dir: Path) -> str:
    """The PostgREST binary, copied beside the runtime files when the checkout is out of the
    service user's reach (a project under a mode-700 home folder)."""
    binary = Path(binaries.postgrest(project_dir))
    if processes.service_user_can_execute(binary):
        return str(binary)
    copy = state.runtime_dir / "postgrest"
    if not copy.is_file() or copy.stat().st_size != binary.stat().st_size:
        shutil.copy2(binary, copy)
        processes.chown_to_service_user(copy)
    return str(copy)


def postgrest_ready(state: StackState) -> bool:
    if not processes.is_running(state.pids.postgrest, "postgrest"):
        return False
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{state.rest_admin_port}/ready", timeout=1
        ) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def start_gateway(state: StackState) -> None:
    processes.require_free_port(state.api_port, "API gateway", "--api-port")
    config_file = state.runtime_dir / "nginx" / "nginx.conf"
    # Without a master process nginx ignores worker_rlimit_nofile: it keeps the limit it
    # inherits from us, and its connection table is sized to fit it.
    open_files = processes.raise_open_files_limit(gateway.OPEN_FILES_WANTED)
    processes.write_private_file(config_file, gateway.render_config(state, open_files=open_files))
    nginx = binaries.nginx()
    arguments = [
        "-e",
        str(state.logs / "nginx-error.log"),
        "-p",
        str(state.runtime_dir / "nginx"),
        "-c",
        str(config_file),
    ]
    test = processes.run_as_service_user([nginx, "-t", "-q", *arguments])
    if test.returncode != 0:
        raise StackError(f"nginx rejected its configuration: {test.stderr.strip()}")
    state.pids.nginx = processes.spawn([nginx, *arguments], log_file=state.logs / "nginx.log")
    state.save()
    if not processes.wait_until(lambda: processes.port_is_open(state.api_port), 15):
        raise StackError(f"the gateway did not start; see {state.logs / 'nginx-error.log'}")


def gateway_ready(state: StackState) -> bool:
    return processes.is_running(state.pids.nginx, "nginx") and processes.port_is_open(
        state.api_port
    )
