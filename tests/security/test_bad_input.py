"""Bad input through the gateway: always a 4xx with a message, never a 5xx, and the table unchanged.

Hypothesis generates the bodies: wrong types, nested arrays, nulls, empty and duplicated arrays,
look-alike unicode ("yoga" with a Cyrillic o, U+043E), unknown keys, bulk arrays of such objects,
text that is not JSON, and bodies of other content types (CSV and form bodies included, which the
gateway refuses: PostgREST 12 answers some malformed ones with a bare 500). Each one is sent as a
signed-in user creating a profile, as a user updating theirs, or as the service role, and after
each the table's row count and checksum must be what they were. The sizes Hypothesis would not
reach by chance (1 MB strings, 100,000-element arrays, deep nesting) are listed explicitly.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movement_profiles import Goal, TrainingPreference
from movement_profiles_cli.stack import gateway
from movement_profiles_cli.stack.state import StackState
from tests.security.support import (
    RETURN_ROWS,
    VALID_PROFILE,
    Database,
    insert_profiles,
    json_error,
    table_fingerprint,
)
from tests.support.tokens import access_token
from tests.support.users import create_auth_users

pytestmark = pytest.mark.integration

# Per generated property; `make soak` raises it (tests/reliability/soak.sh).
EXAMPLES = int(os.environ.get("MOVEMENT_PROFILES_FUZZ_EXAMPLES", "250"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no example files in the checkout; every run explores afresh
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ALLOWED = {
    "training_preferences": [member.value for member in TrainingPreference],
    "goals": [member.value for member in Goal],
}
COLUMNS = tuple(ALLOWED)

# Characters that look like Latin letters of the allowed values (Cyrillic, Greek, fullwidth),
# and invisible ones that make two strings look equal.
LOOK_ALIKES = {
    "a": "\u0430\u03b1",  # Cyrillic a, Greek alpha
    "e": "\u0435\u03b5",  # Cyrillic ie, Greek epsilon
    "o": "\u043e\u03bf\uff4f",  # Cyrillic o, Greek omicron, fullwidth o
    "i": "\u0456\u03b9",  # Cyrillic i, Greek iota
    "n": "\u0578",  # Armenian vo
    "g": "\u0261",  # Latin script g
    "r": "\u0433",  # Cyrillic ghe
    "s": "\u0455",  # Cyrillic dze
}
INVISIBLE = ["\u200b", "\u200d", "\ufeff", "\u00ad", " ", "\t"]


def look_alike(value: str, draw: st.DrawFn) -> str:
    """`value` with one letter swapped for a homoglyph, an invisible character added, or cased."""
    swappable = [index for index, char in enumerate(value) if char in LOOK_ALIKES]
    how = draw(st.sampled_from(["homoglyph", "invisible", "case"] if swappable else ["invisible"]))
    if how == "homoglyph":
        index = draw(st.sampled_from(swappable))
        glyph = draw(st.sampled_from(LOOK_ALIKES[value[index]]))
        return value[:index] + glyph + value[index + 1 :]
    if how == "case":
        return value.upper() if draw(st.booleans()) else value.title()
    position = draw(st.integers(0, len(value)))
    return value[:position] + draw(st.sampled_from(INVISIBLE)) + value[position:]


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)


@st.composite
def bad_array(draw: st.DrawFn, column: str) -> Any:
    """A value `column` must refuse."""
    allowed = ALLOWED[column]
    kind = draw(
        st.sampled_from(
            [
                "wrong type",
                "empty",
                "non-string element",
                "nested array",
                "unknown value",
                "look-alike",
                "duplicate",
            ]
        )
    )
    valid_part = draw(st.lists(st.sampled_from(allowed), unique=True, max_size=2))
    if kind == "wrong type":
        return draw(json_scalars | st.dictionaries(st.text(max_size=8), json_values, max_size=3))
    if kind == "empty":
        return []
    if kind == "non-string element":
        element = draw(
            json_values.filter(lambda value: not isinstance(value, str | list | dict))
            | st.dictionaries(st.text(max_size=5), json_scalars, max_size=2)
        )
        return [*valid_part, element]
    if kind == "nested array":
        return [*valid_part, draw(st.lists(st.sampled_from(allowed), max_size=2))]
    if kind == "unknown value":
        unknown = draw(st.text(max_size=30).filter(lambda text: text not in allowed))
        return [*valid_part, unknown]
    if kind == "look-alike":
        return [*valid_part, look_alike(draw(st.sampled_from(allowed)), draw)]
    value = draw(st.sampled_from(allowed))
    return [value, *valid_part, value] if value not in valid_part else [*valid_part, value]


@st.composite
def profile_object(draw: st.DrawFn, *, partial: bool) -> dict[str, Any]:
    """An object with at least one bad column value, maybe a missing column, maybe unknown keys.

    `partial` (an update) may leave a column out; a create may too, which is itself an error.
    """
    body: dict[str, Any] = {}
    bad_columns = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, unique=True))
    for column in COLUMNS:
        if column in bad_columns:
            body[column] = draw(bad_array(column))
        elif not partial or draw(st.booleans()):
            body[column] = draw(st.lists(st.sampled_from(ALLOWED[column]), min_size=1, unique=True))
    if draw(st.booleans()):
        extra = draw(
            st.dictionaries(
                st.text(min_size=1, max_size=12).filter(lambda key: key not in COLUMNS),
                json_values,
                max_size=3,
            )
        )
        body.update(extra)
    return body


def json_bodies(*, partial: bool) -> st.SearchStrategy[Any]:
    one = profile_object(partial=partial)
    return one | st.lists(one, min_size=1, max_size=3)


def not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


raw_bodies = st.one_of(
    st.text(max_size=200).filter(not_json).map(str.encode),
    st.binary(max_size=200).filter(lambda data: not_json(data.decode("utf-8", "replace"))),
    st.sampled_from([b"{", b'{"training_preferences": [}', b"[{]}", b'{"goals": ["rehab"],}']),
)
FOREIGN_TYPES = [
    "text/plain",
    "application/xml",
    "application/octet-stream",
    "multipart/form-data; boundary=x",
    "text/csv",
    "application/x-www-form-urlencoded",
    "image/png",
]


@dataclass(frozen=True)
class Callers:
    """A user without a profile (creates), a user with one (updates), and their headers."""

    creator: uuid.UUID
    creator_headers: dict[str, str] = field(repr=False)
    updater: uuid.UUID
    updater_headers: dict[str, str] = field(repr=False)
    service_headers: dict[str, str] = field(repr=False)


@pytest.fixture(scope="module")
def callers(stack: StackState, database: Database) -> Callers:
    creator, updater = create_auth_users(database, 2)
    insert_profiles(database, {updater: VALID_PROFILE})

    def headers(user_id: uuid.UUID) -> dict[str, str]:
        token = access_token(stack, user_id)
        return {"apikey": stack.anon_key, "Authorization": f"Bearer {token}", **RETURN_ROWS}

    return Callers(
        creator,
        headers(creator),
        updater,
        headers(updater),
        {"apikey": stack.service_role_key, **RETURN_ROWS},
    )


@pytest.fixture(scope="module")
def api(stack: StackState) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.rest_url, timeout=30) as client:
        yield client


def service_role(callers: Callers) -> dict[str, str]:
    """The service role's headers for either way in (PostgREST reads no `apikey`)."""
    key = callers.service_headers["apikey"]
    return {**callers.service_headers, "Authorization": f"Bearer {key}"}


