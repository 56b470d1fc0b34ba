"""Bounded fuzzing of authoring bodies: never a 5xx; a 4xx always has the error shape; a 2xx is
a well-formed document that reads back the same.

Bodies are built from the vocabulary of the API (known keys, action types, placeholders) mixed
with junk, so most examples get deep into validation rather than failing on the first key.
Deterministic (``derandomize``) and without an example database, to stay reproducible in CI.
"""

from __future__ import annotations

import copy
from typing import Any

from exception_playbooks.repository.bundle import Repositories
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import ApiClient, assert_error

from .support import (
    ADMIN,
    DOMAIN,
    VIEWER,
    check_domain_pack,
    check_playbook,
    check_policy,
    playbook_body,
    simple_body,
)

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PACK_FUZZ = settings(FUZZ, max_examples=50)

WORDS = [
    "name", "description", "conditions", "match", "priority", "steps", "action_type", "params",
    "requires_approval", "skippable", "domain", "exception_type", "severity", "severity_in",
    "sla_minutes_remaining_lt", "policy_tags", "attributes", "any_of", "eq", "gt", "in", "exists", "glob",
    "channel", "recipient", "group", "subject", "message", "user_id", "queue", "status", "text", "tool_id",
    "payload", "trade_id", "ssi_id", "type", "properties", "required", "$ref", "", "x.y",
]  # fmt: skip
TEXTS = st.one_of(
    st.sampled_from(
        [
            "email", "sms", "high", "critical", "escalated", "resolved", "open", DOMAIN, "SETTLEMENT_*",
            "get_settlement", "retry_settlement", "{exception.attributes.trade_id}", "{exception.nope}",
            "{policy.escalation_queue}", "{step.name}", "{evil.x}", "{domain.custodian}", "#/$defs/x",
            "http://example.com/schema", "object", "string", "",
        ]
    ),
    st.text(max_size=12),
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXTS,
)
KEYS = st.one_of(st.sampled_from(WORDS), st.text(max_size=8))
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=10,
)
ACTIONS = st.sampled_from(["notify", "assign_owner", "set_status", "add_comment", "call_tool", "reboot"])
PARAMS = st.dictionaries(KEYS, st.one_of(TEXTS, JSON), max_size=5)
STEP = st.fixed_dictionaries(
    {"name": st.one_of(st.sampled_from(["Step", "  ", ""]), TEXTS), "action_type": st.one_of(ACTIONS, JSON)},
    optional={
        "params": st.one_of(PARAMS, JSON),
        "requires_approval": st.one_of(st.booleans(), SCALARS),
        "skippable": st.one_of(st.booleans(), SCALARS),
        "extra": JSON,
    },
)
MATCH = st.dictionaries(KEYS, JSON, max_size=4)
CONDITIONS = st.one_of(
    st.fixed_dictionaries({"match": MATCH}, optional={"priority": st.one_of(st.integers(), SCALARS)}),
    MATCH,  # the legacy form
    JSON,
)
PLAYBOOK = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.one_of(st.just("Fuzzed playbook"), TEXTS, JSON),
            "description": st.one_of(TEXTS, JSON),
            "conditions": CONDITIONS,
            "steps": st.one_of(st.lists(st.one_of(STEP, JSON), max_size=4), JSON),
            "junk": JSON,
        },
    ),
    JSON,
)


def _slots(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in a document, to mutate one place of it."""
    found: list[tuple[Any, Any]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        items = (
            current.items()
            if isinstance(current, dict)
            else enumerate(current)
            if isinstance(current, list)
            else []
        )
        for key, child in items:
            found.append((current, key))
            stack.append(child)
    return found


@st.composite
def mutated_playbooks(draw: st.DrawFn) -> Any:
    """A valid body (the kind an author sends) with zero to three places dropped, replaced or added."""
    body = copy.deepcopy(
        draw(st.sampled_from([playbook_body(), simple_body(), simple_body(conditions={"severity": "high"})]))
    )
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        container, key = draw(st.sampled_from(_slots(body)))
        operation = draw(st.sampled_from(["drop", "replace", "add"]))
        if operation == "drop":
            del container[key]
        elif operation == "replace":
            container[key] = draw(st.one_of(TEXTS, JSON))
        elif isinstance(container, dict):
            container[draw(KEYS)] = draw(JSON)
        else:
            container.append(draw(st.one_of(STEP, JSON)))
    return body


WHEN_RULE = st.fixed_dictionaries({"when": MATCH}, optional={"tags": JSON, "severity": TEXTS, "x": JSON})
SCHEMA = st.dictionaries(
    st.sampled_from(["type", "properties", "required", "$ref", "items", "x"]), JSON, max_size=3
)
POLICY = st.fixed_dictionaries(
    {},
    optional={
        "approved_tools": st.lists(TEXTS, max_size=3),
        "blocked_action_types": st.lists(ACTIONS, max_size=2),
        "human_approval": st.one_of(st.fixed_dictionaries({"action_types": st.lists(ACTIONS)}), JSON),
        "severity_overrides": st.dictionaries(TEXTS, TEXTS, max_size=2),
        "tag_rules": st.lists(st.one_of(WHEN_RULE, JSON), max_size=2),
        "auto_resolve_on_completion": SCALARS,
        "fields": JSON,
        "version": SCALARS,
    },
)
DOMAIN_PACK = st.fixed_dictionaries(
    {},
    optional={
        "exception_types": st.dictionaries(TEXTS, JSON, max_size=2),
        "severity_rules": st.lists(st.one_of(WHEN_RULE, JSON), max_size=2),
        "tools": st.dictionaries(
            TEXTS, st.fixed_dictionaries({}, optional={"parameters": SCHEMA, "risk": TEXTS})
        ),
        "fields": JSON,
        "domain": TEXTS,
    },
)


def check_answer(response: Any) -> None:
    assert response.status < 500, response.body
    if response.status >= 400:
        assert_error(response, response.status)


@FUZZ
@given(body=st.one_of(mutated_playbooks(), PLAYBOOK))
def test_fuzzed_playbook_bodies(api: ApiClient, tenant: Repositories, body: Any) -> None:
    response = api.call("POST", "/api/playbooks", body=body, user=ADMIN)
    check_answer(response)
    assert response.status in (201, 422), response.body
    if response.status == 201:
        created = check_playbook(response)
        got = api.call(
            "GET", "/api/playbooks/{playbook_id}", {"playbook_id": created["playbook_id"]}, user=VIEWER
        )
        assert {k: v for k, v in got.body.items() if k not in ("latest_version", "versions")} == created
        put = api.call(
            "PUT",
            "/api/playbooks/{playbook_id}",
            {"playbook_id": created["playbook_id"]},
            body=body,
            user=ADMIN,
        )
        assert put.status == 200 and put.body["version"] == 2


@PACK_FUZZ
@given(body=POLICY)
def test_fuzzed_policy_packs(api: ApiClient, tenant: Repositories, body: Any) -> None:
    response = api.call("PUT", "/api/packs/policy", body=body, user=ADMIN)
    check_answer(response)
    assert response.status in (200, 409, 422), response.body
    if response.status == 200:
        check_policy(response)


@PACK_FUZZ
@given(body=DOMAIN_PACK)
def test_fuzzed_domain_packs(api: ApiClient, tenant: Repositories, body: Any) -> None:
    response = api.call("PUT", "/api/packs/domains/{domain}", {"domain": "Fuzz"}, body=body, user=ADMIN)
    check_answer(response)
    assert response.status in (200, 409, 422), response.body
    if response.status == 200:
        check_domain_pack(response)
