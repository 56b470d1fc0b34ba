"""Issue 13, "Bounded by design": each reproduction of the issue, through the real handlers.

Each test failed before the fix (a 500, a stuck run, a forged actor, a stale decision ...).
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from exception_playbooks.matching import pack_rules
from exception_playbooks.repository import packs as packs_module

from .conftest import (
    TENANT_A,
    ApiClient,
    assert_error,
    claims,
    seed_packs,
    seed_playbook,
    snapshot,
    step,
)
from .scenario import (
    EXCEPTION,
    EXCEPTIONS,
    SIMULATE,
    act,
    assigned,
    create,
    events,
    exception_body,
    seed_standard,
)

ADMIN = (TENANT_A, "ada", ("admin",))
AUTOMATION = (TENANT_A, "resolver-bot", ("automation",))
DOMAIN = "Finance"
OVERFLOWING = ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "0001-01-01T00:00:00Z"]


# -- dates ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("deadline", [*OVERFLOWING, 1767225600, True, "1969-12-31T23:59:59Z"])
def test_an_out_of_range_or_numeric_sla_deadline_is_422_everywhere(
    api: ApiClient, aws: Any, deadline: Any
) -> None:
    create(api, "EX-1")
    before = snapshot(aws)
    created = api.call("POST", EXCEPTIONS, body=exception_body("EX-2", sla_deadline=deadline))
    patched = api.call("PATCH", EXCEPTION, {"exception_id": "EX-1"}, body={"sla_deadline": deadline})
    simulated = api.call(
        "POST",
        SIMULATE,
        body={"exception": {"domain": DOMAIN, "exception_type": "X", "sla_deadline": deadline}},
    )
    for response in (created, patched, simulated):
        assert_error(response, 422, "VALIDATION_ERROR")
        assert "sla_deadline" in response.body["details"]["errors"][0]["path"]
    assert snapshot(aws) == before


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"),
        ("9999-12-31T18:59:59-05:00", "9999-12-31T23:59:59.000Z"),
        ("2026-03-01T00:30:00+01:00", "2026-02-28T23:30:00.000Z"),
    ],
)
def test_boundary_deadlines_are_stored_as_four_digit_utc(api: ApiClient, given: str, stored: str) -> None:
    assert create(api, "EX-1", sla_deadline=given)["sla_deadline"] == stored


# -- ids and path parameters -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tenant", "username"), [("tenant-a\n", "alice"), (TENANT_A, "alice\n"), (TENANT_A, "a b")]
)
def test_a_tenant_or_username_with_a_newline_or_space_is_401(
    api: ApiClient, tenant: str, username: str
) -> None:
    response = api.call("GET", EXCEPTIONS, as_claims=claims(tenant, username, ("operator",)))
    assert_error(response, 401)


@pytest.mark.parametrize("order", ["+1", "01", "1\n"])
def test_a_step_order_not_written_plainly_is_422_not_step_1(
    api: ApiClient, repos: Any, aws: Any, order: str
) -> None:
    seed_standard(repos, TENANT_A)
    assigned(api)
    before = snapshot(aws)
    response = api.call(
        "POST",
        "/api/exceptions/{exception_id}/playbook/steps/{step_order}/complete",
        {"exception_id": "EX-1", "step_order": order},
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    assert snapshot(aws) == before


# -- check order: 404 (existence) before 403 (actor) ---------------------------------------------------
def test_a_missing_step_is_404_whoever_acts(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A)
    assigned(api)
    assert_error(act(api, 99, body={"actor_type": "human", "actor_id": "bob"}), 404, "STEP_NOT_FOUND")
    assert_error(act(api, 99, user=AUTOMATION), 404, "STEP_NOT_FOUND")


# -- machine clients act as themselves ----------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        {"actor_type": "system", "actor_id": "alice"},
        {"actor_type": "agent", "actor_id": "PolicyAgent"},
        {"actor_type": "system", "actor_id": "system"},
        {"actor_type": "agent", "actor_id": "resolver-bot-2"},
        {"actor_type": "agent", "actor_id": "resolver-bot:"},
    ],
)
def test_automation_cannot_forge_another_actor(
    api: ApiClient, repos: Any, aws: Any, body: dict[str, str]
) -> None:
    seed_standard(repos, TENANT_A)
    assigned(api)
    before = snapshot(aws)
    response = act(api, 1, body=body, user=AUTOMATION)
    assert_error(response, 403, "FORBIDDEN_ACTOR")
    assert response.body["details"]["allowed_actor_ids"][0] == "resolver-bot"
    assert snapshot(aws) == before


def test_a_token_named_like_a_service_actor_may_not_act(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A)
    assigned(api)
    impostor = (TENANT_A, "PolicyAgent", ("automation",))
    assert_error(act(api, 1, body={"actor_type": "agent"}, user=impostor), 403, "FORBIDDEN_ACTOR")


# -- template output bound ----------------------------------------------------------------------------
def test_a_comment_rendering_past_every_limit_is_cut_and_the_run_goes_on(api: ApiClient, repos: Any) -> None:
    text = " ".join(["{exception.attributes}"] * 150)
    seed_packs(repos, TENANT_A, policy={})
    seed_playbook(
        repos, TENANT_A, "pb-big", [step("Log it all", "add_comment", {"text": text}, skippable=False)]
    )
    attributes = {f"k{i}": "x" * 580 for i in range(100)}  # ~60 KB
    create(api, "EX-1", attributes=attributes)
    api.call("POST", "/api/exceptions/{exception_id}/playbook/recalculate", {"exception_id": "EX-1"})

    response = act(api, 1)

    from exception_playbooks import bounds

    assert response.status == 200, response.body
    comment = next(e for e in events(api) if e["event_type"] == "CommentAdded")
    assert len(comment["payload"]["text"]) == bounds.MAX_RENDERED_TEXT
    assert comment["payload"]["text"].endswith(bounds.TRUNCATION_MARK)
    assert comment["payload"]["truncated"] == ["text"]
    assert response.body["completed"] is True


# -- tool schemas ----------------------------------------------------------------------------------
TOOL_PACK = "/api/packs/domains/{domain}"


def _tool_pack(parameters: dict[str, Any]) -> dict[str, Any]:
    return {"tools": {"retry": {"description": "Retry", "parameters": parameters, "risk": "low"}}}


@pytest.mark.parametrize(
    "parameters",
    [
        {"type": "object", "properties": {"a": {"$ref": "#anchor"}}},
        {"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}},
        {
            "type": "object",
            "$defs": {"x": {"$ref": "#/$defs/y"}, "y": {"$ref": "#/$defs/x"}},
            "properties": {"a": {"$ref": "#/$defs/x"}},
        },
        {"type": "object", "properties": {"a": {"type": "string", "pattern": "(a)\\1"}}},
        {"type": "object", "patternProperties": {"^(a+)+$": {}}},
        {"type": "object", "properties": {"a": {"$dynamicRef": "#meta"}}},
        {"type": "object", "$id": "https://example.com/tool"},
    ],
)
def test_a_tool_schema_that_could_fail_at_run_time_is_refused_when_written(
    api: ApiClient, aws: Any, parameters: dict[str, Any]
) -> None:
    before = snapshot(aws)
    response = api.call("PUT", TOOL_PACK, {"domain": DOMAIN}, body=_tool_pack(parameters), user=ADMIN)
    assert_error(response, 422, "VALIDATION_ERROR")
    assert all(e["path"].startswith("tools.retry.parameters") for e in response.body["details"]["errors"])
    assert snapshot(aws) == before


@contextmanager
def watchdog(seconds: int) -> Iterator[None]:
    """Fail (rather than hang the suite) if the block runs away; not a timing assertion."""

    def expire(*_: Any) -> None:
        raise AssertionError(f"still running after {seconds} s: the pattern backtracks")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_backtracking_pattern_is_evaluated_in_linear_time(api: ApiClient, repos: Any) -> None:
    parameters = {
        "type": "object",
        "properties": {"account": {"type": "string", "pattern": "^(a+)+$"}},
        "required": ["account"],
    }
    seed_packs(
        repos, TENANT_A, policy={"approved_tools": ["retry"]}, domains={DOMAIN: _tool_pack(parameters)}
    )
    call = step(
        "Retry", "call_tool", {"tool_id": "retry", "payload": {"account": "{exception.attributes.acct}"}}
    )
    seed_playbook(repos, TENANT_A, "pb-tool", [call], match={"domain": DOMAIN})
    assigned(api, attributes={"acct": "a" * 64 + "!"})
    with watchdog(30):  # Python's re needs 2**64 steps for this; RE2 answers at once
        response = act(api, 1)
    assert_error(response, 409, "TOOL_PAYLOAD_INVALID")
    assert "how_to_continue" in response.body["details"]


# -- runs can always end -----------------------------------------------------------------------------
def test_a_blocked_unskippable_step_says_how_to_continue_and_an_admin_override_ends_it(
    api: ApiClient, repos: Any, aws: Any
) -> None:
    seed_packs(
        repos,
        TENANT_A,
        policy={"approved_tools": ["retry"]},
        domains={DOMAIN: _tool_pack({"type": "object"})},
    )
    call = step("Retry", "call_tool", {"tool_id": "retry", "payload": {}}, skippable=False)
    seed_playbook(repos, TENANT_A, "pb-tool", [call], match={"domain": DOMAIN})
    assigned(api)
    seed_packs(repos, TENANT_A, policy={"approved_tools": []})  # the tenant revokes the tool

    blocked = act(api, 1)
    assert_error(blocked, 409, "TOOL_NOT_ALLOWED")
    assert "override" in blocked.body["details"]["how_to_continue"]
    assert_error(act(api, 1, skip=True), 409, "STEP_NOT_SKIPPABLE")
    before = snapshot(aws)
    operator = act(api, 1, skip=True, body={"notes": "tool gone", "override": True})
    assert_error(operator, 403, "FORBIDDEN_ROLE")
    assert snapshot(aws) == before

    done = act(
        api, 1, skip=True, body={"notes": "tool revoked; handled by hand", "override": True}, user=ADMIN
    )

    assert done.status == 200 and done.body["completed"] is True
    skipped = next(e for e in events(api) if e["event_type"] == "PlaybookStepSkipped")
    assert skipped["payload"]["override"] is True and skipped["actor_id"] == "ada"


# -- decisions use the policy in force -------------------------------------------------------------------
@contextmanager
def another_process_writes() -> Iterator[None]:
    """A pack write made by another Lambda: this process's pack cache stays as it was."""
    kept = packs_module.cache().items()
    yield
    packs_module.clear_cache()
    for key, value in kept:
        packs_module.cache().put(key, value, 1)