def send_and_check(
    api: httpx.Client,
    database: Database,
    method: str,
    params: dict[str, str],
    headers: dict[str, str],
    content: bytes,
) -> httpx.Response:
    """Send one bad request; assert a 4xx with a JSON message and an unchanged table."""
    before = table_fingerprint(database)
    response = api.request(
        method, "/movement_profiles", params=params, headers=headers, content=content
    )
    assert 400 <= response.status_code < 500, (
        f"{method} {content[:120]!r} -> {response.status_code} {response.text[:200]}"
    )
    json_error(response)
    assert table_fingerprint(database) == before, f"{method} {content[:120]!r} changed the table"
    return response


JSON = {"Content-Type": "application/json"}


@SETTINGS
@given(body=json_bodies(partial=False), as_service=st.booleans())
def test_bad_create_bodies_are_refused(
    api: httpx.Client, database: Database, callers: Callers, body: Any, as_service: bool
) -> None:
    headers = callers.service_headers if as_service else callers.creator_headers
    if as_service:
        # The service role names the user it creates for; a bad body must still be refused.
        named = {"user_id": str(callers.creator)}
        body = [{**named, **item} for item in body] if isinstance(body, list) else {**named, **body}
    content = json.dumps(body).encode()
    send_and_check(api, database, "POST", {}, {**headers, **JSON}, content)


