"""The catalogue through the real gateway and PostgREST: what an admin's change does to the API at
once, who may change it, and that a change racing users' writes lets nothing invalid in.

Each test adds fields of its own (unique names) and removes them at the end, so the suites that
share the stack see the catalogue as shipped.
"""

from __future__ import annotations

import collections
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from movement_profiles_cli.stack.local_stack import LocalStack
from movement_profiles_cli.stack.state import StackState
from tests.support.databases import push_migrations, scratch_database
from tests.support.users import StackUser

pytestmark = pytest.mark.integration


@pytest.fixture
def admin(stack: StackState) -> Iterator[httpx.Client]:
    key = stack.service_role_key
    headers = {"apikey": key, "Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=stack.rest_url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
def field(admin: httpx.Client) -> Iterator[str]:
    """A new optional field with values a, b and c; removed (from every profile too) afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    added = admin.post(
        "/rpc/movement_profile_add_field",
        json={"field": name, "label": "Test field", "allowed_values": ["a", "b", "c"]},
    )
    assert added.status_code == 200, added.text
    yield name
    removed = admin.post(
        "/rpc/movement_profile_remove_field", json={"field": name, "profiles": "remove"}
    )
    assert removed.status_code == 200, removed.text


def user_client(stack: StackState, user: StackUser) -> httpx.Client:
    return httpx.Client(
        base_url=stack.rest_url,
        headers={"apikey": stack.anon_key, "Authorization": f"Bearer {user.access_token}"},
        timeout=30,
    )


def create_profile(stack: StackState, user: StackUser, custom_fields: object) -> httpx.Response:
    with user_client(stack, user) as client:
        return client.post(
            "/movement_profiles",
            json={
                "training_preferences": ["yoga"],
                "goals": ["rehab"],
                "custom_fields": custom_fields,
            },
            headers={"Prefer": "return=representation"},
        )


def test_a_new_field_is_served_validated_and_filterable_at_once(
    stack: StackState, admin: httpx.Client, field: str, make_user: Callable[[], StackUser]
) -> None:
    anonymous = httpx.get(
        f"{stack.rest_url}/rpc/movement_profile_catalogue", headers={"apikey": stack.anon_key}
    )
    assert anonymous.status_code == 200
    listed = {entry["name"]: entry for entry in anonymous.json()["fields"]}
    assert [value["label"] for value in listed[field]["values"]] == ["A", "B", "C"]

    user = make_user()
    created = create_profile(stack, user, {field: ["b"]})
    assert created.status_code == 201, created.text
    assert created.json()[0]["custom_fields"] == {field: ["b"]}

    refused = create_profile(stack, make_user(), {field: ["z"]})
    assert refused.status_code == 400
    assert refused.json() == {
        "code": "23514",
        "message": f'{field} contains an invalid value: "z"',
        "details": "Allowed values: a, b, c",
        "hint": field,
    }

    found = admin.get(
        "/movement_profiles",
        params={"select": "user_id", "custom_fields": f'cs.{{"{field}":["b"]}}'},
    )
    assert found.json() == [{"user_id": str(user.id)}]


def test_only_the_service_role_changes_the_catalogue(
    stack: StackState, make_user: Callable[[], StackUser]
) -> None:
    body = {"field": "goals", "value": "rehab", "profiles": "remove"}
    anonymous = httpx.post(
        f"{stack.rest_url}/rpc/movement_profile_retire_value",
        json=body,
        headers={"apikey": stack.anon_key},
    )
    assert anonymous.status_code == 401, anonymous.text
    with user_client(stack, make_user()) as client:
        signed_in = client.post("/rpc/movement_profile_retire_value", json=body)
    assert signed_in.status_code == 403, signed_in.text
    catalogue = httpx.get(
        f"{stack.rest_url}/rpc/movement_profile_options", headers={"apikey": stack.anon_key}
    )
    assert "rehab" in catalogue.json()["goals"]


def test_retiring_a_held_value_is_refused_with_the_number_of_profiles(
    stack: StackState, admin: httpx.Client, field: str, make_user: Callable[[], StackUser]
) -> None:
    for _ in range(2):
        assert create_profile(stack, make_user(), {field: ["a", "c"]}).status_code == 201
    refused = admin.post("/rpc/movement_profile_retire_value", json={"field": field, "value": "a"})
    assert refused.status_code == 409
    assert refused.json()["message"] == '"a" is held by 2 movement profiles'
    assert refused.json()["hint"] == field

    replaced = admin.post(
        "/rpc/movement_profile_retire_value",
        json={"field": field, "value": "a", "profiles": "replace", "replacement": "b"},
    )
    assert replaced.json() == {"field": field, "value": "a", "profiles_changed": 2}
    held = admin.get(
        "/movement_profiles",
        params={"select": "custom_fields", "custom_fields": f'cs.{{"{field}":[]}}'},
    )
    assert {tuple(row["custom_fields"][field]) for row in held.json()} == {("c", "b")}


def test_a_value_retired_while_users_write_it_ends_up_in_no_profile(
    stack: StackState,
    admin: httpx.Client,
    field: str,
    make_user: Callable[[], StackUser],
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    # Users rewrite their profiles with value "a" as fast as they can while the admin retires
    # "a" (taking it out of the profiles): whatever order the transactions commit in, no profile
    # may hold "a" afterwards, and writes after the retirement are refused, not lost silently.
    writers = [make_user() for _ in range(6)]
    for user in writers:
        assert create_profile(stack, user, {field: ["b"]}).status_code == 201
    stop = threading.Event()
    statuses: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()

    def write(user: StackUser) -> None:
        with user_client(stack, user) as client:
            turn = 0
            while not stop.is_set():
                values = ["a"] if turn % 2 else ["a", "b"]
                answer = client.patch(
                    "/movement_profiles",
                    params={"user_id": f"eq.{user.id}"},
                    json={"custom_fields": {field: values}},
                )
                with lock:
                    statuses[answer.status_code] += 1
                turn += 1

    threads = [threading.Thread(target=write, args=(user,)) for user in writers]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    retired = admin.post(
        "/rpc/movement_profile_retire_value",
        json={"field": field, "value": "a", "profiles": "remove"},
    )
    time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join()

    assert retired.status_code == 200, retired.text
    holding = db.execute(
        "select count(*) from public.movement_profiles"
        " where custom_fields -> %s @> '[\"a\"]'::jsonb",
        (field,),
    ).fetchone()
    assert holding == (0,)
    # Both sides of the race happened: writes of "a" before the retirement, refusals after it.
    assert statuses[204] > 0, statuses
    assert statuses[400] > 0, statuses
    assert set(statuses) <= {204, 400}, statuses


def catalogue_of(stack: StackState, database: str) -> object:
    with psycopg.connect(stack.db_url(database=database)) as connection:
        row = connection.execute("select public.movement_profile_catalogue()").fetchone()
    assert row is not None
    return row[0]


def test_an_exported_catalogue_is_a_migration_that_gives_another_environment_the_same_catalogue(
    stack: StackState,
    local_stack: LocalStack,
    admin: httpx.Client,
    field: str,
    tmp_path: Path,
) -> None:
    # The recommended workflow: change the catalogue in one place, export it as a migration, and
    # let the Supabase CLI apply it to the next environment after the component's migrations.
    relabelled = admin.post(
        "/rpc/movement_profile_relabel", json={"field": field, "value": "b", "label": "Bee"}
    )
    assert relabelled.status_code == 200, relabelled.text
    exported = admin.post("/rpc/movement_profile_catalogue_sql")
    assert exported.status_code == 200, exported.text
    project = tmp_path / "project"
    migrations = project / "supabase" / "migrations"
    shutil.copytree(local_stack.project_dir / "supabase" / "migrations", migrations)
    shutil.copy(local_stack.project_dir / "supabase" / "config.toml", project / "supabase")
    newest = max(path.name.split("_")[0] for path in migrations.glob("*.sql"))
    export_file = migrations / f"{int(newest) + 1}_movement_profiles_catalogue.sql"
    export_file.write_text(exported.json())

    with scratch_database(local_stack) as other:
        push_migrations(local_stack, stack, other, project)
        here = admin.post("/rpc/movement_profile_catalogue").json()
        assert catalogue_of(stack, other) == here
        assert field in {entry["name"] for entry in here["fields"]}

        # Applied again, it changes nothing; it records what it changed, and only that.
        with psycopg.connect(stack.db_url(database=other)) as connection:
            again = connection.execute(exported.json()).fetchone()
            recorded = connection.execute(
                "select action, field from movement_profiles_internal.catalogue_changes"
            ).fetchall()
        assert again == ({"changes": 0},)
        assert recorded == [("apply_field", field)]


def test_applying_a_catalogue_that_drops_a_held_value_is_refused_unless_asked(
    stack: StackState, admin: httpx.Client, field: str, make_user: Callable[[], StackUser]
) -> None:
    assert create_profile(stack, make_user(), {field: ["c"]}).status_code == 201
    wanted = admin.post("/rpc/movement_profile_catalogue").json()
    for entry in wanted["fields"]:
        if entry["name"] == field:
            entry["values"] = [value for value in entry["values"] if value["value"] != "c"]
    refused = admin.post("/rpc/movement_profile_apply_catalogue", json={"catalogue": wanted})
    assert refused.status_code == 409
    assert refused.json()["message"] == '"c" is held by 1 movement profile'
    applied = admin.post(
        "/rpc/movement_profile_apply_catalogue", json={"catalogue": wanted, "profiles": "remove"}
    )
    assert applied.json() == {"changes": 1}
    assert admin.post("/rpc/movement_profile_catalogue").json() == wanted
