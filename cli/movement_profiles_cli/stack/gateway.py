"""The API gateway: nginx standing in for the Kong that fronts a Supabase project.

Like Supabase's gateway it answers CORS preflights, rejects a request without a valid `apikey`
(header or query parameter) with 401 and a JSON body, uses the apikey as the bearer token when no
`Authorization` header is sent, and proxies `/rest/v1/*` to PostgREST.

The component is a guest in its host's project, so the gateway has two kinds of path. On the
host's paths (every table and function that is not the component's) it passes the request on as
Kong does: every client header, regex filters, CSV and form bodies; it refuses only what no valid
request contains (bytes that are not UTF-8, an unfiltered PATCH or DELETE, which hosted Supabase's
`safeupdate` refuses too) and what no deployment should take (slow clients, bodies over 1 MB).
On the component's own paths (COMPONENT_PATHS) it also refuses what this API never needs and
PostgREST handles badly: regular-expression filters (`match`, `imatch`), CSV and form bodies, and
every header but the few PostgREST needs. Both kinds are matched on the path nginx forwards
(percent-decoded and normalized), so no spelling of a path reaches PostgREST under the other
kind's rules. Every answer the gateway gives itself is JSON. The limits against slow and greedy
clients are listed in SECURITY.md ("Abuse").

The configuration itself is nginx's, in the templates of the `nginx/` folder beside this module
(`nginx.conf`, with the location of a component path and the checks and proxy settings every API
path shares); their ``{{ name }}`` placeholders get what is computed here: the limits, the
patterns that read the URL as PostgREST does, the JSON bodies of the gateway's own answers, and
the stack's ports, paths and keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from movement_profiles_cli.stack.state import StackState

TEMPLATES = Path(__file__).with_name("nginx")

# Largest request body accepted; larger ones get 413 with a JSON body. A full profile is < 1 KiB.
MAX_BODY = "1m"
# On the component's paths, the largest body of a caller other than the service role: a user
# writes one profile (< 1 KiB), and PostgREST parses a body whole before the database can refuse
# it (about 40 ms of CPU per MB), so a flood of 1 MB arrays would slow every other request down.
# The service role's bulk upserts (the CLI's import batches) keep MAX_BODY.
USER_MAX_BODY = 16_000
# Content-Length values above USER_MAX_BODY, as a regular expression over the decimal digits.
USER_BODY_TOO_LARGE = (
    "(?:16(?:00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})|1[7-9][0-9]{3}|[2-9][0-9]{4}|[0-9]{6,})"
)

# Slow clients. A request's header must arrive whole within CLIENT_TIMEOUT seconds of the
# connection (nginx starts that timer once, so trickling a byte at a time does not extend it);
# a body may pause at most that long between two reads, and so may a client reading the answer.
# An idle keep-alive connection is closed after KEEPALIVE_TIMEOUT seconds (httpx closes its own
# after 5 s, browsers' fetch after about 4 s, so clients never race the gateway's close).
CLIENT_TIMEOUT = 10
KEEPALIVE_TIMEOUT = 15
# Requests of one client address in progress at once, counted once their header is read (a
# half-open request is not counted: the header timeout and worker connections deal with those).
# Every local client is 127.0.0.1, so this is above the suites' peaks: 200 concurrent owners in
# tests/reliability/test_concurrency.py, 60 soak writers, 16 bench connections.
CONNECTIONS_PER_ADDRESS = 512
# nginx's connection table: every client connection and every connection to PostgREST takes one.
# It is capped by the open-files limit nginx starts with (see `worker_connections`).
MAX_WORKER_CONNECTIONS = 8192
OPEN_FILES_WANTED = 16384
# Room for what nginx opens besides connections: logs, the listening socket, temp files.
OPEN_FILES_RESERVED = 64

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": (
        "authorization, x-client-info, apikey, content-type, content-profile, accept-profile, "
        "prefer, range, range-unit, x-supabase-api-version, x-retry-count, accept"
    ),
    "Access-Control-Expose-Headers": (
        "Content-Range, Content-Location, Preference-Applied, Location"
    ),
    "Access-Control-Max-Age": "3600",
}

# The component's functions the API exposes: its RPC paths. tests/security/test_gateway.py checks
# this against the public functions named movement_profile_* in the database.
COMPONENT_FUNCTIONS = (
    "movement_profile_options",
    "movement_profile_catalogue",
    "movement_profile_add_field",
    "movement_profile_add_value",
    "movement_profile_relabel",
    "movement_profile_retire_value",
    "movement_profile_remove_field",
    "movement_profile_apply_catalogue",
    "movement_profile_catalogue_sql",
    "movement_profile_catalogue_changes",
)
# The component's own paths under /rest/v1/, as PostgREST serves them. The gateway's extra
# refusals apply to these alone; every other path is the host's.
COMPONENT_PATHS = ("movement_profiles", *(f"rpc/{name}" for name in COMPONENT_FUNCTIONS))

# The client headers PostgREST receives on the component's paths; nothing else is forwarded there.
# PostgREST 12 copies every header it gets into `request.headers` and answers a bare-text 500 when
# one is not UTF-8, so an unlisted header, whatever its bytes, cannot reach it. `Authorization`,
# `Host` and the `X-Forwarded-*` headers are set by the gateway itself; the `apikey` stays here, as
# with Kong's `hide_credentials`. On the host's paths every client header is forwarded, as Kong
# forwards them (the `apikey` excepted).
FORWARDED_HEADERS = (
    "Accept",
    "Accept-Profile",
    "Content-Profile",
    "Content-Type",
    "Origin",
    "Prefer",
    "Range",
    "Range-Unit",
    "User-Agent",
    "X-Client-Info",
    # Who changes the catalogue, as an admin tool names them (recorded beside the token's role).
    "X-Movement-Profiles-Actor",
)
# Headers whose value must be UTF-8 (else 400): the forwarded ones, the credentials, and the
# common headers of browsers, HTTP libraries and proxies. nginx reads a header's value only by
# name; a header outside this list is not inspected (on the component's paths it is not forwarded
# either; on the host's paths it reaches PostgREST, as behind Kong).
CHECKED_HEADERS = (
    *FORWARDED_HEADERS,
    "Access-Control-Request-Headers",
    "Access-Control-Request-Method",
    "Accept-Charset",
    "Accept-Encoding",
    "Accept-Language",
    "apikey",
    "Authorization",
    "Cache-Control",
    "Connection",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Cookie",
    "DNT",
    "Expect",
    "Forwarded",
    "From",
    "Host",
    "If-Match",
    "If-Modified-Since",
    "If-None-Match",
    "If-Range",
    "If-Unmodified-Since",
    "Keep-Alive",
    "Max-Forwards",
    "Pragma",
    "Priority",
    "Proxy-Authorization",
    "Referer",
    "Sec-Ch-Ua",
    "Sec-Ch-Ua-Mobile",
    "Sec-Ch-Ua-Platform",
    "Sec-Fetch-Dest",
    "Sec-Fetch-Mode",
    "Sec-Fetch-Site",
    "Sec-Fetch-User",
    "TE",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
    "Upgrade-Insecure-Requests",
    "Via",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Proto",
    "X-Real-IP",
    "X-Request-Id",
    "X-Requested-With",
    "X-Retry-Count",
    "X-Supabase-Api-Version",
)

# Headers a proxy must not pass on (RFC 9110, 7.6.1); nginx sets `Connection` itself. Kong drops
# them too.
HOP_BY_HOP_HEADERS = ("Keep-Alive", "Proxy-Connection", "TE", "Upgrade")

# Filter operators refused on the component's paths: PostgreSQL compiles a regular expression
# while planning, before any privilege or row-level check, and a pathological one holds a pooled
# connection for the whole statement timeout. Nothing in this project filters with them (the SDK
# and CLI use eq, gt, cs, order and limit; the web example eq); `like`/`ilike` stay available.
# A host's tables keep them, as on hosted Supabase.
REFUSED_OPERATORS = ("imatch", "match")

# --- regular expressions (PCRE, matched on raw bytes) ------------------------------------------

# A continuation byte, raw or percent-encoded.
_HEX = "[0-9a-f]"
_CONT = f"(?:[\\x80-\\xbf]|%[89ab]{_HEX})"
# One whole UTF-8 character of a URL (raw or percent-encoded, as PostgREST decodes it): ASCII
# (a `%` not followed by two hex digits is kept as it is), or a valid multi-byte sequence (no
# overlong forms, no surrogates, nothing above U+10FFFF).
_URL_CHAR = "|".join(
    [
        f"[\\x00-\\x24\\x26-\\x7f]|%[0-7]{_HEX}|%(?!{_HEX}{{2}})",
        f"(?:[\\xc2-\\xdf]|%c[2-9a-f]|%d{_HEX}){_CONT}",
        f"(?:\\xe0|%e0)(?:[\\xa0-\\xbf]|%[ab]{_HEX}){_CONT}",
        f"(?:[\\xe1-\\xec\\xee\\xef]|%e[1-9a-cef]){_CONT}{{2}}",
        f"(?:\\xed|%ed)(?:[\\x80-\\x9f]|%[89]{_HEX}){_CONT}",
        f"(?:\\xf0|%f0)(?:[\\x90-\\xbf]|%[9ab]{_HEX}){_CONT}{{2}}",
        f"(?:[\\xf1-\\xf3]|%f[1-3]){_CONT}{{3}}",
        f"(?:\\xf4|%f4)(?:[\\x80-\\x8f]|%8{_HEX}){_CONT}{{2}}",
    ]
)
# Valid characters are consumed possessively; a non-ASCII byte left over starts an invalid one.
URL_NOT_UTF8 = f"^(?:{_URL_CHAR})*+(?:[\\x80-\\xff]|%[89a-f]{_HEX})"
# The same for raw header values, one per line (a header value holds no line feed).
_HEADER_CHAR = "|".join(
    [
        "[\\x00-\\x09\\x0b-\\x7f]",
        "[\\xc2-\\xdf][\\x80-\\xbf]",
        "\\xe0[\\xa0-\\xbf][\\x80-\\xbf]",
        "[\\xe1-\\xec\\xee\\xef][\\x80-\\xbf]{2}",
        "\\xed[\\x80-\\x9f][\\x80-\\xbf]",
        "\\xf0[\\x90-\\xbf][\\x80-\\xbf]{2}",
        "[\\xf1-\\xf3][\\x80-\\xbf]{3}",
        "\\xf4[\\x80-\\x8f][\\x80-\\xbf]{2}",
    ]
)
HEADER_NOT_UTF8 = f"(?m)^(?<bad_header>[A-Za-z-]+):(?:{_HEADER_CHAR})*+[\\x80-\\xff]"


def any_spelling(word: str) -> str:
    """A case-insensitive (`~*`) pattern for `word` in any case, with any of its characters
    percent-encoded, as PostgREST decodes a query string (`api%6bey`, `%4Datch`, `%6D%41tch`)."""
    return "".join(
        "(?:"
        + "|".join(
            [re.escape(char), *sorted({f"%{ord(c):02x}" for c in (char.lower(), char.upper())})]
        )
        + ")"
        for char in word
    )


_APIKEY = any_spelling("apikey") + "(?:=|%3d)"
# Query parameters are separated by `&` or `;` (PostgREST's parser splits on both).
APIKEY_VALUE = f"(?:^|[&;]){_APIKEY}(?<apikey_value>[^&;]*)"
APIKEY_FIRST = f"^{_APIKEY}[^&;]*(?:[&;](?<after_key>.*))?$"
APIKEY_LATER = f"^(?<before_key>.*?)[&;]{_APIKEY}[^&;]*(?<after_key>.*)$"
APIKEY_ANYWHERE = f"(?:^|[&;]){_APIKEY}"
# An operator is followed by `.` (`match.x`, `not.match.x`, inside `or=(...)`) or by `(`
# (`match(any).{...}`); the pattern finds it anywhere in the raw query string.
_OPERATOR_END = "(?:\\.|%2e|\\(|%28)"


def operator_pattern(operator: str) -> str:
    return any_spelling(operator) + _OPERATOR_END


def exact_spelling(word: str) -> str:
    """A case-sensitive (`~`) pattern for `word` as PostgREST reads a parameter name: each
    character as it is or percent-encoded (`%73elect`, `%6C` or `%6c`), letters in their case."""
    return "".join(
        f"(?:{re.escape(char)}|%{ord(char) >> 4:x}[{ord(char) & 15:x}{ord(char) & 15:X}])"
        if (ord(char) & 15) >= 10
        else f"(?:{re.escape(char)}|%{ord(char):02x})"
        for char in word
    )


# Query parameters that shape an answer and name no row: with nothing else, an UPDATE or DELETE
# has no WHERE clause, and safeupdate refuses it.
SHAPING_PARAMETERS = ("select", "order", "limit", "offset", "columns", "on_conflict")
# A filter of the root table (matched case-sensitively, as PostgREST reads names): a parameter
# named anything but a shaping one, with no `.` in its name (`embedded.column=` filters an
# embedded resource, not the rows written), or the root `not.or` / `not.and`. PostgREST splits a
# parameter at its first raw `=` and then decodes the name, so `%73elect=` is `select`, and
# `select%3Duser_id` (no raw `=`) and a bare `user_id` filter nothing.
_SHAPING = "(?:" + "|".join(exact_spelling(name) for name in SHAPING_PARAMETERS) + ")"
_ROOT_NAME = "(?:[^&;=.%]|%(?!2[eE]))+"
_ROOT_LOGIC = "(?:" + "|".join(exact_spelling(name) for name in ("not.or", "not.and")) + ")"
FILTER_PARAMETER = f"(?:^|[&;])(?!{_SHAPING}=)(?:{_ROOT_LOGIC}|{_ROOT_NAME})="


def _json(code: str | None, message: str, hint: str | None = None) -> str:
    """A PostgREST-shaped error body, escaped for an nginx `return "..."`."""
    body = {"code": code, "details": None, "hint": hint, "message": message}
    return _nginx_string(json.dumps(body))


def _kong_json(message: str, hint: str) -> str:
    """The body Supabase's Kong answers a missing or unknown key with (`message`, `hint`)."""
    return _nginx_string(json.dumps({"message": message, "hint": hint}))