@SETTINGS
@given(body=json_bodies(partial=True))
def test_bad_update_bodies_are_refused(
    api: httpx.Client, database: Database, callers: Callers, body: Any
) -> None:
    own = {"user_id": f"eq.{callers.updater}"}
    content = json.dumps(body).encode()
    send_and_check(api, database, "PATCH", own, {**callers.updater_headers, **JSON}, content)


@SETTINGS
@given(content=raw_bodies, method=st.sampled_from(["POST", "PATCH"]))
def test_text_that_is_not_json_is_refused(
    api: httpx.Client, database: Database, callers: Callers, content: bytes, method: str
) -> None:
    own = {"user_id": f"eq.{callers.updater}"} if method == "PATCH" else {}
    headers = callers.updater_headers if method == "PATCH" else callers.creator_headers
    send_and_check(api, database, method, own, {**headers, **JSON}, content)


@st.composite
def foreign_body(draw: st.DrawFn) -> tuple[str, bytes]:
    content_type = draw(st.sampled_from(FOREIGN_TYPES))
    if content_type == "text/csv":
        header = draw(st.sampled_from(["training_preferences,goals", "goals", "name,age"]))
        # At least one character: an empty line would be a CSV of no rows (see the no-op test).
        row = draw(
            st.lists(
                st.text(alphabet="abcxyz;\"' ", min_size=1, max_size=10), min_size=1, max_size=2
            )
        )
        return content_type, f"{header}\n{','.join(row)}".encode()
    if content_type == "application/x-www-form-urlencoded":
        values = draw(
            st.lists(st.text(alphabet='abcxyz[]"%&=', max_size=12), min_size=2, max_size=2)
        )
        return content_type, f"training_preferences={values[0]}&goals={values[1]}".encode()
    return content_type, draw(st.binary(max_size=200))


@SETTINGS
@given(typed=foreign_body(), method=st.sampled_from(["POST", "PATCH"]))
def test_bodies_of_other_content_types_are_refused(
    api: httpx.Client, database: Database, callers: Callers, typed: tuple[str, bytes], method: str
) -> None:
    content_type, content = typed
    own = {"user_id": f"eq.{callers.updater}"} if method == "PATCH" else {}
    headers = callers.updater_headers if method == "PATCH" else callers.creator_headers
    send_and_check(api, database, method, own, {**headers, "Content-Type": content_type}, content)


def huge(column: str, value: Any) -> bytes:
    other = "goals" if column == "training_preferences" else "training_preferences"
    return json.dumps({column: value, other: VALID_PROFILE[other]}).encode()


HUGE_BODIES = {
    "2 MB string (over the gateway's limit)": huge("training_preferences", ["y" * 2_000_000]),
    "1 MB string": huge("training_preferences", ["y" * 1_000_000]),
    "900 KB string": huge("goals", ["r" * 900_000]),
    "100,000 copies of a valid value": huge("training_preferences", ["yoga"] * 100_000),
    "100,000 integers": huge("goals", list(range(100_000))),
    "100,000 distinct unknown values": huge("goals", [f"g{n}" for n in range(100_000)]),
    "100,000 nulls": huge("training_preferences", [None] * 100_000),
    "array nested 5,000 deep": (
        b'{"training_preferences": ' + b"[" * 5_000 + b"]" * 5_000 + b', "goals": ["rehab"]}'
    ),
    "array nested 50,000 deep": (
        b'{"training_preferences": ' + b"[" * 50_000 + b"]" * 50_000 + b', "goals": ["rehab"]}'
    ),
    "900 KB unknown key": json.dumps({**VALID_PROFILE, "k" * 900_000: 1}).encode(),
    "5,000 objects, one bad": json.dumps([VALID_PROFILE] * 4_999 + [{"goals": ["x"]}]).encode(),
    "a number of 100,000 digits": huge("goals", 0).replace(b"0", b"9" * 100_000, 1),
    "an escaped NUL": huge("goals", ["rehab\u0000"]),
    "a lone surrogate": b'{"training_preferences": ["yoga\\ud800"], "goals": ["rehab"]}',
}


