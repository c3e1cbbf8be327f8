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


# -- without the gateway, as on hosted Supabase ---------------------------------------------------

#: Shorter than the gateway's floods: these prove the database's own defences, not their stamina.
DIRECT_SECONDS = 6.0
#: Straight at PostgREST a signed-in attacker's filter reaches the planner, which the pre-request
#: check's 250 ms statement timeout stops within about 0.3 s; with two dozen of them the pool is
#: busy, so the victim waits its turn, but never for the 8 s of the platform's own limit.
DIRECT_VICTIM_BUDGET_SECONDS = 2.0


def test_without_the_gateway_anon_regex_filters_never_reach_the_planner(
    stack: StackState, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run_regex_flood(
        stack, "anon", attackers=ATTACKERS, seconds=DIRECT_SECONDS, base_url=stack.postgrest_url
    )
    with capsys.disabled():
        print(f"\nstraight at PostgREST: {report.summary()}")
    flood, victim = report.flood, report.victim
    assert flood.requests >= ATTACKERS, flood.summary()
    # 401 from the pre-request check; a spelling PostgREST cannot parse is its own 400.
    assert set(flood.statuses) <= {"401", "400"}, flood.summary()
    assert '"42501"' in flood.samples["401"]
    assert set(victim.statuses) == {200}, f"{victim.summary()}: {victim.failures[:3]}"
    assert quantile(victim.seconds, 0.99) < VICTIM_BUDGET_SECONDS, victim.summary()


def test_without_the_gateway_a_signed_in_regex_filter_is_cut_short(
    stack: StackState, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run_regex_flood(
        stack, "user", attackers=ATTACKERS, seconds=DIRECT_SECONDS, base_url=stack.postgrest_url
    )
    with capsys.disabled():
        print(f"\nstraight at PostgREST: {report.summary()}")
    flood, victim = report.flood, report.victim
    assert flood.requests >= ATTACKERS, flood.summary()
    # 500 57014 is the statement timeout the pre-request check set; nothing else may fail.
    assert set(flood.statuses) <= {"500", "400"}, flood.summary()
    assert '"57014"' in flood.samples.get("500", '"57014"')
    assert set(victim.statuses) == {200}, f"{victim.summary()}: {victim.failures[:3]}"
    assert quantile(victim.seconds, 0.99) < DIRECT_VICTIM_BUDGET_SECONDS, victim.summary()