def _nginx_string(text: str) -> str:
    # nginx `return` takes a quoted string: escape what nginx would otherwise interpret.
    # (No `$` is written here except the variables placed on purpose by the caller.)
    assert "$" not in text, text
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _variable(header: str) -> str:
    return "$http_" + header.lower().replace("-", "_")


def worker_connections(open_files: int) -> int:
    """As many connections as the open-files limit nginx runs with allows, up to the maximum."""
    return max(1024, min(MAX_WORKER_CONNECTIONS, open_files - OPEN_FILES_RESERVED))


# Errors nginx itself answers, and the JSON it answers them with: (status, code, message, hint).
# Errors met while reading the request line have no URI yet, and nginx cannot redirect them to a
# named location: they all go to internal URIs instead.
GATEWAY_ERRORS: tuple[tuple[int, str, str, str | None], ...] = (
    (400, "BAD_REQUEST", "Malformed HTTP request", None),
    (404, "NOT_FOUND", "no Route matched with those values", None),
    (405, "METHOD_NOT_ALLOWED", "Method not allowed", None),
    (408, "REQUEST_TIMEOUT", "The request was not received in time", None),
    (411, "LENGTH_REQUIRED", "A request body needs a Content-Length", None),
    (413, "PAYLOAD_TOO_LARGE", f"Request body too large (limit {MAX_BODY}B)", None),
    (414, "URI_TOO_LONG", "Request URI too long", None),
    (
        429,
        "TOO_MANY_REQUESTS",
        "Too many requests in progress from this address",
        f"At most {CONNECTIONS_PER_ADDRESS} requests of one address are served at once; "
        "retry when some have finished.",
    ),
    (500, "GATEWAY_ERROR", "The API gateway failed to handle the request", None),
    (
        501,
        "NOT_IMPLEMENTED",
        "Not implemented: unknown Transfer-Encoding",
        "Send the body with Content-Length or chunked.",
    ),
    (505, "HTTP_VERSION_NOT_SUPPORTED", "HTTP version not supported", "Use HTTP/1.1."),
)