@pytest.mark.parametrize("name", HUGE_BODIES)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_oversized_and_pathological_bodies_are_refused(
    api: httpx.Client, database: Database, callers: Callers, name: str, method: str
) -> None:
    own = {"user_id": f"eq.{callers.updater}"} if method == "PATCH" else {}
    headers = callers.updater_headers if method == "PATCH" else callers.creator_headers
    send_and_check(api, database, method, own, {**headers, **JSON}, HUGE_BODIES[name])


# Found by fuzzing: each made PostgREST 12 answer 500 with a text body until the gateway refused
# CSV and form bodies.
CRASHED_POSTGREST = [
    ("text/csv", b'training_preferences,goals\n"'),
    ("application/x-www-form-urlencoded", b"training_preferences=&goals=%aa"),
]


@pytest.mark.parametrize(("content_type", "content"), CRASHED_POSTGREST)
def test_bodies_that_crashed_postgrest_are_refused_at_the_gateway(
    api: httpx.Client, database: Database, callers: Callers, content_type: str, content: bytes
) -> None:
    headers = {**callers.service_headers, "Content-Type": content_type}
    response = send_and_check(api, database, "POST", {}, headers, content)
    assert response.status_code == 415
    assert json_error(response)["code"] == "UNSUPPORTED_MEDIA_TYPE"


NO_ROWS = [
    ("application/json", b"null"),
    ("application/json", b"1"),
    ("application/json", b"true"),
    ("application/json", b'"yoga"'),
    ("application/json", b"[]"),
    ("application/json", b"{}"),
    ("text/csv", b"training_preferences,goals\n"),
]


@pytest.mark.parametrize(("content_type", "content"), NO_ROWS)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_body_that_holds_no_row_writes_nothing(
    api: httpx.Client,
    database: Database,
    callers: Callers,
    content_type: str,
    content: bytes,
    method: str,
) -> None:
    """PostgREST 12 reads a top-level JSON scalar, `[]`, an update's `{}` or a CSV without data
    lines as "no rows" and may answer 2xx with an empty array: a no-op, recorded in SECURITY.md.
    Whatever it answers, nothing is written and nothing is shown."""
    own = {"user_id": f"eq.{callers.updater}"} if method == "PATCH" else {}
    headers = {**(callers.updater_headers if method == "PATCH" else callers.creator_headers)}
    headers["Content-Type"] = content_type
    before = table_fingerprint(database)
    response = api.request(
        method, "/movement_profiles", params=own, headers=headers, content=content
    )
    assert response.status_code < 500
    if response.status_code < 400:
        assert response.json() == []
    else:
        json_error(response)
    assert table_fingerprint(database) == before


# -- every refused value names its field ----------------------------------------------------------


@dataclass(frozen=True)
class NamedRefusal:
    """A body whose one bad field must be named: 23514, the field in `hint`, this message."""

    field: str
    message: str
    body: bytes


def _named(field: str, value: bytes, message: str) -> NamedRefusal:
    other = "goals" if field == "training_preferences" else "training_preferences"
    good = json.dumps(VALID_PROFILE[other]).encode()
    return NamedRefusal(
        field, message, b'{"%s": %s, "%s": %s}' % (field.encode(), value, other.encode(), good)
    )


