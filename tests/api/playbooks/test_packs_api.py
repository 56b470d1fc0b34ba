"""Tenant policy pack and domain packs: defaults, versioning, round trips, validation."""

from __future__ import annotations

import copy
from typing import Any

from exception_playbooks.models.packs import PolicyPackInput
from exception_playbooks.repository.bundle import Repositories

from tests.api.conftest import TENANT_A, ApiClient, assert_error, snapshot

from .support import (
    ADMIN,
    DOMAIN,
    DOMAIN_PACK,
    POLICY_PACK,
    VIEWER,
    check_domain_pack,
    check_policy,
    messages,
)

POLICY = "/api/packs/policy"
DOMAIN_PATH = "/api/packs/domains/{domain}"


def put_policy(api: ApiClient, body: Any) -> Any:
    return api.call("PUT", POLICY, body=body, user=ADMIN)


def put_domain(api: ApiClient, body: Any, domain: str = DOMAIN) -> Any:
    return api.call("PUT", DOMAIN_PATH, {"domain": domain}, body=body, user=ADMIN)


# --- policy -----------------------------------------------------------------------------------


def test_policy_before_any_put_is_the_defaults_with_version_0(api: ApiClient, repos: Repositories) -> None:
    got = api.call("GET", POLICY, user=VIEWER)
    assert got.status == 200
    assert check_policy(got) == {
        **PolicyPackInput().model_dump(mode="json"),
        "version": 0,
        "updated_at": None,
    }


def test_each_policy_put_is_a_new_version_replacing_the_whole_document(
    api: ApiClient, repos: Repositories
) -> None:
    first = put_policy(api, POLICY_PACK)
    assert first.status == 200
    v1 = check_policy(first)
    assert v1["version"] == 1 and v1["updated_at"]
    assert {k: v1[k] for k in POLICY_PACK} == POLICY_PACK

    second = check_policy(put_policy(api, {"approved_tools": ["get_settlement"]}))

    assert second["version"] == 2
    assert second["approved_tools"] == ["get_settlement"]
    assert second["tag_rules"] == [] and second["auto_resolve_on_completion"] is False  # replaced, not merged
    assert check_policy(api.call("GET", POLICY, user=VIEWER)) == second
    # Matching sees the new version (the write refreshed this Lambda's cache).
    assert repos.packs.policy(TENANT_A).approved_tools == ["get_settlement"]


def test_a_policy_read_with_get_can_be_put_back(api: ApiClient, repos: Repositories) -> None:
    put_policy(api, POLICY_PACK)
    document = api.call("GET", POLICY, user=VIEWER).body
    document["auto_resolve_on_completion"] = False

    again = put_policy(api, document)

    assert (
        again.status == 200
        and again.body["version"] == 2
        and again.body["auto_resolve_on_completion"] is False
    )


def test_a_stale_version_is_409_and_writes_nothing(api: ApiClient, repos: Repositories, aws: Any) -> None:
    put_policy(api, POLICY_PACK)
    stale = api.call("GET", POLICY, user=VIEWER).body
    put_policy(api, {**POLICY_PACK, "auto_resolve_on_completion": False})  # someone else saved v2
    before = snapshot(aws)

    response = put_policy(api, stale)

    assert_error(response, 409, "VERSION_CONFLICT")
    assert response.body["details"] == {"expected_version": 1, "current_version": 2}
    assert snapshot(aws) == before


def test_version_0_guards_the_first_write(api: ApiClient, repos: Repositories) -> None:
    assert put_policy(api, {**POLICY_PACK, "version": 0}).status == 200
    assert_error(put_policy(api, {**POLICY_PACK, "version": 0}), 409, "VERSION_CONFLICT")


def test_policy_validation_lists_every_problem(api: ApiClient, repos: Repositories, aws: Any) -> None:
    body = {
        "approved_tools": ["get_settlement", "bad tool", 7],
        "blocked_action_types": ["launch_missiles"],
        "human_approval": {"action_types": ["notify"], "severities": ["urgent"], "roles": []},
        "severity_overrides": {"REG_*": "critical", "CASH_BREAK": "meh"},
        "tag_rules": [
            {"when": {"attributes": {"counterparty_tier": {"eq": 1, "approx": 2}}}, "tags": ["t1"]},
            {"when": {"any_of": []}, "tags": []},
            {"tags": ["x"]},
        ],
        "auto_resolve_on_completion": "sometimes",
        "fields": {"ok_name": 1, "bad name": 2},
        "version": "one",
        "colour": "red",
    }
    before = snapshot(aws)

    response = put_policy(api, body)

    assert_error(response, 422)
    assert snapshot(aws) == before
    assert set(messages(response)) == {
        "approved_tools[1]",
        "approved_tools[2]",
        "auto_resolve_on_completion",
        "blocked_action_types[0]",
        "colour",
        "fields.bad name",
        "human_approval.roles",
        "human_approval.severities[0]",
        "severity_overrides.CASH_BREAK",
        "severity_overrides.REG_*",
        "tag_rules[0].when.attributes.counterparty_tier.approx",
        "tag_rules[1].tags",
        "tag_rules[1].when.any_of",
        "tag_rules[2].when",
        "version",
    }


