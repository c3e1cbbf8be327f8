"""One throwaway stack per run (the major of $MP_PG), reset for each host; a report at the end."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from movement_profiles_cli.stack.local_stack import LocalStack
from tests.support.stack import throwaway_stack


@dataclass
class HostOutcome:
    host: str
    compared: int
    changed: int
    gateway_differs: int
    privileges_changed: int


#: Filled by tests/hosts/test_hosts.py, printed by pytest_terminal_summary.
OUTCOMES: list[HostOutcome] = []
#: Hosts whose migrations, seed or install failed: nothing of theirs was compared.
BROKEN: list[str] = []
#: The PostgreSQL major of the run's stack.
MAJOR: list[int] = []


@pytest.fixture(scope="session")
def host_stack() -> Iterator[LocalStack]:
    """A stack of its own: the hosts' databases replace each other, which the shared test stack
    (tests/conftest.py) must never see."""
    with throwaway_stack(prefix="movement-profiles-hosts-") as stack:
        MAJOR.append(stack.state.pg_major)
        yield stack


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not OUTCOMES and not BROKEN:
        return
    major = MAJOR[0] if MAJOR else "?"
    broken = f" ({len(BROKEN)} more did not load or install: {', '.join(BROKEN)})" if BROKEN else ""
    terminalreporter.write_line(
        f"hosts on PostgreSQL {major}: {len(OUTCOMES)} hosts{broken}, "
        f"{sum(o.compared for o in OUTCOMES)} host answers compared, "
        f"changed {sum(o.changed for o in OUTCOMES)}, "
        f"gateway differs from PostgREST {sum(o.gateway_differs for o in OUTCOMES)}, "
        f"privileges or settings changed {sum(o.privileges_changed for o in OUTCOMES)}"
    )
    for outcome in OUTCOMES:
        terminalreporter.write_line(
            f"  {outcome.host}: {outcome.compared} compared, {outcome.changed} changed, "
            f"gateway differs {outcome.gateway_differs}, privileges changed "
            f"{outcome.privileges_changed}"
        )
