"""The fast path of a domain's CHECK, evaluated alone: what the built-in operators say about a
value before the assert function (the slow path) is asked."""

from __future__ import annotations

from typing import Any

import psycopg
from hypothesis import assume
from psycopg.types.json import Jsonb


def fast_path_accepts(
    db: psycopg.Connection[tuple[object, ...]], expression: str, name: str, value: Any
) -> bool:
    """Whether `expression`, SQL over a jsonb called `name`, is true for `value` (NULL is no)."""
    try:
        row = db.execute(
            f"select coalesce({expression}, false) from (select %s::jsonb as {name}) as input",
            (Jsonb(value),),
        ).fetchone()
    except psycopg.errors.UntranslatableCharacter:
        # "\u0000" is valid JSON but no jsonb: such a value never reaches a CHECK.
        assume(False)
    assert row is not None
    return bool(row[0])
