"""The pool stays available: two dozen attackers flood regular-expression filters for 12 s, with
the anon key and then as a signed-in user, while a signed-in victim reads its own profile.

Before the gateway refused such filters, one of these requests held a pooled database connection
for the whole statement timeout and 14 signed-in attackers made every victim read take 7-8 s. Now
every attacker answer must be a 4xx (never a 5xx, never no answer), no regex query may show up in
the database, every victim read must succeed, and the victim's p99 must stay under 1 s. The
attackers run in a process of their own (tests/reliability/attacks.py); the figures are printed.
"""

from __future__ import annotations

import pytest

from movement_profiles_cli.stack.state import StackState
from tests.reliability.attacks import VICTIM_BUDGET_SECONDS, quantile, run_regex_flood

pytestmark = pytest.mark.integration

ATTACKERS = 24
SECONDS = 12.0


@pytest.mark.parametrize("who", ["anon", "user"])
def test_a_regex_filter_flood_leaves_the_victims_reads_fast(
    stack: StackState, who: str, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run_regex_flood(stack, who, attackers=ATTACKERS, seconds=SECONDS)
    with capsys.disabled():
        print(f"\n{report.summary()}")
    flood, victim = report.flood, report.victim
    assert flood.requests >= ATTACKERS, flood.summary()
    assert all(status.startswith("4") for status in flood.statuses), flood.summary()
    assert set(flood.statuses) == {"400"}, f"refused elsewhere than at the gateway: {flood.samples}"
    assert '"OPERATOR_NOT_ALLOWED"' in flood.samples["400"]
    assert report.regex_queries_seen == 0, "a regex filter reached the database"
    assert victim.count >= 20, victim.summary()
    assert set(victim.statuses) == {200}, f"{victim.summary()}: {victim.failures[:3]}"
    assert quantile(victim.seconds, 0.99) < VICTIM_BUDGET_SECONDS, victim.summary()