def render_config(state: StackState, *, open_files: int = 1024) -> str:
    """nginx's configuration; `open_files` is the soft open-files limit nginx will run with."""
    runtime = state.runtime_dir / "nginx"
    # Like Kong's cors plugin without a `headers` setting, a preflight is allowed the headers it
    # asks for (a host's page may send headers of its own); without the question, the usual ones.
    cors = "\n".join(
        f"    add_header {name} $cors_allow_headers always;"
        if name == "Access-Control-Allow-Headers"
        else f'    add_header {name} "{value}" always;'
        for name, value in CORS_HEADERS.items()
    )
    temp_paths = "\n".join(
        f"  {kind}_temp_path {runtime / ('tmp-' + kind)};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    no_key = _kong_json(
        "No API key found in request", "No `apikey` request header or url param was found."
    )
    bad_key = _kong_json(
        "Invalid API key", "Double check your Supabase `anon` or `service_role` API key."
    )
    # 494 is nginx's "request header too large"; such a header can only be a forged token or key.
    headers_too_large = _json(
        "HEADERS_TOO_LARGE", "Request headers too large: no valid token or API key is this long"
    )
    foreign_body = _json(
        "UNSUPPORTED_MEDIA_TYPE",
        "Only JSON request bodies are accepted: send Content-Type: application/json",
        "PostgREST 12 answers some malformed CSV and form bodies with a bare 500.",
    )
    user_body_too_large = _json(
        "PAYLOAD_TOO_LARGE",
        f"Request body too large for a movement profile (limit {USER_MAX_BODY:,} bytes)",
        "Send one profile per request with Content-Length; bulk writes are for the service role.",
    )
    repeated_key = _json(
        "REPEATED_API_KEY",
        "More than one `apikey` url param was sent",
        "Send the API key once, best as a header.",
    )
    not_found = _json("NOT_FOUND", "no Route matched with those values")
    no_slash = _json(
        "NOT_FOUND",
        "no Route matched with those values",
        "The API root is /rest/v1/ (with a slash).",
    )
    no_such_path = _json(
        "NOT_FOUND",
        "no Route matched with those values",
        "Paths are /rest/v1/<table> and /rest/v1/rpc/<function>, without a trailing slash.",
    )
    url_not_utf8 = _json(
        "INVALID_UTF8",
        "The request URL is not valid UTF-8 once percent-decoded",
        "Percent-encode the UTF-8 bytes of each character.",
    )
    # `$header_not_utf8` is a header name ([A-Za-z-]+): safe inside the JSON string.
    header_not_utf8 = _json(
        "INVALID_UTF8", "Request header %HEADER% is not valid UTF-8", "Send header values as UTF-8."
    ).replace("%HEADER%", "$header_not_utf8")
    operator_refused = _json(
        "OPERATOR_NOT_ALLOWED",
        "Filter operator %OPERATOR% is not allowed on this API",
        "Regular-expression filters (match, imatch) are refused: use eq, in, cs, like or ilike.",
    ).replace("%OPERATOR%", "$refused_operator")

    # Hosted Supabase loads the safeupdate library for PostgREST's connections; PostgREST answers
    # its error (21000, "... requires a WHERE clause") with 400. Debian has no safeupdate, so the
    # gateway gives the same answer before PostgREST.
    unfiltered_write = _json(
        "21000",
        "%STATEMENT% requires a WHERE clause",
        "Add a filter, e.g. user_id=eq.<id>. To write every row on purpose, say so with a filter "
        "every row matches, e.g. id=not.is.null.",
    ).replace("%STATEMENT%", "$unfiltered_write")
    unavailable = _json("SERVICE_UNAVAILABLE", "The API is unavailable: PostgREST did not answer")
    error_pages = "\n".join(
        f"    error_page {status} /.gateway-errors/{status};" for status, *_ in GATEWAY_ERRORS
    )
    error_locations = "\n".join(
        f"    location = /.gateway-errors/{status} {{ internal; "
        f'return {status} "{_json(code, message, hint)}"; }}'
        for status, code, message, hint in GATEWAY_ERRORS
    )
    snippets = {
        "checked_headers": "\\n".join(f"{name}:{_variable(name)}" for name in CHECKED_HEADERS),
        "forwarded_headers": "\n".join(
            f"      proxy_set_header {name} {_variable(name)};" for name in FORWARDED_HEADERS
        ),
        "refused_operators": "\n".join(
            f'    "~*{operator_pattern(operator)}" {operator};' for operator in REFUSED_OPERATORS
        ),
        "hop_by_hop": "\n".join(
            f'      proxy_set_header {name} "";' for name in HOP_BY_HOP_HEADERS
        ),
    }
    values: dict[str, object] = {
        **snippets,
        # The gateway's own answers.
        "url_not_utf8": url_not_utf8,
        "header_not_utf8": header_not_utf8,
        "no_key": no_key,
        "bad_key": bad_key,
        "repeated_key": repeated_key,
        "unfiltered_write": unfiltered_write,
        "operator_refused": operator_refused,
        "foreign_body": foreign_body,
        "user_body_too_large": user_body_too_large,
        "user_body_too_large_pattern": USER_BODY_TOO_LARGE,
        "headers_too_large": headers_too_large,
        "unavailable": unavailable,
        "no_slash": no_slash,
        "no_such_path": no_such_path,
        "not_found": not_found,
        "error_pages": error_pages,
        "error_locations": error_locations,
        # Limits, and the patterns that read a request as PostgREST does.
        "max_body": MAX_BODY,
        "client_timeout": CLIENT_TIMEOUT,
        "keepalive_timeout": KEEPALIVE_TIMEOUT,
        "connections_per_address": CONNECTIONS_PER_ADDRESS,
        "open_files": open_files,
        "worker_connections": worker_connections(open_files),
        "cors": cors,
        "cors_allow_headers": CORS_HEADERS["Access-Control-Allow-Headers"],
        "url_not_utf8_pattern": URL_NOT_UTF8,
        "header_not_utf8_pattern": HEADER_NOT_UTF8,
        "apikey_value": APIKEY_VALUE,
        "apikey_first": APIKEY_FIRST,
        "apikey_later": APIKEY_LATER,
        "apikey_anywhere": APIKEY_ANYWHERE,
        "filter_parameter": FILTER_PARAMETER,
        # This stack's.
        "pid_file": runtime / "nginx.pid",
        "error_log": state.logs / "nginx-error.log",
        "temp_paths": temp_paths,
        "anon_key": state.anon_key,
        "service_role_key": state.service_role_key,
        "rest_port": state.rest_port,
        "api_port": state.api_port,
    }
    # What every path under /rest/v1/ goes through before it is proxied.
    values["checks"] = _render("checks.conf", values)
    values["proxy"] = _render("proxy.conf", values)
    values["component_locations"] = "\n".join(
        _render("component_location.conf", {**values, "path": path}) for path in COMPONENT_PATHS
    )
    return _render("nginx.conf", values)


#: A placeholder of the templates: ``{{ name }}``, as nginx itself uses ``$`` and single braces.
_PLACEHOLDER = re.compile(r"\{\{ ([a-z0-9_]+) \}\}")


def _render(template: str, values: Mapping[str, object]) -> str:
    """A template of `TEMPLATES`, every placeholder filled (a missing value raises KeyError)."""
    text = (TEMPLATES / template).read_text(encoding="utf-8").removesuffix("\n")
    if template == "nginx.conf":
        text += "\n"
    return _PLACEHOLDER.sub(lambda placeholder: str(values[placeholder[1]]), text)