def test_a_pack_body_that_is_not_an_object_is_422(api: ApiClient, repos: Repositories) -> None:
    for raw in ("[]", "{oops", "null", '"x"', ""):
        for response in (
            api.call("PUT", POLICY, raw_body=raw, user=ADMIN),
            api.call("PUT", DOMAIN_PATH, {"domain": DOMAIN}, raw_body=raw, user=ADMIN),
        ):
            assert_error(response, 422)
            assert [e["path"] for e in response.body["details"]["errors"]] == ["body"], raw


# --- domain packs -----------------------------------------------------------------------------


def test_a_domain_pack_is_404_before_its_first_put(api: ApiClient, repos: Repositories) -> None:
    assert_error(api.call("GET", DOMAIN_PATH, {"domain": DOMAIN}, user=VIEWER), 404, "DOMAIN_PACK_NOT_FOUND")


def test_domain_packs_are_versioned_and_case_insensitive(api: ApiClient, repos: Repositories) -> None:
    first = put_domain(api, DOMAIN_PACK)
    v1 = check_domain_pack(first)
    assert first.status == 200 and v1["version"] == 1 and v1["domain"] == DOMAIN
    assert v1["tools"]["unapproved_tool"] == {
        "description": "Defined but not approved",
        "parameters": {"type": "object"},
        "risk": "low",
    }

    changed = copy.deepcopy(DOMAIN_PACK)
    del changed["tools"]["unapproved_tool"]
    v2 = check_domain_pack(put_domain(api, changed, domain=DOMAIN.lower()))

    assert v2["version"] == 2 and v2["domain"] == DOMAIN  # keeps the first spelling
    assert set(v2["tools"]) == {"get_settlement", "retry_settlement"}
    got = api.call("GET", DOMAIN_PATH, {"domain": DOMAIN.upper()}, user=VIEWER)
    assert check_domain_pack(got) == v2
    assert_error(api.call("GET", DOMAIN_PATH, {"domain": "Payments"}, user=VIEWER), 404)


def test_a_domain_pack_read_with_get_can_be_put_back(api: ApiClient, repos: Repositories) -> None:
    put_domain(api, DOMAIN_PACK)
    document = api.call("GET", DOMAIN_PATH, {"domain": DOMAIN}, user=VIEWER).body
    assert put_domain(api, document).body["version"] == 2
    stale = {**document, "version": 1}
    assert_error(put_domain(api, stale), 409, "VERSION_CONFLICT")
    wrong = {**document, "version": 2, "domain": "Payments"}
    response = put_domain(api, wrong)
    assert_error(response, 422)
    assert list(messages(response)) == ["domain"]


def test_domain_pack_validation_lists_every_problem(api: ApiClient, repos: Repositories, aws: Any) -> None:
    body = {
        "exception_types": {"SETTLEMENT_FAIL": {"default_severity": "huge"}, "BAD*TYPE": {}, " padded": {}},
        "severity_rules": [
            {"when": {"exception_type": "X", "severity_in": "high"}, "severity": "critical"},
            {"when": {}, "severity": "catastrophic"},
        ],
        "tools": {
            "good": {
                "parameters": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}
            },
            "bad schema": {
                "parameters": {"type": "object", "required": "a", "properties": {"a": {"type": "strin"}}}
            },
            "not_object": {"parameters": {"type": "array"}},
            "remote": {
                "parameters": {"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}}
            },
            "dangling": {"parameters": {"$ref": "#/$defs/missing"}},
            "risky": {"risk": "extreme", "colour": 1},
        },
        "fields": {"desk": "London", "no.dots": 1},
    }
    before = snapshot(aws)

    response = put_domain(api, body)

    assert_error(response, 422)
    assert snapshot(aws) == before
    found = messages(response)
    assert set(found) == {
        "exception_types. padded",
        "exception_types.BAD*TYPE",
        "exception_types.SETTLEMENT_FAIL.default_severity",
        "fields.no.dots",
        "severity_rules[0].when.severity_in",
        "severity_rules[1].severity",
        "tools.bad schema",
        "tools.bad schema.parameters.properties.a.type",
        "tools.bad schema.parameters.required",
        "tools.dangling.parameters.$ref",
        "tools.not_object.parameters.type",
        "tools.remote.parameters.properties.a.$ref",
        "tools.risky.colour",
        "tools.risky.risk",
    }
    assert all("JSON Schema" in m for m in found["tools.bad schema.parameters.required"])


def test_a_domain_in_the_path_must_be_a_domain_name(api: ApiClient, repos: Repositories) -> None:
    response = put_domain(api, DOMAIN_PACK, domain="Capital Markets")
    assert_error(response, 422)
    assert list(messages(response)) == ["domain"]


def test_a_pack_too_deep_or_with_unstorable_numbers_is_422(api: ApiClient, repos: Repositories) -> None:
    deep: Any = 1
    for _ in range(35):
        deep = [deep]
    response = put_domain(api, {"fields": {"deep": deep}})
    assert_error(response, 422)
    assert list(messages(response)) == ["fields"]
    response = put_policy(api, {"fields": {"big": 10**40}})
    assert list(messages(response)) == ["fields"]
