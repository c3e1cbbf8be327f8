"""Host projects for the host suite: what they are, how their own API is asked, what is compared.

A host is a Supabase project folder that movement-profiles is installed into:
- a fixture of ours, `tests/hosts/<host>/` (supabase/migrations, supabase/seed.sql), or
- a real open-source Supabase application, `tests/hosts/fetched/<owner>+<name>/`: host.json names
  the repository, commit and migration files, read with `git show` from a snapshot in
  $MOVEMENT_PROFILES_HOST_SNAPSHOTS (`<owner>+<name>/repo`, a git folder); nothing of it is
  committed here, only its README, our seed and our requests.

Each host has `requests.json`: its own API requests, each sent as one of the identities below.
`after_install/*.sql` (optional) are migrations the host adds after installing the component, as
the install guide tells it to (chaining its own pre-request hook); they get versions after the
component's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from movement_profiles_cli.stack import jwt
from movement_profiles_cli.stack.local_stack import LocalStack
from movement_profiles_cli.stack.state import ADMIN_USER

HOSTS_DIR = Path(__file__).resolve().parent
SNAPSHOTS_ENV = "MOVEMENT_PROFILES_HOST_SNAPSHOTS"
SNAPSHOT_SQL = (HOSTS_DIR / "snapshot.sql").read_text()
#: The signed-in host user every fixture's seed creates (a Supabase Auth user: a UUID `sub`).
HOST_USER_ID = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
#: A third-party-auth user (Clerk's id format): `role: authenticated`, no row in auth.users.
THIRD_PARTY_SUB = "user_2NNEqL2nrIRdJ194ndJqAHwEfxC"
IDENTITIES = ("anon", "user", "third_party", "service")
#: Roles whose settings a host may change and the next host must not inherit; the baseline sets
#: the platform's again.
API_ROLES = ("anon", "authenticated", "service_role", "authenticator", "postgres")
MOVEMENT_PROFILES = Path(sys.executable).with_name("movement-profiles")


@dataclass(frozen=True)
class HostRequest:
    name: str
    identity: str
    method: str
    path: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def content(self) -> tuple[bytes | None, dict[str, str]]:
        if self.body is None:
            return None, {}
        if isinstance(self.body, str):
            return self.body.encode(), {}
        return json.dumps(self.body).encode(), {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Host:
    name: str
    folder: Path
    requests: list[HostRequest]
    #: For a real application: where its files come from ({"repository", "commit", "paths"}).
    source: dict[str, Any] | None = None

    @property
    def after_install(self) -> list[Path]:
        return sorted((self.folder / "after_install").glob("*.sql"))

    def materialize(self, into: Path) -> Path:
        """A Supabase project folder of the host that the install may write to."""
        project = into / self.name
        if self.source is None:
            shutil.copytree(self.folder / "supabase", project / "supabase")
            return project
        migrations = project / "supabase" / "migrations"
        migrations.mkdir(parents=True)
        repository = snapshot_repository(self.source["repository"])
        assert repository is not None
        for path in self.source["paths"]:
            content = subprocess.run(
                ["git", "-C", str(repository), "show", f"{self.source['commit']}:{path}"],
                check=True,
                capture_output=True,
            ).stdout
            (migrations / Path(path).name).write_bytes(content)
        seed = self.folder / "seed.sql"
        if seed.is_file():
            shutil.copy(seed, project / "supabase" / "seed.sql")
        return project


def snapshot_repository(repository: str) -> Path | None:
    """The git folder of a fetched snapshot of `owner/name`, if one is present."""
    folder = os.environ.get(SNAPSHOTS_ENV)
    if not folder:
        return None
    candidate = Path(folder) / repository.replace("/", "+") / "repo"
    return candidate if candidate.is_dir() else None


def snapshot_missing(host: Host) -> str | None:
    """Why a real application's host cannot run here, or None."""
    if host.source is None:
        return None
    repository = snapshot_repository(host.source["repository"])
    if repository is None:
        return (
            f"no snapshot of {host.source['repository']}: set {SNAPSHOTS_ENV} to a folder holding "
            f"{host.source['repository'].replace('/', '+')}/repo (see {host.folder}/README.md)"
        )
    probe = subprocess.run(
        ["git", "-C", str(repository), "cat-file", "-e", f"{host.source['commit']}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"the snapshot of {host.source['repository']} lacks commit {host.source['commit']}"
    return None


def load_hosts() -> list[Host]:
    hosts = []
    folders = [
        *sorted(p.parent for p in HOSTS_DIR.glob("*/requests.json")),
        *sorted(p.parent for p in (HOSTS_DIR / "fetched").glob("*/requests.json")),
    ]
    for folder in folders:
        spec = json.loads((folder / "requests.json").read_text())
        source_file = folder / "host.json"
        hosts.append(
            Host(
                name=folder.name,
                folder=folder,
                requests=[
                    HostRequest(
                        name=item["name"],
                        identity=item["as"],
                        method=item["method"],
                        path=item["path"],
                        body=item.get("body"),
                        headers=item.get("headers", {}),
                    )
                    for item in spec["requests"]
                ],
                source=json.loads(source_file.read_text()) if source_file.is_file() else None,
            )
        )
    return hosts


# -- the stack ----------------------------------------------------------------------------------


def load_host(stack: LocalStack, project: Path) -> None:
    """The stack's database as the host has it before the install: platform baseline, the host's
    migrations and seed (as `postgres`), role settings as the platform's, a fresh PostgREST."""
    for role in API_ROLES:
        stack.psql("--command", f"alter role {role} reset all", user=ADMIN_USER)
    stack.state.supabase_project = project
    stack.reset()


def install(stack: LocalStack, host: Host, project: Path) -> None:
    """As the install guide says: `movement-profiles install`, the host's own follow-up
    migrations, then `supabase migration up` (locally; `supabase db push` on hosted)."""
    subprocess.run(
        [str(MOVEMENT_PROFILES), "install", str(project)], check=True, capture_output=True
    )
    migrations = project / "supabase" / "migrations"
    newest = max(int(path.name.split("_", 1)[0]) for path in migrations.glob("*.sql"))
    for offset, follow_up in enumerate(host.after_install, start=1):
        shutil.copy(follow_up, migrations / f"{newest + offset}_{follow_up.name}")
    stack.migrate()


def privileges(stack: LocalStack) -> dict[str, tuple[str | None, Any]]:
    with psycopg.connect(stack.state.db_url(), autocommit=True) as connection:
        rows = connection.execute(SNAPSHOT_SQL).fetchall()
    return {str(key): (parent, value) for key, parent, value in rows}


def privilege_changes(
    before: dict[str, tuple[str | None, Any]], after: dict[str, tuple[str | None, Any]]
) -> list[str]:
    """What the install changed of what the host (or the platform) had: every key that existed
    and differs or is gone, and every new key on an object that existed (a grant on a host table,
    a setting of a host role). The one exception: `pgrst.db_pre_request` of the authenticator
    when the host had none."""
    changes = []
    for key, (_parent, value) in before.items():
        if key not in after:
            changes.append(f"{key}: gone")
        elif after[key][1] != value:
            changes.append(f"{key}: {value} -> {after[key][1]}")
    hook = "role setting authenticator | (all databases) | pgrst.db_pre_request"
    for key, (parent, value) in after.items():
        if key in before or parent is None or parent not in before or key == hook:
            continue
        changes.append(f"{key}: new, {value}")
    return changes


# -- requests -----------------------------------------------------------------------------------


def headers_for(identity: str, secret: str) -> dict[str, str]:
    """What a client of the host sends as that identity (supabase-js sends the key as `apikey`
    and, without a session, as the bearer token too)."""
    now = int(time.time())
    anon = jwt.api_key("anon", secret)
    if identity == "anon":
        return {"apikey": anon, "Authorization": f"Bearer {anon}"}
    if identity == "service":
        service = jwt.api_key("service_role", secret)
        return {"apikey": service, "Authorization": f"Bearer {service}"}
    if identity == "user":
        token = jwt.user_token(HOST_USER_ID, secret, issued_at=now, expires_in=3600)
    elif identity == "third_party":
        token = jwt.sign_hs256(
            {
                "sub": THIRD_PARTY_SUB,
                "role": "authenticated",
                "iss": "https://clerk.example.com",
                "iat": now,
                "exp": now + 3600,
            },
            secret,
        )
    else:
        raise ValueError(f"unknown identity {identity!r}: one of {IDENTITIES}")
    return {"apikey": anon, "Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Answer:
    status: int
    body: str

    def __str__(self) -> str:
        return f"{self.status} {self.body[:300]}"


def record(stack: LocalStack, requests: list[HostRequest], *, gateway: bool) -> list[Answer]:
    """Every request's answer, straight from PostgREST or through the gateway, in order."""
    base = stack.state.rest_url if gateway else stack.state.postgrest_url
    answers = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for request in requests:
            content, content_headers = request.content()
            response = client.request(
                request.method,
                request.path,
                content=content,
                headers={
                    **content_headers,
                    **headers_for(request.identity, stack.state.jwt_secret),
                    **request.headers,
                },
            )
            answers.append(Answer(response.status_code, response.text))
    return answers
