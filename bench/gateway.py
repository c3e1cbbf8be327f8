"""The gateway against PostgREST called directly (target: >= 0.85 of its requests/s).

The contract's GET, POST and PATCH, each user with their own token as supabase-js sends them,
through the nginx gateway (what a client calls) and to PostgREST's own port: the difference is the
gateway's cost.
"""

from __future__ import annotations

from bench.measure import Bench, Row, ratio_row

TITLE = "the gateway against PostgREST direct"
TARGET = 0.85
OPERATIONS = ("get", "post", "patch")


def run(bench: Bench) -> list[Row]:
    runs = bench.side_by_side(
        "gateway",
        OPERATIONS,
        {
            "gateway": lambda mode: bench.wrk(f"{bench.state.rest_url}/movement_profiles", mode),
            "direct": lambda mode: bench.wrk(
                f"{bench.state.postgrest_url}/movement_profiles", mode
            ),
        },
    )
    return [
        ratio_row(
            f"{operation.upper()} through the gateway against PostgREST direct",
            runs[f"{operation} gateway"],
            runs[f"{operation} direct"],
            TARGET,
        )
        for operation in OPERATIONS
    ]