def test_a_policy_change_applies_to_the_very_next_step(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A)
    assigned(api)
    assert act(api, 1, body={"actor_type": "agent"}, user=AUTOMATION).status == 200  # packs now cached
    with another_process_writes():
        seed_packs(repos, TENANT_A, policy={"human_approval": {"action_types": ["assign_owner"]}})

    response = act(api, 2, body={"actor_type": "agent"}, user=AUTOMATION)

    assert_error(response, 403, "APPROVAL_REQUIRED")


def test_a_revoked_tool_never_runs_again(api: ApiClient, repos: Any) -> None:
    seed_packs(
        repos,
        TENANT_A,
        policy={"approved_tools": ["retry"]},
        domains={DOMAIN: _tool_pack({"type": "object"})},
    )
    call = step("Retry", "call_tool", {"tool_id": "retry", "payload": {}})
    seed_playbook(repos, TENANT_A, "pb-tool", [call, call], match={"domain": DOMAIN})
    assigned(api)
    assert act(api, 1).status == 200
    with another_process_writes():
        seed_packs(repos, TENANT_A, policy={"approved_tools": []})

    assert_error(act(api, 2), 409, "TOOL_NOT_ALLOWED")


# -- caches -------------------------------------------------------------------------------------------
def test_the_pack_cache_is_bounded_whatever_domains_clients_send(
    api: ApiClient, repos: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(packs_module.cache(), "max_entries", 10)
    seed_packs(repos, TENANT_A, policy={})
    for n in range(30):
        create(api, f"EX-{n}", domain=f"Domain-{n}")
        api.call("POST", "/api/exceptions/{exception_id}/playbook/recalculate", {"exception_id": f"EX-{n}"})
    assert len(packs_module.cache()) <= 10


def test_compiled_pack_rules_are_reused_while_the_packs_are(
    api: ApiClient, repos: Any, monkeypatch: Any
) -> None:
    built: list[Any] = []
    original = pack_rules._domain_cache._build
    monkeypatch.setattr(pack_rules._domain_cache, "_build", lambda pack: built.append(pack) or original(pack))
    pack_rules._domain_cache.clear()
    seed_packs(
        repos,
        TENANT_A,
        policy={},
        domains={
            DOMAIN: {"severity_rules": [{"when": {"attributes": {"amount": {"gt": 5}}}, "severity": "high"}]}
        },
    )
    seed_playbook(repos, TENANT_A, "pb-1", [step("Log", "add_comment", {"text": "x"})])
    for n in range(3):
        create(api, f"EX-{n}")
        api.call("POST", "/api/exceptions/{exception_id}/playbook/recalculate", {"exception_id": f"EX-{n}"})
    assert len(built) == 1


def test_a_payload_over_its_bound_is_cut_and_says_so() -> None:
    from exception_playbooks import bounds

    payload = {
        "step_order": 3,
        "items": [{"n": i, "text": "y" * 3000} for i in range(200)],
        "note": "z" * 90000,
    }
    bounded = bounds.bound_payload(payload)
    assert bounds.wire_size(bounded) <= bounds.MAX_EVENT_PAYLOAD_WIRE_BYTES
    assert bounded["step_order"] == 3 and bounded["truncated"]["original_wire_bytes"] > 500_000
    assert json.dumps(bounded)