NAMED_REFUSALS = {
    # The report's body: no valid array is longer than its list of allowed values, so its length
    # decides before any entry is read (PL/pgSQL used to walk all of them, per request).
    "125,000 copies of an allowed value": _named(
        "goals",
        b"[" + b",".join([b'"rehab"'] * 125_000) + b"]",
        "goals contains more than 5 values",
    ),
    "100,000 integers": _named(
        "training_preferences",
        json.dumps(list(range(100_000))).encode(),
        "training_preferences contains more than 6 values",
    ),
    "every allowed value and one again": _named(
        "training_preferences",
        json.dumps([*ALLOWED["training_preferences"], "yoga"]).encode(),
        "training_preferences contains more than 6 values",
    ),
    "an array nested 5,000 deep": _named(
        "goals", b"[" * 5_000 + b"]" * 5_000, "goals must be a JSON array of strings"
    ),
    "a number": _named("goals", b"5", "goals must be a JSON array of strings"),
    "a string": _named("goals", b'"rehab"', "goals must be a JSON array of strings"),
    "an object": _named(
        "training_preferences",
        b'{"yoga": true}',
        "training_preferences must be a JSON array of strings",
    ),
    "a boolean": _named("goals", b"true", "goals must be a JSON array of strings"),
    "null": _named(
        "training_preferences", b"null", "training_preferences must be a JSON array of strings"
    ),
    "an array of numbers": _named("goals", b"[1, 2]", "goals must be a JSON array of strings"),
}


@pytest.mark.parametrize("way_in", ["gateway", "postgrest"])
@pytest.mark.parametrize("name", NAMED_REFUSALS)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_refused_value_names_its_field(
    stack: StackState,
    database: Database,
    callers: Callers,
    name: str,
    method: str,
    way_in: str,
) -> None:
    """Through the gateway and straight at PostgREST (as on hosted Supabase): the CHECK's answer,
    with the field in `hint` for a frontend to place the message."""
    case = NAMED_REFUSALS[name]
    own = {"user_id": f"eq.{callers.updater}"} if method == "PATCH" else {}
    headers = callers.updater_headers if method == "PATCH" else callers.creator_headers
    base_url = stack.postgrest_url if way_in == "postgrest" else stack.rest_url
    with httpx.Client(base_url=base_url, timeout=30) as client:
        if len(case.body) > gateway.USER_MAX_BODY:
            # Larger than any profile: a user's request is refused on its length before anything
            # parses it; the service role's reaches the CHECK, which must still name the field.
            refused = send_and_check(client, database, method, own, {**headers, **JSON}, case.body)
            assert refused.status_code == 413, refused.text[:300]
            assert "too large for a movement profile" in json_error(refused)["message"]
            headers = service_role(callers)
        response = send_and_check(client, database, method, own, {**headers, **JSON}, case.body)
    error = json_error(response)
    assert (response.status_code, error["code"], error["hint"], error["message"]) == (
        400,
        "23514",
        case.field,
        case.message,
    ), response.text[:300]


# What the database cannot name, because PostgreSQL refuses it before any column is read or
# checked (SECURITY.md, "Known limits"): \u0000, which jsonb cannot hold, fails while the field's
# text is converted to jsonb, and nesting past the JSON parser's stack while the whole body is
# parsed. Both stay a 4xx whose answer says what is wrong.
UNNAMED_REFUSALS = {
    "an escaped NUL": (
        b'{"goals": ["yo\\u0000ga"], "training_preferences": ["yoga"]}',
        400,
        "22P05",
        "unsupported Unicode escape sequence",
    ),
    "an array nested 100,000 deep": (
        b'{"goals": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        413,
        "54001",
        "stack depth limit exceeded",
    ),
}


@pytest.mark.parametrize("way_in", ["gateway", "postgrest"])
@pytest.mark.parametrize("name", UNNAMED_REFUSALS)
def test_what_the_database_cannot_name_is_still_a_clear_4xx(
    stack: StackState, database: Database, callers: Callers, name: str, way_in: str
) -> None:
    body, status, code, message = UNNAMED_REFUSALS[name]
    own = {"user_id": f"eq.{callers.updater}"}
    base_url = stack.postgrest_url if way_in == "postgrest" else stack.rest_url
    # A body larger than any profile is refused for a user on its length alone (above); what the
    # database answers is seen with the service role's.
    headers = (
        service_role(callers) if len(body) > gateway.USER_MAX_BODY else callers.updater_headers
    )
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = send_and_check(client, database, "PATCH", own, {**headers, **JSON}, body)
    error = json_error(response)
    assert (response.status_code, error["code"], error["message"]) == (status, code, message)
