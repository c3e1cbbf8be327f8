"""The gateway against the story's design as a peer (target from the story: >= 10x the peer's
requests/s for GET and PATCH).

bench/story_service.py under uvicorn, one worker per core, on the same database and table; both
answer the contract's requests with each user's own token, interleaved round by round: GET, and
the gateway's PATCH against the story's PUT with the same body.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from bench.measure import BENCH_DIR, Bench, MeasurementError, Row, ratio_row
from tests.support.ports import free_port

TITLE = "the gateway against the story's FastAPI + SQLAlchemy design"
TARGET = 10.0


def _terminate_with_parent() -> None:
    """In the peer's process before uvicorn starts: SIGTERM when the bench ends, however it ends."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class PeerService:
    """bench/story_service.py under uvicorn on a free port; stopped on leaving the context."""

    def __init__(self, db_url: str, jwt_secret: str, log_file: Path, *, workers: int = 0) -> None:
        self.db_url, self.jwt_secret, self.log_file = db_url, jwt_secret, log_file
        self.workers = workers or os.cpu_count() or 1
        self.url = f"http://127.0.0.1:{free_port()}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PeerService:
        command = [
            *(sys.executable, "-m", "uvicorn", "bench.story_service:app", "--host", "127.0.0.1"),
            *("--port", self.url.rsplit(":", 1)[1], "--workers", str(self.workers)),
            *("--no-access-log", "--log-level", "warning"),
        ]
        environment = {
            **os.environ,
            "PYTHONPATH": str(BENCH_DIR.parent),
            "DATABASE_URL": self.db_url,
            "SUPABASE_JWT_SECRET": self.jwt_secret,
        }
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                command,
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

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def _wait_until_ready(self) -> None:
        """Until every worker has started: uvicorn's master answers as soon as the first is up."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MeasurementError(f"the peer exited: {self.log_file.read_text()[-2000:]}")
            try:
                answered = httpx.get(f"{self.url}/openapi.json", timeout=1).status_code == 200
                workers = len(children.read_text().split()) if self.workers > 1 else 0
            except (httpx.TransportError, OSError):
                answered, workers = False, 0
            if answered and workers >= (self.workers if self.workers > 1 else 0):
                return
            time.sleep(0.2)
        raise MeasurementError("the peer did not start within 30 s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # uvicorn's master stops its workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def run(bench: Bench) -> list[Row]:
    state = bench.state
    with PeerService(state.db_url(), state.jwt_secret, bench.workdir / "peer.log") as peer:
        runs = bench.side_by_side(
            "story_peer",
            ("get", "patch"),
            {
                "gateway": lambda mode: bench.wrk(f"{state.rest_url}/movement_profiles", mode),
                "peer": lambda mode: bench.wrk(f"{peer.url}/movement-profiles", mode, api="story"),
            },
        )
    return [
        ratio_row(
            f"{label} through the gateway against the story's service ({peer.workers} workers)",
            runs[f"{mode} gateway"],
            runs[f"{mode} peer"],
            TARGET,
        )
        for mode, label in (("get", "GET"), ("patch", "PATCH (its PUT)"))
    ]
