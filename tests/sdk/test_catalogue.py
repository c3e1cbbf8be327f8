"""The catalogue without a network: the model's verdicts in the database's words and order, the
admin functions' requests, and their answers mapped to models and errors (transport stubbed)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from movement_profiles import (
    AsyncMovementProfilesClient,
    AuthError,
    Catalogue,
    CatalogueChange,
    CatalogueField,
    ConflictError,
    MovementProfilesClient,
    PermissionDeniedError,
    UnexpectedResponseError,
    ValidationError,
    _core,
    _transport,
)

CATALOGUE_JSON: dict[str, Any] = {
    "fields": [
        {
            "name": "training_preferences",
            "label": "Training preferences",
            "description": "How you like to train.",
            "required": True,
            "built_in": True,
            "values": [
                {"value": "yoga", "label": "Yoga", "description": ""},
                {"value": "running", "label": "Running", "description": ""},
            ],
        },
        {
            "name": "goals",
            "label": "Goals",
            "description": "What you train for.",
            "required": True,
            "built_in": True,
            "values": [{"value": "rehab", "label": "Rehab", "description": ""}],
        },
        {
            "name": "injuries",
            "label": "Injuries",
            "description": "",
            "required": False,
            "built_in": False,
            "values": [
                {"value": "knee", "label": "Knee", "description": ""},
                {"value": "shoulder", "label": "Shoulder", "description": "Either side."},
            ],
        },
        {
            "name": "level",
            "label": "Level",
            "description": "",
            "required": True,
            "built_in": False,
            "values": [{"value": "beginner", "label": "Beginner", "description": ""}],
        },
    ]
}
CATALOGUE = Catalogue.model_validate(CATALOGUE_JSON)


def test_the_catalogue_reads_and_writes_the_functions_shape() -> None:
    assert CATALOGUE.names == ("training_preferences", "goals", "injuries", "level")
    assert CATALOGUE.field("injuries").allowed == ("knee", "shoulder")
    assert CATALOGUE.field("injuries").value("shoulder").description == "Either side."
    assert [field.name for field in CATALOGUE.custom_fields] == ["injuries", "level"]
    assert CATALOGUE.to_json() == CATALOGUE_JSON
    with pytest.raises(KeyError):
        CATALOGUE.field("restrictions")
    with pytest.raises(KeyError):
        CATALOGUE.field("injuries").value("ankle")
    # Keys a newer database adds are ignored; the catalogue is frozen.
    extended = {**CATALOGUE_JSON, "version": 2}
    assert Catalogue.model_validate(extended) == CATALOGUE
    with pytest.raises(Exception, match="frozen"):
        CATALOGUE.fields = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("goals", ["rehab"], None),
        ("goals", [], "goals must contain at least one value"),
        ("goals", "rehab", "goals must be a JSON array of strings"),
        ("goals", ["rehab", "rehab"], "goals contains more than 1 values"),
        (
            "training_preferences",
            ["yoga", 1],
            "training_preferences must be a JSON array of strings",
        ),
        (
            "training_preferences",
            ["dance"],
            'training_preferences contains an invalid value: "dance"',
        ),
        # The first bad entry decides: an invalid value before a duplicate, and the reverse.
        (
            "training_preferences",
            ["yoga", "yoga"],
            'training_preferences contains a duplicate value: "yoga"',
        ),
        (
            "training_preferences",
            ["dance", "dance"],
            'training_preferences contains an invalid value: "dance"',
        ),
        ("injuries", [], None),
        ("injuries", ["shoulder", "knee"], None),
        ("injuries", ["ankle"], 'injuries contains an invalid value: "ankle"'),
        ("level", [], "level must contain at least one value"),
    ],
)
def test_problem_is_the_databases_message(field: str, value: Any, message: str | None) -> None:
    assert CATALOGUE.problem(field, value) == message


def test_a_field_the_catalogue_lacks_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        CATALOGUE.problem("restrictions", ["x"])


FIELDS = "Fields: injuries, level"


@pytest.mark.parametrize(
    ("value", "verdict"),
    [
        ({"level": ["beginner"]}, None),
        ({"level": ["beginner"], "injuries": []}, None),
        ({"level": ["beginner"], "injuries": ["knee"]}, None),
        ([], ("custom_fields", "custom_fields must be a JSON object", FIELDS)),
        (None, ("custom_fields", "custom_fields must be a JSON object", FIELDS)),
        (
            {"level": ["beginner"], "foo": ["x"]},
            ("custom_fields", 'custom_fields contains an unknown field: "foo"', FIELDS),
        ),
        # jsonb keeps keys shortest first, then bytewise: "zz" is met before "aaa".
        (
            {"aaa": [], "zz": [], "level": ["beginner"]},
            ("custom_fields", 'custom_fields contains an unknown field: "zz"', FIELDS),
        ),
        # Unknown fields before any field's values.
        (
            {"level": "x", "b": []},
            ("custom_fields", 'custom_fields contains an unknown field: "b"', FIELDS),
        ),
        # Then the fields in display order, whatever order the object was written in.
        (
            {"level": [], "injuries": ["ankle"]},
            (
                "injuries",
                'injuries contains an invalid value: "ankle"',
                "Allowed values: knee, shoulder",
            ),
        ),
        (
            {},
            ("level", "level must contain at least one value", "Allowed values: beginner"),
        ),
        (
            {"level": ["beginner"], "injuries": None},
            (
                "injuries",
                "injuries must be a JSON array of strings",
                "Allowed values: knee, shoulder",
            ),
        ),
    ],
)
def test_custom_fields_problem_is_the_databases_error_in_its_order(
    value: Any, verdict: tuple[str, str, str] | None
) -> None:
    assert CATALOGUE.custom_fields_problem(value) == verdict


def test_a_catalogue_without_custom_fields_says_so_in_its_detail() -> None:
    built_in_only = Catalogue.model_validate({"fields": CATALOGUE_JSON["fields"][:2]})
    assert built_in_only.custom_fields_problem({}) is None
    assert built_in_only.custom_fields_problem({"injuries": []}) == (
        "custom_fields",
        'custom_fields contains an unknown field: "injuries"',
        "Fields: none",
    )


# -- the admin functions' requests and answers ------------------------------------------------


def response(status: int, body: Any = None) -> _core.Response:
    raw = b"" if body is None else json.dumps(body).encode()
    return _transport.response(httpx.Response(status, content=raw))


def drive(operation: _core.Operation[Any], answer: _core.Response) -> tuple[_core.Request, Any]:
    request = next(operation)
    try:
        operation.send(answer)
    except StopIteration as finished:
        return request, finished.value
    raise AssertionError("the operation wanted more responses")


INJURIES = CATALOGUE_JSON["fields"][2]


def test_catalogue_is_a_get_of_the_function() -> None:
    request, catalogue = drive(_core.catalogue.catalogue(), response(200, CATALOGUE_JSON))
    assert (request.method, request.path) == ("GET", "rpc/movement_profile_catalogue")
    assert request.idempotent
    assert catalogue == CATALOGUE


@pytest.mark.parametrize(
    ("operation", "path", "body", "result"),
    [
        (
            lambda: _core.catalogue.add_field("injuries", "Injuries", "", False, ("knee",)),
            "rpc/movement_profile_add_field",
            {
                "field": "injuries",
                "label": "Injuries",
                "description": "",
                "required": False,
                "allowed_values": ["knee"],
            },
            INJURIES,
        ),
        (
            # The label left out: the database makes one from the value.
            lambda: _core.catalogue.add_value("injuries", "ankle", None, ""),
            "rpc/movement_profile_add_value",
            {"field": "injuries", "value": "ankle", "description": ""},
            INJURIES,
        ),
        (
            lambda: _core.catalogue.relabel("injuries", "Knee (either)", "knee", None),
            "rpc/movement_profile_relabel",
            {"field": "injuries", "label": "Knee (either)", "value": "knee"},
            INJURIES,
        ),
        (
            lambda: _core.catalogue.retire_value("goals", "rehab", "replace", "lose_fat"),
            "rpc/movement_profile_retire_value",
            {"field": "goals", "value": "rehab", "profiles": "replace", "replacement": "lose_fat"},
            {"field": "goals", "value": "rehab", "profiles_changed": 3},
        ),
        (
            lambda: _core.catalogue.remove_field("injuries", "remove"),
            "rpc/movement_profile_remove_field",
            {"field": "injuries", "profiles": "remove"},
            {"field": "injuries", "profiles_changed": 2},
        ),
        (
            lambda: _core.catalogue.apply_catalogue(CATALOGUE, "refuse"),
            "rpc/movement_profile_apply_catalogue",
            {"catalogue": CATALOGUE_JSON, "profiles": "refuse"},
            {"changes": 4},
        ),
        (
            lambda: _core.catalogue.apply_catalogue(CATALOGUE_JSON, "remove"),
            "rpc/movement_profile_apply_catalogue",
            {"catalogue": CATALOGUE_JSON, "profiles": "remove"},
            {"changes": 0},
        ),
    ],
)
def test_admin_functions_post_their_arguments(
    operation: Callable[[], _core.Operation[Any]], path: str, body: Any, result: Any
) -> None:
    request, value = drive(operation(), response(200, result))
    assert (request.method, request.path) == ("POST", path)
    # Never retried once sent: a change may have been applied.
    assert not request.idempotent
    assert json.loads(request.body or b"") == body
    if isinstance(value, CatalogueField):
        assert value.model_dump(mode="json") == result
    else:
        assert value == result.get("profiles_changed", result.get("changes"))


def test_catalogue_sql_and_changes_are_reads() -> None:
    request, sql = drive(_core.catalogue.catalogue_sql(), response(200, "select 1;\n"))
    assert (request.method, request.path, sql) == (
        "GET",
        "rpc/movement_profile_catalogue_sql",
        "select 1;\n",
    )
    change = {
        "id": 7,
        "changed_at": "2026-12-06T21:00:00.5+00:00",
        "changed_by": "service_role",
        "action": "retire_value",
        "field": "goals",
        "value": "rehab",
        "before": {"name": "goals"},
        "after": {"name": "goals", "profiles": "remove"},
        "profiles_changed": 2,
    }
    request, changes = drive(_core.catalogue.catalogue_changes(5), response(200, [change]))
    assert (request.method, request.path) == ("GET", "rpc/movement_profile_catalogue_changes")
    assert dict(request.params) == {"max_rows": "5"}
    assert changes == [CatalogueChange.model_validate(change)]
    assert changes[0].profiles_changed == 2
    assert changes[0].changed_at.utcoffset() is not None
    with pytest.raises(ValidationError, match="max_rows"):
        next(_core.catalogue.catalogue_changes(0))


def pgrst(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "details": None, "hint": None, **extra}


@pytest.mark.parametrize(
    ("status", "body", "error_class"),
    [
        # Profiles hold what the change would take away: a conflict with the stored state.
        (
            409,
            pgrst("23503", '"rehab" is held by 12 movement profiles', hint="goals"),
            ConflictError,
        ),
        (409, pgrst("23505", 'field "injuries" already exists', hint="injuries"), ConflictError),
        (400, pgrst("22023", 'no field "nope"'), ValidationError),
        (401, pgrst("42501", "permission denied for function"), AuthError),
        (403, pgrst("42501", "permission denied for function"), PermissionDeniedError),
    ],
)
def test_admin_errors_map_to_one_class(
    status: int, body: dict[str, Any], error_class: type[Exception]
) -> None:
    operation = _core.catalogue.retire_value("goals", "rehab", "refuse", None)
    next(operation)
    with pytest.raises(error_class) as raised:
        operation.send(response(status, body))
    error = raised.value
    assert type(error) is error_class
    assert (error.code, error.message, error.hint) == (body["code"], body["message"], body["hint"])  # type: ignore[attr-defined]


def test_a_foreign_key_error_of_a_profile_write_is_still_invalid_input() -> None:
    # Outside the catalogue's functions 23503 means a user_id naming no auth user.
    assert type(_core.error_from_response(response(409, pgrst("23503", "fk")))) is ValidationError


@pytest.mark.parametrize(
    "operation",
    [
        lambda: _core.catalogue.catalogue(),
        lambda: _core.catalogue.add_value("goals", "x", None, ""),
        lambda: _core.catalogue.retire_value("goals", "x", "refuse", None),
        lambda: _core.catalogue.catalogue_sql(),
        lambda: _core.catalogue.catalogue_changes(1),
    ],
)
def test_answers_of_another_shape_are_unexpected(
    operation: Callable[[], _core.Operation[Any]],
) -> None:
    with pytest.raises(UnexpectedResponseError, match="unexpected shape"):
        drive(operation(), response(200, {"fields": "nope", "profiles_changed": "2"}))


def test_apply_catalogue_takes_a_catalogue_or_a_mapping_only() -> None:
    with pytest.raises(ValidationError, match="expected a Catalogue or a mapping"):
        next(_core.catalogue.apply_catalogue([], "refuse"))  # type: ignore[arg-type]


# -- both clients over a stubbed transport ------------------------------------------------------


def answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path.rsplit("/", 1)[-1]
    if path == "movement_profile_catalogue":
        return httpx.Response(200, json=CATALOGUE_JSON)
    if path == "movement_profile_add_field":
        sent = json.loads(request.content)
        return httpx.Response(
            200,
            json={
                **INJURIES,
                "name": sent["field"],
                "label": sent["label"],
                "required": sent["required"],
            },
        )
    if path == "movement_profile_remove_field":
        return httpx.Response(
            409, json=pgrst("23503", "injuries is held by 2 movement profiles", hint="injuries")
        )
    return httpx.Response(404, json=pgrst("PGRST202", "no such function"))


def test_the_sync_client_reads_and_changes_the_catalogue() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    with MovementProfilesClient(
        "http://api.test",
        "service-key",
        http_client=httpx.Client(transport=httpx.MockTransport(record)),
    ) as client:
        assert client.catalogue() == CATALOGUE
        field = client.add_field(
            "restrictions", label="Restrictions", allowed_values=["no_jumping"]
        )
        assert (field.name, field.label, field.required) == ("restrictions", "Restrictions", False)
        with pytest.raises(ConflictError, match="held by 2"):
            client.remove_field("injuries")
    assert [request.url.path for request in seen] == [
        "/rest/v1/rpc/movement_profile_catalogue",
        "/rest/v1/rpc/movement_profile_add_field",
        "/rest/v1/rpc/movement_profile_remove_field",
    ]
    assert json.loads(seen[1].content)["allowed_values"] == ["no_jumping"]
    assert json.loads(seen[2].content) == {"field": "injuries", "profiles": "refuse"}


async def test_the_async_client_reads_and_changes_the_catalogue() -> None:
    async with AsyncMovementProfilesClient(
        "http://api.test",
        "service-key",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(answer)),
    ) as client:
        assert await client.catalogue() == CATALOGUE
        field = await client.add_field("restrictions", label="Restrictions", required=True)
        assert field.required
        with pytest.raises(ConflictError, match="held by 2"):
            await client.remove_field("injuries", profiles="refuse")
