"""Item 7: the story's design (bench/peers/story_service: FastAPI, a SQLAlchemy model, pydantic
validators, a Supabase-JWT check) as a peer of the gateway, on the same database and table.

Both answer the contract's three requests with each user's own token, interleaved round by round
at the bench's connection count: GET, POST, and the gateway's PATCH against the story's PUT with
the same body. The peer runs under uvicorn with one worker per core. CPU per request is read from
/proc for every process group: the gateway is nginx + PostgREST + PostgreSQL, the peer is the
uvicorn master and workers + PostgreSQL; `wrk` is the load generator's own.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import httpx

from harness import loadgen
from harness.cpu import process_tree_seconds
from harness.loadgen import LoadResult, MeasurementError, Summary
from harness.report import Row, ratio_row
from harness.stack import BenchStack, UserRange

PEERS_DIR = Path(__file__).resolve().parents[1] / "peers"
# Sync routes and a sync Session: the faster of the two variants (bench/peers/README.md).
APP = "story_service.app:app"
# Gateway throughput over the peer's, for GET and PATCH.
TARGET_RATIO = 10.0
OPERATIONS = {"get": "GET", "post": "POST", "patch": "PATCH"}
START_TIMEOUT = 30.0
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class BenchRun(Protocol):
    """What this section uses of run_bench.Bench (which imports this module)."""

    stack: BenchStack
    connections: int
    fresh_users: UserRange
    steady_file: Path
    fresh_file: Path
    workdir: Path

    def cleaning_after(
        self, run: Callable[[float], LoadResult], table: str = ..., *, fresh: bool = ...
    ) -> Callable[[float], LoadResult]: ...

    def measure(self, variants: dict[str, Callable[[float], LoadResult]]) -> dict[str, Summary]: ...


#: run_bench.server_timing: PostgREST's Server-Timing phases as it reports them, per method.
ServerTiming = Callable[[Any], dict[str, dict[str, float]]]


def _terminate_with_parent() -> None:
    """Runs in the peer's process before uvicorn starts: SIGTERM to it when the bench process
    ends, however it ends (a killed bench must not leave a server on the machine)."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PeerService:
    """The story's service under uvicorn, on a free port, against `stack`'s database.

    A context manager: the service is stopped on leaving it, whatever happened inside.
    """

    def __init__(
        self,
        db_url: str,
        jwt_secret: str,
        log_file: Path,
        *,
        app: str = APP,
        workers: int | None = None,
    ) -> None:
        self.db_url = db_url
        self.jwt_secret = jwt_secret
        self.log_file = log_file
        self.app = app
        self.workers = workers or os.cpu_count() or 1
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> PeerService:
        environment = {
            **os.environ,
            "PYTHONPATH": str(PEERS_DIR),
            "DATABASE_URL": self.db_url,
            "SUPABASE_JWT_SECRET": self.jwt_secret,
        }
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        with self.log_file.open("ab") as log:
            # A session of its own, so that stopping it reaches every worker and nothing else.
            self.process = subprocess.Popen(
                command,
                cwd=PEERS_DIR,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_terminate_with_parent,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_until_ready(self) -> None:
        """Until every worker has started: uvicorn's master accepts connections as soon as the
        first is up, so a single answer is not enough."""
        deadline = time.monotonic() + START_TIMEOUT
        # With one worker uvicorn serves from its own process and starts no children.
        children = self.workers if self.workers > 1 else 0
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise MeasurementError(
                    f"the peer exited with {self.process.returncode}: "
                    + self.log_file.read_text()[-2000:]
                )
            try:
                answered = httpx.get(f"{self.url}/openapi.json", timeout=1).status_code == 200
            except httpx.TransportError:
                answered = False
            if answered and len(self._worker_pids()) >= children:
                return
            time.sleep(0.2)
        raise MeasurementError(f"the peer did not start within {START_TIMEOUT:.0f} s")

    def _worker_pids(self) -> list[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # SIGTERM to the master: uvicorn stops its workers and exits.
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def cpu_seconds(self) -> float:
        """The uvicorn master and its workers."""
        return process_tree_seconds(None if self.process is None else self.process.pid)


def _load_generator_seconds() -> float:
    """CPU of this process's exited children: wrk, once a run has ended (nothing else is
    started or reaped during a run)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime


def bench_peer(bench: BenchRun, server_timing: ServerTiming) -> tuple[list[Row], dict[str, Any]]:
    stack = bench.stack
    with PeerService(stack.db_url(), stack.state.jwt_secret, bench.workdir / "peer.log") as service:

        def cpu_probe() -> dict[str, float]:
            return {
                **stack.cpu_seconds(),
                "peer": service.cpu_seconds(),
                "wrk": _load_generator_seconds(),
            }

        def wrk(url: str, mode: str, api: str) -> Callable[[float], LoadResult]:
            users_file = bench.fresh_file if mode == "post" else bench.steady_file

            def run(duration: float) -> LoadResult:
                return loadgen.run_wrk(
                    url,
                    mode,
                    apikey=stack.anon_key,
                    duration=duration,
                    connections=bench.connections,
                    users_file=users_file,
                    cpu_probe=cpu_probe,
                    api=api,
                )

            return run

        variants: dict[str, Callable[[float], LoadResult]] = {}
        for mode in OPERATIONS:
            for side, run in (
                ("gateway", wrk(f"{stack.gateway_url}/movement_profiles", mode, "postgrest")),
                ("peer", wrk(f"{service.url}/movement-profiles", mode, "story")),
            ):
                variants[f"{mode} {side}"] = (
                    run if mode == "get" else bench.cleaning_after(run, fresh=mode == "post")
                )
        results = bench.measure(variants)
        workers = service.workers
    timing = server_timing(bench)
    rows: list[Row] = []
    for mode, method in OPERATIONS.items():
        gateway, peer = results[f"{mode} gateway"], results[f"{mode} peer"]
        rows.append(
            ratio_row(
                "7",
                f"{method} via gateway",
                gateway,
                f"story's FastAPI + SQLAlchemy ({'PUT' if mode == 'patch' else method}, "
                f"{workers} workers)",
                peer,
                minimum=None if mode == "post" else TARGET_RATIO,
            )
        )
        gateway_cpu, peer_cpu = gateway_group_us(gateway), peer_group_us(peer)
        rows.append(
            Row(
                item="7",
                measurement=f"{method} CPU per request, gateway (nginx + PostgREST + PostgreSQL)",
                result=f"{gateway_cpu:,.0f} µs",
                baseline=f"peer (uvicorn workers + PostgreSQL): {peer_cpu:,.0f} µs",
                ratio=peer_cpu / gateway_cpu if gateway_cpu else None,
            )
        )
    return rows, {
        "results": results,
        "peer": {"app": APP, "workers": workers, "url_path": "/movement-profiles"},
        "server_timing": timing,
        "request_us": request_breakdown(results, timing, os.cpu_count() or 1),
        "note": "ratio of the CPU rows: the peer's CPU per request over the gateway's",
    }


def gateway_group_us(summary: Summary) -> float:
    return sum(summary.cpu_us.get(part, 0.0) for part in ("nginx", "postgrest", "postgres"))


def peer_group_us(summary: Summary) -> float:
    return sum(summary.cpu_us.get(part, 0.0) for part in ("peer", "postgres"))


def request_breakdown(
    results: dict[str, Summary], timing: dict[str, dict[str, float]], cores: int
) -> dict[str, dict[str, dict[str, Any]]]:
    """Where each microsecond of a request goes, per operation and side.

    `cpu_us`: CPU per request of each process group under load. `machine_us`: the CPU time the
    machine had per request (cores / throughput); what the listed processes did not use of it
    went to other processes on the machine, the kernel's network work not charged to them, or
    idle waiting. `postgrest_phases_us`: PostgREST's own Server-Timing phases, wall time of one
    request at a time (medians), for GET and PATCH.
    """
    breakdown: dict[str, dict[str, dict[str, Any]]] = {}
    for mode, method in OPERATIONS.items():
        for side, parts in (
            ("gateway", ("nginx", "postgrest", "postgres", "wrk")),
            ("peer", ("peer", "postgres", "wrk")),
        ):
            summary = results[f"{mode} {side}"]
            cpu = {part: summary.cpu_us.get(part, 0.0) for part in parts}
            machine_us = cores * 1e6 / summary.per_second
            entry: dict[str, Any] = {
                "cpu_us": cpu,
                "cpu_total_us": round(sum(cpu.values()), 1),
                "machine_us": round(machine_us, 1),
                "unaccounted_us": round(machine_us - sum(cpu.values()), 1),
                "p50_us": round(summary.p50_ms * 1000),
            }
            if side == "gateway" and method in timing:
                # PostgREST 12.0 writes microseconds in `dur` (the header's spec says ms): a
                # "transaction;dur=213" belongs to a request answered in about 1 ms.
                entry["postgrest_phases_us"] = timing[method]
            breakdown.setdefault(method, {})[side] = entry
    return breakdown
