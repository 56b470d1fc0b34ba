"""The demo seed files: valid inputs, every condition key and action type, consistent stories.

Whether the agents really pick the expected playbooks is checked when the seed runs against the
handlers (``expect_playbook``; see test_local_stack.py); this checks everything knowable statically.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from exception_playbooks.models.enums import ActionType, Role
from exception_playbooks.models.exception import ExceptionCreate, ExceptionPatch
from exception_playbooks.models.packs import DomainPackInput, PolicyPackInput
from exception_playbooks.models.playbook import PlaybookInput

from local.seed import TenantSeed, load_tenants

CONDITION_KEYS = {
    "domain",
    "exception_type",
    "severity",
    "severity_in",
    "sla_minutes_remaining_lt",
    "policy_tags",
    "attributes",
    "any_of",
}
ATTRIBUTE_OPERATORS = {"eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "glob"}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\.([A-Za-z0-9_.]+)\}")
TENANTS = load_tenants()


def _match_objects(match: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield match
    for nested in match.get("any_of", []):
        yield from _match_objects(nested)


def _playbook_versions(tenant: TenantSeed) -> Iterator[tuple[str, dict[str, Any]]]:
    for playbook in tenant.data["playbooks"]:
        yield playbook["key"], playbook["definition"]
        if "revision_after_exceptions" in playbook:
            yield playbook["key"], playbook["revision_after_exceptions"]


def _placeholders(value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield from PLACEHOLDER.findall(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _placeholders(item)
    elif isinstance(value, list):
        for item in value:
            yield from _placeholders(item)


def test_at_least_two_tenants_in_different_domains() -> None:
    assert len(TENANTS) >= 2
    domains = [set(t.domains) for t in TENANTS]
    assert all(domains) and not set.intersection(*domains)
    assert len({t.tenant_id for t in TENANTS}) == len(TENANTS)


@pytest.mark.parametrize("tenant", TENANTS, ids=lambda t: t.tenant_id)
def test_documents_validate_against_the_domain_models(tenant: TenantSeed) -> None:
    PolicyPackInput.model_validate(tenant.data["policy_pack"])
    for pack in tenant.data["domain_packs"].values():
        DomainPackInput.model_validate(pack)
    for _, definition in _playbook_versions(tenant):
        PlaybookInput.model_validate(definition)
    for spec in tenant.data["exceptions"]:
        ExceptionCreate.model_validate(spec["body"])
        for op in spec.get("script", []):
            if op["op"] == "patch":
                ExceptionPatch.model_validate(op["body"])


@pytest.mark.parametrize("tenant", TENANTS, ids=lambda t: t.tenant_id)
def test_playbooks_use_every_condition_key_operator_and_action(tenant: TenantSeed) -> None:
    keys: set[str] = set()
    operators: set[str] = set()
    actions: set[str] = set()
    glob_types = []
    for _, definition in _playbook_versions(tenant):
        for match in _match_objects(definition["conditions"]["match"]):
            keys |= set(match)
            for checks in match.get("attributes", {}).values():
                operators |= set(checks)
            if "*" in match.get("exception_type", "") or "?" in match.get("exception_type", ""):
                glob_types.append(match["exception_type"])
        actions |= {step["action_type"] for step in definition["steps"]}
    assert keys == CONDITION_KEYS
    assert glob_types, "an exception_type glob"
    assert len(operators) >= 5 and operators <= ATTRIBUTE_OPERATORS
    assert actions == {a.value for a in ActionType}


def test_every_attribute_operator_is_shown_somewhere() -> None:
    operators: set[str] = set()
    for tenant in TENANTS:
        rules = [r["when"] for r in tenant.data["policy_pack"]["tag_rules"]]
        rules += [r["when"] for p in tenant.data["domain_packs"].values() for r in p["severity_rules"]]
        rules += [d["conditions"]["match"] for _, d in _playbook_versions(tenant)]
        for rule in rules:
            for match in _match_objects(rule):
                for checks in match.get("attributes", {}).values():
                    operators |= set(checks)
    assert operators == ATTRIBUTE_OPERATORS


@pytest.mark.parametrize("tenant", TENANTS, ids=lambda t: t.tenant_id)
def test_the_required_kinds_of_playbook_exist(tenant: TenantSeed) -> None:
    definitions = [d for _, d in _playbook_versions(tenant)]
    priorities = [d["conditions"]["priority"] for d in definitions]
    assert len(tenant.data["playbooks"]) >= 4
    catch_alls = [d for d in definitions if set(d["conditions"]["match"]) <= {"domain"}]
    assert catch_alls and all(d["conditions"]["priority"] == min(priorities) for d in catch_alls)
    assert any(
        "critical"
        in str(d["conditions"]["match"].get("severity", ""))
        + str(d["conditions"]["match"].get("severity_in", []))
        for d in definitions
    ), "a severity-escalation playbook"
    assert any("sla_minutes_remaining_lt" in d["conditions"]["match"] for d in definitions), (
        "an SLA-urgent playbook"
    )
    assert any(s.get("requires_approval") for d in definitions for s in d["steps"]), (
        "a human-approval playbook"
    )


@pytest.mark.parametrize("tenant", TENANTS, ids=lambda t: t.tenant_id)
def test_users_cover_every_role_and_scripts_use_allowed_roles(tenant: TenantSeed) -> None:
    assert {r for u in tenant.users for r in u.roles} == {r.value for r in Role}
    for spec in tenant.data["exceptions"]:
        creator = tenant.user(spec["by"])
        assert {"operator", "admin", "automation"} & set(creator.roles), spec["by"]
        for op in spec.get("script", []):
            actor = tenant.user(op["by"])
            if op.get("actor_type", "human") == "human":
                assert {"operator", "admin"} & set(actor.roles), op
            else:
                assert "automation" in actor.roles, op
    assert tenant.first_with("admin")


@pytest.mark.parametrize("tenant", TENANTS, ids=lambda t: t.tenant_id)
def test_a_dozen_exceptions_in_varied_states(tenant: TenantSeed) -> None:
    specs = tenant.data["exceptions"]
    assert len(specs) >= 12
    assert len({s["body"]["exception_id"] for s in specs}) == len(specs)
    steps = {k: len(d["steps"]) for k, d in ((p["key"], p["definition"]) for p in tenant.data["playbooks"])}
    acted = [
        (s.get("expect_playbook"), sum(op["op"] in ("complete", "skip") for op in s.get("script", [])))
        for s in specs
    ]
    assert any(key is None for key, _ in acted), "no match"
    assert any(key and n == 0 for key, n in acted), "fresh"
    assert any(key and 0 < n < steps[key] for key, n in acted), "mid-playbook"
    assert any(key and n == steps[key] for key, n in acted), "completed"
    assert any(op["op"] == "skip" for s in specs for op in s.get("script", [])), "a skipped step"
    assert any(op["op"] == "patch" for s in specs for op in s.get("script", [])), "a re-match after a change"
    known = {p["key"] for p in tenant.data["playbooks"]}
    for spec in specs:
        assert spec.get("expect_playbook") in known | {None}
        for op in spec.get("script", []):
            assert op.get("expect_playbook", "x") in known | {"x"}


@pytest.mark.parametrize("tenant", TENANTS, ids=lambda t: t.tenant_id)
def test_templates_and_tools_resolve(tenant: TenantSeed) -> None:
    policy = tenant.data["policy_pack"]
    for key, definition in _playbook_versions(tenant):
        domain = tenant.data["domain_packs"][definition["conditions"]["match"]["domain"]]
        for step in definition["steps"]:
            for context, path in _placeholders(step["params"]):
                assert context in {"exception", "domain", "policy", "step"}, (key, context)
                if context == "domain":
                    assert path in domain["fields"], (key, path)
                if context == "policy":
                    assert path in policy["fields"], (key, path)
            if step["action_type"] == "call_tool":
                tool_id = step["params"]["tool_id"]
                assert tool_id in domain["tools"] and tool_id in policy["approved_tools"], (key, tool_id)
                required = domain["tools"][tool_id]["parameters"].get("required", [])
                assert set(required) <= set(step["params"]["payload"]), (key, tool_id)


@pytest.mark.parametrize("tenant", TENANTS, ids=lambda t: t.tenant_id)
def test_exceptions_carry_what_their_playbooks_render(tenant: TenantSeed) -> None:
    """A missing attribute would refuse a call_tool/assign_owner step (409) and blank out a message."""
    playbooks = dict(_playbook_versions(tenant))  # the revision wins where there is one
    firsts = {p["key"]: p["definition"] for p in tenant.data["playbooks"]}
    for spec in tenant.data["exceptions"]:
        keys = {spec.get("expect_playbook")} | {
            op["expect_playbook"] for op in spec.get("script", []) if "expect_playbook" in op
        }
        for key in keys - {None}:
            for definition in (firsts[key], playbooks[key]):
                for context, path in _placeholders([s["params"] for s in definition["steps"]]):
                    if context != "exception":
                        continue
                    if path.startswith("attributes."):
                        assert path.removeprefix("attributes.") in spec["body"]["attributes"], (
                            spec["body"]["exception_id"],
                            path,
                        )
                    elif path == "sla_deadline":
                        assert "sla_minutes_from_now" in spec or any(
                            "sla_minutes_from_now" in op for op in spec.get("script", [])
                        )
