"""The sans-I/O core without a network: responses to exceptions, operations step by step, and the
clients' retry loops over a stubbed transport."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from movement_profiles import (
    AsyncMovementProfilesClient,
    AuthError,
    ConflictError,
    MovementProfileCreate,
    MovementProfilesClient,
    NotFoundError,
    PermissionDeniedError,
    ServiceUnavailableError,
    StaleUpdateError,
    UnexpectedResponseError,
    ValidationError,
    _core,
    _transport,
)
from movement_profiles.errors import (
    ConnectError,
    MovementProfilesError,
    ResponseTimeoutError,
    ServerError,
    TransportError,
)
from movement_profiles.options import PROFILE_COLUMNS

USER = uuid.UUID("11111111-1111-4111-8111-111111111111")
ROW = {
    "id": "743f0655-7af0-41b5-8d0f-70c741f739e2",
    "user_id": str(USER),
    "training_preferences": ["yoga"],
    "goals": ["rehab"],
    "created_at": "2026-11-26T11:49:43.425575+00:00",
    "updated_at": "2026-11-26T11:49:51.193424+00:00",
}


def response(status: int, body: Any = None, **headers: str) -> _core.Response:
    raw = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    return _transport.response(httpx.Response(status, content=raw, headers=headers))


def pgrst(code: str | None, message: str = "m", **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "details": None, "hint": None, **extra}


@pytest.mark.parametrize(
    ("status", "body", "error_class", "story_status"),
    [
        pytest.param(400, pgrst("23514", hint="goals"), ValidationError, 400, id="check-23514"),
        pytest.param(400, pgrst("22P02"), ValidationError, 400, id="bad-text-22P02"),
        pytest.param(400, pgrst("PGRST102"), ValidationError, 400, id="bad-body-PGRST102"),
        pytest.param(400, pgrst("23502"), ValidationError, 400, id="not-null-23502"),
        pytest.param(409, pgrst("23503"), ValidationError, 400, id="no-such-user-23503"),
        pytest.param(
            413,
            {"message": "too large", "code": "PAYLOAD_TOO_LARGE"},
            ValidationError,
            400,
            id="gateway-413",
        ),
        pytest.param(409, pgrst("23505"), ConflictError, 409, id="duplicate-23505"),
        pytest.param(406, pgrst("PGRST116"), NotFoundError, 404, id="no-row-PGRST116"),
        pytest.param(401, pgrst("PGRST301"), AuthError, 401, id="bad-jwt-PGRST301"),
        pytest.param(401, pgrst("PGRST302"), AuthError, 401, id="anonymous-PGRST302"),
        pytest.param(401, {"message": "Invalid API key"}, AuthError, 401, id="gateway-401"),
        pytest.param(401, pgrst("42501"), AuthError, 401, id="anonymous-42501"),
        pytest.param(
            400,
            pgrst("22023", 'role "nobody" does not exist'),
            AuthError,
            401,
            id="token-role-22023",
        ),
        pytest.param(403, pgrst("42501"), PermissionDeniedError, 403, id="forbidden-42501"),
        pytest.param(503, pgrst("PGRST001"), ServerError, 503, id="no-db-PGRST001"),
        pytest.param(
            503,
            {"message": "down", "code": "SERVICE_UNAVAILABLE"},
            ServerError,
            503,
            id="gateway-503",
        ),
        pytest.param(500, pgrst("XX000"), ServerError, 503, id="internal-500"),
        pytest.param(502, b"<html>Bad Gateway</html>", ServerError, 503, id="html-502"),
        pytest.param(429, b"", ServerError, 503, id="too-many-429"),
        pytest.param(404, pgrst("PGRST205"), UnexpectedResponseError, 502, id="no-table-PGRST205"),
        pytest.param(405, b"", UnexpectedResponseError, 502, id="odd-405"),
    ],
)
def test_each_error_response_maps_to_one_class(
    status: int, body: Any, error_class: type[MovementProfilesError], story_status: int
) -> None:
    error = _core.error_from_response(response(status, body))
    assert type(error) is error_class
    assert error.status == story_status
    assert error.response is not None
    assert error.response.status_code == status
    if isinstance(body, dict):
        assert error.code == body.get("code")
        if error_class is not NotFoundError:  # PGRST116's message is replaced by a clearer one
            assert error.message == body["message"]


def test_server_fields_are_kept() -> None:
    error = _core.error_from_response(
        response(
            400,
            pgrst(
                "23514",
                'goals contains an invalid value: "dance"',
                details="Allowed values: build_muscle",
                hint="goals",
            ),
        )
    )
    assert (error.code, error.message, error.details, error.hint) == (
        "23514",
        'goals contains an invalid value: "dance"',
        "Allowed values: build_muscle",
        "goals",
    )


def test_foreign_key_violation_names_user_id() -> None:
    error = _core.error_from_response(response(409, pgrst("23503")))
    assert error.hint == "user_id"


def drive(
    operation: _core.Operation[Any], *responses: _core.Response
) -> tuple[list[_core.Request], Any]:
    """Run an operation against canned responses; return the requests it made and its result."""
    requests = [next(operation)]
    for canned in responses:
        try:
            requests.append(operation.send(canned))
        except StopIteration as finished:
            return requests, finished.value
    raise AssertionError("the operation wanted more responses")


def test_get_asks_for_one_object_and_parses_it() -> None:
    requests, profile = drive(_core.get(str(USER)), response(200, ROW))
    (request,) = requests
    assert (request.method, request.path) == ("GET", "movement_profiles")
    assert ("user_id", f"eq.{USER}") in request.params
    assert request.headers["Accept"] == "application/vnd.pgrst.object+json"
    assert profile.user_id == USER
    assert profile.updated_at == datetime(2026, 11, 26, 11, 49, 51, 193424, tzinfo=UTC)


def test_create_posts_the_validated_body() -> None:
    requests, profile = drive(
        _core.create({"user_id": str(USER), "training_preferences": ["yoga"], "goals": ["rehab"]}),
        response(201, ROW),
    )
    assert requests[0].method == "POST"
    assert json.loads(requests[0].body or b"") == {
        "user_id": str(USER),
        "training_preferences": ["yoga"],
        "goals": ["rehab"],
    }
    assert "return=representation" in requests[0].headers["Prefer"]
    assert profile.goals == ["rehab"]


def test_invalid_input_raises_before_any_request() -> None:
    with pytest.raises(ValidationError):
        next(_core.create({"training_preferences": ["yoga", "yoga"], "goals": ["rehab"]}))
    with pytest.raises(ValidationError, match="user_id"):
        next(_core.get("not-a-uuid"))
    with pytest.raises(ValidationError, match="expected_updated_at"):
        next(_core.update(USER, {"goals": ["rehab"]}, datetime(2026, 1, 1)))  # naive
    with pytest.raises(ValidationError, match="limit"):
        next(_core.list_profiles(None, None, 1001, 0))
    with pytest.raises(
        ValidationError, match="training_preference filter contains a value that is not a string"
    ):
        next(_core.list_profiles(["yoga", 1], None, 10, 0))  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="injuries filter contains a value that is not a s"):
        next(_core.list_profiles(None, None, 10, 0, {"injuries": [None]}))  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="custom_fields filter must be a mapping"):
        next(_core.list_profiles(None, None, 10, 0, ["injuries"]))  # type: ignore[arg-type]


def test_optimistic_update_filters_on_updated_at() -> None:
    expected = datetime(2026, 11, 26, 11, 49, 51, 193424, tzinfo=UTC)
    requests, _ = drive(_core.update(USER, {"goals": ["rehab"]}, expected), response(200, [ROW]))
    assert ("updated_at", "eq.2026-11-26T11:49:51.193424+00:00") in requests[0].params


def test_no_row_updated_with_the_row_present_is_stale() -> None:
    expected = datetime(2026, 1, 1, tzinfo=UTC)
    operation = _core.update(USER, {"goals": ["rehab"]}, expected)
    patch = next(operation)
    follow_up = operation.send(response(200, []))
    assert follow_up.method == "GET"
    assert follow_up.idempotent
    with pytest.raises(StaleUpdateError) as raised:
        operation.send(response(200, [{"updated_at": ROW["updated_at"]}]))
    assert patch.method == "PATCH"
    error = raised.value
    assert isinstance(error, ConflictError)
    assert (error.status, error.code) == (409, "stale_update")
    assert error.expected_updated_at == expected
    assert error.current_updated_at.isoformat() == ROW["updated_at"]


def test_no_row_updated_and_none_there_is_not_found() -> None:
    operation = _core.update(USER, {"goals": ["rehab"]}, datetime(2026, 1, 1, tzinfo=UTC))
    next(operation)
    operation.send(response(200, []))
    with pytest.raises(NotFoundError) as raised:
        operation.send(response(200, []))
    assert raised.value.status == 404
    # Without expected_updated_at no follow-up read is needed.
    plain = _core.update(USER, {"goals": ["rehab"]})
    next(plain)
    with pytest.raises(NotFoundError):
        plain.send(response(200, []))


def test_delete_of_nothing_is_not_found() -> None:
    operation = _core.delete(USER)
    assert next(operation).method == "DELETE"
    with pytest.raises(NotFoundError):
        operation.send(response(200, []))


def test_list_uses_containment_filters() -> None:
    (request,), _ = drive(
        _core.list_profiles("yoga", ["rehab", "lose_fat"], 10, 20), response(200, [ROW])
    )
    params = dict(request.params)
    assert params["training_preferences"] == 'cs.["yoga"]'
    assert params["goals"] == 'cs.["rehab","lose_fat"]'
    assert (params["limit"], params["offset"], params["order"]) == ("10", "20", "user_id.asc")
    assert "custom_fields" not in params


def test_list_filters_custom_fields_by_containment_and_takes_any_value() -> None:
    (request,), _ = drive(
        _core.list_profiles(
            "pilates", None, 10, 0, {"injuries": "knee", "restrictions": ["no_jumping", "é"]}
        ),
        response(200, [ROW]),
    )
    params = dict(request.params)
    # Values the catalogue gained after this SDK was released are asked for like any other.
    assert params["training_preferences"] == 'cs.["pilates"]'
    assert params["custom_fields"] == 'cs.{"injuries":["knee"],"restrictions":["no_jumping","é"]}'


def test_upsert_batches_validate_and_split() -> None:
    users = [uuid.uuid4() for _ in range(5)]
    profiles = [
        {"user_id": user, "training_preferences": ["yoga"], "goals": ["rehab"]} for user in users
    ]
    assert [len(batch.rows) for batch in _core.upsert_batches(profiles, 2)] == [2, 2, 1]
    with pytest.raises(ValidationError, match="appears more than once"):
        list(_core.upsert_batches([*profiles, profiles[0]], 2))
    with pytest.raises(ValidationError, match="user_id is required"):
        list(_core.upsert_batches([{"training_preferences": ["yoga"], "goals": ["rehab"]}], 2))
    with pytest.raises(ValidationError, match=r'profile #1: goals contains a duplicate value: "x"'):
        list(_core.upsert_batches([profiles[0], {**profiles[1], "goals": ["x", "x"]}], 2))


def test_upsert_batch_counts_from_content_range() -> None:
    (batch,) = _core.upsert_batches(
        [
            MovementProfileCreate(
                user_id=uuid.uuid4(), training_preferences=["yoga"], goals=["rehab"]
            )
        ],
        10,
    )
    (request,), written = drive(
        _core.upsert_batch(batch), response(201, None, **{"Content-Range": "*/1"})
    )
    params = dict(request.params)
    assert params["on_conflict"] == "user_id"
    # Every row carries custom_fields ({} for none): an upsert writes the whole profile.
    assert params["columns"] == "user_id,training_preferences,goals,custom_fields"
    assert json.loads(request.body or b"")[0]["custom_fields"] == {}
    assert "resolution=merge-duplicates" in request.headers["Prefer"]
    assert written == 1


def test_upsert_json_rows_sends_the_texts_as_one_array() -> None:
    texts = [
        b'{"user_id": "%s", "training_preferences": ["yoga"], "goals": ["rehab"]}\n'
        % str(user).encode()
        for user in (uuid.uuid4(), uuid.uuid4())
    ]
    (request,), written = drive(
        _core.upsert_json_rows(texts, keep_identity=False),
        response(201, None, **{"Content-Range": "*/2"}),
    )
    assert request.body == b"[" + b",".join(texts) + b"]"
    assert json.loads(request.body or b"") == [json.loads(text) for text in texts]
    params = dict(request.params)
    assert (params["on_conflict"], params["columns"]) == (
        "user_id",
        "user_id,training_preferences,goals",
    )
    assert "resolution=merge-duplicates" in request.headers["Prefer"]
    assert written == 2
    (restoring,), _ = drive(
        _core.upsert_json_rows([json.dumps(ROW).encode()], keep_identity=True), response(201)
    )
    assert dict(restoring.params)["columns"] == "id,user_id,training_preferences,goals," + (
        "created_at,updated_at"
    )
    # Rows that carry custom_fields say so, and it is written too.
    (with_custom,), _ = drive(
        _core.upsert_json_rows(texts, keep_identity=True, custom_fields=True), response(201)
    )
    assert dict(with_custom.params)["columns"] == ",".join(PROFILE_COLUMNS)


@pytest.mark.parametrize("rows", [0, _core.MAX_UPSERT_BATCH_SIZE + 1])
def test_upsert_json_rows_out_of_range_is_refused(rows: int) -> None:
    with pytest.raises(ValidationError, match=f"rows must hold 1 to 1000 profiles .*got {rows}"):
        next(_core.upsert_json_rows([b"{}"] * rows, keep_identity=False))


def test_keep_identity_sends_ids_and_timestamps() -> None:
    stored = _core.parse_profile(ROW)
    (from_model,) = _core.upsert_batches([stored], 10, keep_identity=True)
    (from_mapping,) = _core.upsert_batches([ROW], 10, keep_identity=True)
    assert from_model.rows == from_mapping.rows == [{**ROW, "custom_fields": {}}]
    assert from_model.columns == PROFILE_COLUMNS
    with pytest.raises(ValidationError, match="profile #0: created_at is required"):
        list(_core.upsert_batches([{**ROW, "created_at": None}], 10, keep_identity=True))
    with pytest.raises(ValidationError, match="profile #0: updated_at: "):
        list(_core.upsert_batches([{**ROW, "updated_at": "yesterday"}], 10, keep_identity=True))
    with pytest.raises(ValidationError, match="keep_identity needs stored profiles"):
        list(
            _core.upsert_batches(
                [
                    MovementProfileCreate(
                        user_id=USER, training_preferences=["yoga"], goals=["rehab"]
                    )
                ],
                10,
                keep_identity=True,
            )
        )


def test_upsert_sends_built_models_as_they_are_and_validates_only_mappings() -> None:
    # A built model was validated when it was built; validating it again would only cost time
    # (a bulk import validates each row once). model_construct skips validation, so an invalid
    # value here shows the model is passed through untouched, for the database to judge.
    unchecked = MovementProfileCreate.model_construct(
        user_id=USER, training_preferences=["dance", "dance"], goals=["rehab"], custom_fields={}
    )
    (batch,) = _core.upsert_batches([unchecked], 10)
    assert batch.rows == [
        {
            "user_id": str(USER),
            "training_preferences": ["dance", "dance"],
            "goals": ["rehab"],
            "custom_fields": {},
        }
    ]
    assert json.loads(_core.encode(batch.rows)) == batch.rows
    with pytest.raises(ValidationError, match="profile #0: training_preferences contains a dup"):
        list(
            _core.upsert_batches(
                [{"user_id": USER, "training_preferences": ["dance", "dance"], "goals": ["rehab"]}],
                10,
            )
        )


def test_upsert_rows_carry_custom_fields_when_there_are_some() -> None:
    with_custom = {"user_id": str(USER), "training_preferences": ["yoga"], "goals": ["rehab"]}
    stored = _core.parse_profile({**ROW, "custom_fields": {"injuries": ["knee"]}})
    (batch,) = _core.upsert_batches(
        [
            {**with_custom, "custom_fields": {"injuries": ["knee"]}},
            MovementProfileCreate(
                user_id=uuid.uuid4(), training_preferences=["yoga"], goals=["rehab"]
            ),
        ],
        10,
    )
    assert batch.rows[0]["custom_fields"] == {"injuries": ["knee"]}
    assert batch.rows[1]["custom_fields"] == {}
    (restoring,) = _core.upsert_batches([stored], 10, keep_identity=True)
    assert restoring.rows[0]["custom_fields"] == {"injuries": ["knee"]}
    with pytest.raises(ValidationError, match="profile #0: injuries must be a JSON array"):
        list(_core.upsert_batches([{**with_custom, "custom_fields": {"injuries": "knee"}}], 10))


@pytest.mark.parametrize("max_in_flight", [0, _core.MAX_UPSERT_IN_FLIGHT + 1])
def test_upsert_in_flight_out_of_range_is_refused(max_in_flight: int) -> None:
    with pytest.raises(ValidationError, match="max_in_flight"):
        _core.check_in_flight(max_in_flight)


def test_a_row_with_a_value_newer_than_the_sdk_reads() -> None:
    # The catalogue may have gained a value since this SDK was released.
    _, profile = drive(_core.get(USER), response(200, {**ROW, "goals": ["improve_flexibility"]}))
    assert profile.goals == ["improve_flexibility"]
    assert profile.custom_fields == {}


def test_a_row_of_another_shape_is_an_unexpected_response() -> None:
    with pytest.raises(UnexpectedResponseError, match="upgrade the SDK"):
        drive(_core.get(USER), response(200, {**ROW, "goals": "rehab"}))


def test_rest_url_accepts_project_and_rest_urls() -> None:
    assert _core.rest_url("http://127.0.0.1:54321/") == "http://127.0.0.1:54321/rest/v1"
    assert _core.rest_url("https://x.supabase.co/rest/v1") == "https://x.supabase.co/rest/v1"


# -- the clients' send loops over a stubbed transport -----------------------------------------


Handler = Callable[[httpx.Request], httpx.Response]


def counting(handler: Handler) -> tuple[list[httpx.Request], Handler]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return seen, record


def unavailable(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, json={"code": "PGRST001", "message": "no database"})


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("Connection refused", request=request)


def read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def sync_client(handler: Handler) -> MovementProfilesClient:
    return MovementProfilesClient(
        "http://api.test",
        "anon-key",
        "user-token",
        retry_backoff=0.001,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )


def async_client(handler: Handler) -> AsyncMovementProfilesClient:
    return AsyncMovementProfilesClient(
        "http://api.test",
        "anon-key",
        "user-token",
        retry_backoff=0.001,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )


CREATE = {"user_id": str(USER), "training_preferences": ["yoga"], "goals": ["rehab"]}


@pytest.mark.parametrize("handler", [unavailable, refused, read_timeout])
def test_reads_retry_a_bounded_number_of_times(handler: Handler) -> None:
    seen, record = counting(handler)
    with pytest.raises(ServiceUnavailableError) as raised:
        sync_client(record).get(USER)
    assert len(seen) == 3  # the first try and DEFAULT_MAX_RETRIES retries
    assert raised.value.attempts == 3
    assert raised.value.status == 503


@pytest.mark.parametrize("handler", [unavailable, read_timeout])
def test_writes_whose_fate_is_unknown_are_never_retried(handler: Handler) -> None:
    seen, record = counting(handler)
    with pytest.raises(ServiceUnavailableError) as raised:
        sync_client(record).create(CREATE)
    assert len(seen) == 1
    assert raised.value.attempts == 1


def test_writes_that_never_left_are_retried() -> None:
    seen, record = counting(refused)
    with pytest.raises(ServiceUnavailableError) as raised:
        sync_client(record).update(USER, {"goals": ["rehab"]})
    assert len(seen) == 3
    assert raised.value.code == "connect_error"
    assert raised.value.response is None


@pytest.mark.parametrize(
    ("handler", "kind", "code"),
    [
        pytest.param(refused, ConnectError, "connect_error", id="refused"),
        pytest.param(read_timeout, ResponseTimeoutError, "timeout", id="read-timeout"),
    ],
)
def test_no_answer_is_a_transport_error_of_its_kind(
    handler: Handler, kind: type[TransportError], code: str
) -> None:
    seen, record = counting(handler)
    with pytest.raises(kind) as raised:
        sync_client(record).get(USER)
    error = raised.value
    assert isinstance(error, ServiceUnavailableError)
    assert (error.code, error.attempts, error.response) == (code, 3, None)
    assert error.request is seen[-1]
    assert isinstance(error.__cause__, httpx.TransportError)
    assert error.message.endswith("(3 attempts)")


def test_a_failed_answer_is_a_server_error_with_its_response() -> None:
    seen, record = counting(unavailable)
    with pytest.raises(ServerError) as raised:
        sync_client(record).get(USER)
    assert raised.value.response is not None
    assert raised.value.response.status_code == 503
    assert raised.value.request is seen[-1]
    assert raised.value.attempts == 3


def test_a_read_succeeds_after_a_transient_failure() -> None:
    answers = iter([httpx.Response(503, json=pgrst("PGRST001")), httpx.Response(200, json=ROW)])
    seen, record = counting(lambda request: next(answers))
    assert sync_client(record).get(USER).user_id == USER
    assert len(seen) == 2


def test_client_errors_are_not_retried() -> None:
    seen, record = counting(lambda request: httpx.Response(406, json=pgrst("PGRST116")))
    with pytest.raises(NotFoundError):
        sync_client(record).get(USER)
    assert len(seen) == 1


def test_requests_carry_the_key_and_the_users_token() -> None:
    seen, record = counting(lambda request: httpx.Response(200, json=ROW))
    sync_client(record).get(USER)
    (request,) = seen
    assert request.headers["apikey"] == "anon-key"
    assert request.headers["authorization"] == "Bearer user-token"
    assert request.url.path == "/rest/v1/movement_profiles"
    assert request.url.params["user_id"] == f"eq.{USER}"


def test_expected_updated_at_is_url_encoded() -> None:
    seen, record = counting(lambda request: httpx.Response(200, json=[ROW]))
    sync_client(record).update(
        USER, {"goals": ["rehab"]}, expected_updated_at="2026-11-26T11:49:51.193424+00:00"
    )
    assert b"updated_at=eq.2026-11-26T11%3A49%3A51.193424%2B00%3A00" in seen[0].url.query


def test_zero_retries_means_one_attempt() -> None:
    seen, record = counting(refused)
    client = MovementProfilesClient(
        "http://api.test",
        "anon-key",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(record)),
    )
    with pytest.raises(ServiceUnavailableError):
        client.options()
    assert len(seen) == 1


async def test_async_client_retries_reads_and_not_writes() -> None:
    seen, record = counting(unavailable)
    client = async_client(record)
    with pytest.raises(ServiceUnavailableError):
        await client.get(USER)
    assert len(seen) == 3
    seen.clear()
    with pytest.raises(ServiceUnavailableError):
        await client.create(CREATE)
    assert len(seen) == 1
    await client.aclose()


async def test_async_client_runs_the_same_operations() -> None:
    answers = iter([httpx.Response(200, json=[]), httpx.Response(200, json=[ROW])])
    seen, record = counting(lambda request: next(answers))
    client = async_client(record)
    with pytest.raises(StaleUpdateError):
        await client.update(USER, {"goals": ["rehab"]}, datetime(2026, 1, 1, tzinfo=UTC))
    assert [request.method for request in seen] == ["PATCH", "GET"]


def test_an_empty_400_is_a_lost_database_not_invalid_input() -> None:
    # PostgREST 12's answer when PostgreSQL dies under a request: no verdict on the input.
    lost = response(400, pgrst("", ""))
    error = _core.error_from_response(lost)
    assert type(error) is ServerError
    assert isinstance(error, ServiceUnavailableError)
    assert error.response is not None
    assert (error.status, error.response.status_code, error.code) == (
        503,
        400,
        "database_connection_lost",
    )
    assert _core.transient_failure(lost) is not None
    assert type(_core.error_from_response(response(400, pgrst("23514")))) is ValidationError


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_a_callers_http_client_is_used_but_never_changed(flavour: str) -> None:
    # postgrest-py 2.20 wrote the key into the default headers of the http_client it was given.
    seen, record = counting(lambda request: httpx.Response(200, json=ROW))
    transport = httpx.MockTransport(record)
    mine: httpx.Client | httpx.AsyncClient
    if flavour == "sync":
        mine = httpx.Client(transport=transport, headers={"X-Mine": "1"})
        MovementProfilesClient("http://api.test", "anon-key", "user-token", http_client=mine).get(
            USER
        )
    else:
        mine = httpx.AsyncClient(transport=transport, headers={"X-Mine": "1"})
        client = AsyncMovementProfilesClient(
            "http://api.test", "anon-key", "user-token", http_client=mine
        )
        await client.get(USER)
    (request,) = seen
    assert (request.headers["apikey"], request.headers["X-Mine"]) == ("anon-key", "1")
    assert request.headers["Authorization"] == "Bearer user-token"
    assert "apikey" not in mine.headers
    assert "authorization" not in mine.headers
    assert str(mine.base_url) == ""
