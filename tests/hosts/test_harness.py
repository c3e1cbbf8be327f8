"""The host suite's comparison of grants and settings, without a stack."""

from __future__ import annotations

from tests.hosts.harness import privilege_changes

BEFORE = {
    "schema private": (None, {"acl": ["postgres=UC/postgres", "authenticated=U/postgres"]}),
    "relation notes": (None, {"acl": None}),
    "policy notes | Public notes": ("relation notes", {"using": "public"}),
    "role authenticator": (None, {"login": True}),
    "role setting authenticator | (all databases) | statement_timeout": (
        "role authenticator",
        "8s",
    ),
}


def test_nothing_changed_and_new_objects_of_the_component_are_no_change() -> None:
    after = {
        **BEFORE,
        "schema movement_profiles_internal": (None, {"acl": None}),
        "relation movement_profiles": (None, {"acl": None}),
        "policy movement_profiles | Users read their own": ("relation movement_profiles", {}),
    }
    assert privilege_changes(BEFORE, after) == []


def test_a_changed_grant_of_the_host_is_a_change() -> None:
    after = {**BEFORE, "schema private": (None, {"acl": ["postgres=UC/postgres"]})}
    assert [change.split(":")[0] for change in privilege_changes(BEFORE, after)] == [
        "schema private"
    ]


def test_a_new_policy_on_a_host_table_or_a_gone_object_is_a_change() -> None:
    after = {
        key: value for key, value in BEFORE.items() if key != "policy notes | Public notes"
    } | {"policy notes | Mine": ("relation notes", {"using": "true"})}
    assert len(privilege_changes(BEFORE, after)) == 2


def test_the_pre_request_hook_may_be_set_when_the_host_had_none_and_nothing_else() -> None:
    hook = "role setting authenticator | (all databases) | pgrst.db_pre_request"
    timeout = "role setting authenticated | (all databases) | statement_timeout"
    after = {
        **BEFORE,
        hook: ("role authenticator", "movement_profiles_internal.check_request"),
        "role authenticated": (None, {}),
    }
    assert privilege_changes(BEFORE, after) == []
    with_host_hook = {**BEFORE, hook: ("role authenticator", "gate.check_request")}
    changed = {**with_host_hook, hook: ("role authenticator", "other")}
    assert len(privilege_changes(with_host_hook, changed)) == 1
    before_role = {**BEFORE, "role authenticated": (None, {})}
    assert (
        len(
            privilege_changes(
                before_role, {**before_role, timeout: ("role authenticated", "250ms")}
            )
        )
        == 1
    )
