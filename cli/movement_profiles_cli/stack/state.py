"""Where a stack lives and what it is made of, persisted as `<state folder>/stack.json`.

The ports and secret are chosen on the first `up` and kept, so every later command (and every test
process) finds the same stack from its state folder alone.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from movement_profiles_cli.stack import jwt

DEFAULT_API_PORT = 54321
DEFAULT_DB_PORT = 54322
# PostgREST is internal (only the gateway talks to it); these sit beside Supabase's own ports.
DEFAULT_REST_PORT = 54331
DEFAULT_REST_ADMIN_PORT = 54332
DB_PASSWORD = "postgres"
# The cluster's bootstrap superuser, as on the Supabase platform. Only the stack itself logs in as
# it (to lay the platform baseline and to recreate the database); everything else is `postgres`,
# which is not a superuser.
ADMIN_USER = "supabase_admin"
STATE_DIR_ENV = "MOVEMENT_PROFILES_STACK_DIR"
PROJECT_DIR_ENV = "MOVEMENT_PROFILES_PROJECT_DIR"


def find_project_dir() -> Path:
    """The checkout holding supabase/config.toml: from the environment, the cwd, or this file."""
    configured = os.environ.get(PROJECT_DIR_ENV)
    if configured:
        return Path(configured).resolve()
    for start in (Path.cwd(), Path(__file__).resolve()):
        for candidate in (start, *start.parents):
            if (candidate / "supabase" / "config.toml").is_file():
                return candidate
    raise FileNotFoundError(
        "supabase/config.toml not found: run from the movement-profiles checkout"
    )


def default_state_dir() -> Path:
    configured = os.environ.get(STATE_DIR_ENV)
    if configured:
        return Path(configured).resolve()
    return find_project_dir() / ".stack"


def fallback_runtime_dir(state_dir: Path) -> Path:
    """Runtime folder for when the service user cannot reach the state folder (e.g. under /root)."""
    digest = hashlib.sha256(str(state_dir).encode()).hexdigest()[:12]
    return Path("/var/tmp") / f"movement-profiles-{digest}"


@dataclass
class Pids:
    postgres: int | None = None
    postgrest: int | None = None
    nginx: int | None = None


@dataclass
class StackState:
    state_dir: Path
    runtime_dir: Path
    api_port: int = DEFAULT_API_PORT
    db_port: int = DEFAULT_DB_PORT
    rest_port: int = DEFAULT_REST_PORT
    rest_admin_port: int = DEFAULT_REST_ADMIN_PORT
    jwt_secret: str = jwt.DEFAULT_JWT_SECRET
    # The PostgreSQL major the cluster was made with (15 or 17); stacks recorded before there was
    # a choice are 15.
    pg_major: int = 15
    # The Supabase project folder whose supabase/migrations and supabase/seed.sql the stack
    # applies; None: the checkout's own. Tools (PostgREST, the Supabase CLI) always come from the
    # checkout.
    supabase_project: Path | None = None
    pids: Pids = field(default_factory=Pids)

    @property
    def file(self) -> Path:
        return self.state_dir / "stack.json"

    @property
    def pgdata(self) -> Path:
        return self.runtime_dir / "pgdata"

    @property
    def logs(self) -> Path:
        return self.runtime_dir / "logs"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def rest_url(self) -> str:
        return f"{self.api_url}/rest/v1"

    @property
    def postgrest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    def db_url(self, user: str = "postgres", database: str = "postgres") -> str:
        return (
            f"postgresql://{user}:{DB_PASSWORD}@127.0.0.1:{self.db_port}/{database}?sslmode=disable"
        )

    @property
    def anon_key(self) -> str:
        return jwt.api_key("anon", self.jwt_secret)

    @property
    def service_role_key(self) -> str:
        return jwt.api_key("service_role", self.jwt_secret)

    def environment(self) -> dict[str, str]:
        """The names `supabase status -o env` prints, plus the SDK's SUPABASE_* variables."""
        return {
            "API_URL": self.api_url,
            "REST_URL": self.rest_url,
            "DB_URL": self.db_url(),
            "JWT_SECRET": self.jwt_secret,
            "ANON_KEY": self.anon_key,
            "SERVICE_ROLE_KEY": self.service_role_key,
        }

    def save(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        record: dict[str, object] = {**asdict(self), **self.client_settings()}
        record["state_dir"] = str(self.state_dir)
        record["runtime_dir"] = str(self.runtime_dir)
        record["supabase_project"] = self.supabase_project and str(self.supabase_project)
        temporary = self.file.with_suffix(".tmp")
        temporary.write_text(json.dumps(record, indent=2) + "\n")
        temporary.chmod(0o600)
        temporary.replace(self.file)

    def client_settings(self) -> dict[str, str]:
        """What the SDK reads from stack.json without the CLI (docs/sdk.md lists these fields);
        derived from the rest, so `load` ignores them."""
        return {
            "api_url": self.api_url,
            "anon_key": self.anon_key,
            "service_role_key": self.service_role_key,
        }

    @classmethod
    def load(cls, state_dir: Path) -> StackState | None:
        try:
            record = json.loads((state_dir / "stack.json").read_text())
        except (OSError, ValueError):
            return None
        for derived in ("api_url", "anon_key", "service_role_key"):
            record.pop(derived, None)
        record["state_dir"] = Path(record["state_dir"])
        record["runtime_dir"] = Path(record["runtime_dir"])
        if record.get("supabase_project"):
            record["supabase_project"] = Path(record["supabase_project"])
        record["pids"] = Pids(**record.get("pids", {}))
        return cls(**record)
