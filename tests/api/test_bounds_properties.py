"""Property tests of the bounds (issue 13): large, deep, oddly encoded and boundary inputs for every
write endpoint and every template context. For each request: no 5xx, the error shape on refusal,
nothing written on refusal; every accepted run can be finished by complete or skip.

Deterministic and short by default; BOUNDS_EXAMPLES=200 runs a longer randomised search.
``COUNTS`` holds the figures (examples, 5xx) printed at the end of the module (``-s``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .conftest import (
    TENANT_A,
    ApiClient,
    ApiResponse,
    assert_error,
    seed_packs,
    seed_playbook,
    snapshot,
    step,
)
from .scenario import (
    COMMENTS,
    EXCEPTION,
    EXCEPTIONS,
    RECALCULATE,
    SIMULATE,
    act,
    create,
    exception_body,
    search_settings,
)

PROPERTY = search_settings("BOUNDS_EXAMPLES", 5)
ADMIN = (TENANT_A, "ada", ("admin",))
COUNTS: Counter[str] = Counter()

# -- strategies: sizes at and around every bound, odd characters, deep nesting --------------------
LENGTHS = [0, 1, 127, 128, 129, 255, 256, 257, 499, 500, 501, 3999, 4000, 4001, 16_384, 65_536, 70_000]
CHARS = ["a", "é", "🚀", "\u0000", "\n", '"', "\\", "\u202e", "{exception.attributes}", "\ud800"]
texts = st.builds(
    lambda n, c: (c * n)[: max(n, 0)] if len(c) == 1 else c * max(n // len(c), 0),
    st.sampled_from(LENGTHS),
    st.sampled_from(CHARS),
)
numbers = st.sampled_from([0, -0.0, 1, 2**63, 10**37, 10**38, 10**126, 1e-130, 1e-131, 1.5e300, -(10**40)])


def nested(depth: int, leaf: Any) -> Any:
    value: Any = leaf
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


deep = st.builds(nested, st.sampled_from([1, 29, 30, 31, 63, 64, 65, 300]), st.one_of(texts, numbers))
wide = st.builds(
    lambda n, size: {f"k{i}": "x" * size for i in range(n)},
    st.sampled_from([1, 60, 200]),
    st.sampled_from([10, 320, 1100]),
)
values = st.one_of(texts, numbers, deep, wide, st.none(), st.booleans())
dates = st.sampled_from(
    [
        "1970-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+05:00",
        "2026-02-30T00:00:00Z",
        "2026-01-01T00:00:00",
        1767225600,
        "2026-01-01T00:00:00+23:59",
    ]
)


def raw(body: Any) -> str:
    """JSON as a client might send it: ensure_ascii keeps a lone surrogate as an escape sequence."""
    return json.dumps(body)


def checked(response: ApiResponse, before: dict[str, Any], after: dict[str, Any]) -> None:
    COUNTS["requests"] += 1
    if response.status >= 500:
        COUNTS["5xx"] += 1
    assert response.status < 500, (response.status, response.body)
    if response.status >= 400:
        assert_error(response, response.status)
        assert after == before, "a refused request wrote something"


@pytest.fixture
def world(api: ApiClient, repos: Any) -> ApiClient:
    seed_packs(
        repos,
        TENANT_A,
        policy={"approved_tools": ["retry"]},
        domains={"Finance": {"tools": {"retry": {"parameters": {"type": "object"}}}}},
    )
    seed_playbook(repos, TENANT_A, "pb-1", [step("Log", "add_comment", {"text": "{exception.summary}"})])
    create(api, "EX-1")
    return api


def _call(
    world: ApiClient,
    aws: Any,
    method: str,
    resource: str,
    params: dict[str, str] | None,
    body: Any,
    user: Any = None,
) -> ApiResponse:
    before = snapshot(aws)
    response = world.call(method, resource, params, raw_body=raw(body), user=user)
    checked(response, before, snapshot(aws) if response.status >= 400 else before)
    return response


# -- every write endpoint ---------------------------------------------------------------------------
FIELDS = [
    "summary",
    "source_system",
    "exception_type",
    "domain",
    "exception_id",
    "attributes",
    "raw_payload",
    "policy_tags",
    "sla_deadline",
]


@PROPERTY
@given(field=st.sampled_from(FIELDS), value=values, date=dates)
def test_create_and_patch(world: ApiClient, aws: Any, field: str, value: Any, date: Any) -> None:
    COUNTS["examples"] += 1
    body = {**exception_body("EX-P"), "sla_deadline": date, field: value}
    _call(world, aws, "POST", EXCEPTIONS, None, body)
    _call(world, aws, "PATCH", EXCEPTION, {"exception_id": "EX-1"}, {"summary": value, "sla_deadline": date})


@PROPERTY
@given(text=values, notes=values)
def test_comments_simulate_and_steps(world: ApiClient, aws: Any, text: Any, notes: Any) -> None:
    COUNTS["examples"] += 1
    _call(world, aws, "POST", COMMENTS, {"exception_id": "EX-1"}, {"text": text})
    _call(
        world,
        aws,
        "POST",
        SIMULATE,
        None,
        {"exception": {"domain": "Finance", "exception_type": "X", "attributes": text}},
    )
    for path in ("complete", "skip"):
        resource = f"/api/exceptions/{{exception_id}}/playbook/steps/{{step_order}}/{path}"
        _call(
            world,
            aws,
            "POST",
            resource,
            {"exception_id": "EX-1", "step_order": "1"},
            {"notes": notes, "actor_id": text},
        )


@PROPERTY
@given(value=values, schema_value=values)
def test_packs_and_playbooks(world: ApiClient, aws: Any, value: Any, schema_value: Any) -> None:
    COUNTS["examples"] += 1
    _call(world, aws, "PUT", "/api/packs/policy", None, {"fields": {"f": value}}, user=ADMIN)
    tool = {
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "string", "pattern": schema_value, "const": value}},
        }
    }
    _call(
        world,
        aws,
        "PUT",
        "/api/packs/domains/{domain}",
        {"domain": "Finance"},
        {"tools": {"retry": tool}},
        user=ADMIN,
    )
    body = {
        "name": "P",
        "conditions": {"match": {"domain": "Finance"}, "priority": 0},
        "steps": [{"name": "S", "action_type": "add_comment", "params": {"text": value}}],
    }
    _call(world, aws, "POST", "/api/playbooks", None, body, user=ADMIN)


# -- every template context, and runs that always end ------------------------------------------------
PLACEHOLDERS = [
    "{exception.attributes}",
    "{exception.attributes.big}",
    "{exception.raw_payload}",
    "{exception.summary}",
    "{domain.note}",
    "{policy.note}",
    "{step.name}",
    "{exception.attributes.none}",
]
templates = st.lists(st.sampled_from(PLACEHOLDERS), min_size=1, max_size=60).map(" ".join)
ACTIONS = ["add_comment", "notify", "assign_owner", "call_tool"]


def _params(action: str, template: str) -> dict[str, Any]:
    if action == "add_comment":
        return {"text": template[:4000]}
    if action == "notify":
        return {
            "channel": "email",
            "recipient": template[:256],
            "subject": template[:500],
            "message": template[:4000],
        }
    if action == "assign_owner":
        return {"queue": template[:256]}
    return {"tool_id": "retry", "payload": {"a": template[:4000], "b": "{exception.attributes}"}}


def _finish(world: ApiClient, order: int) -> Iterator[ApiResponse]:
    """Complete the step; if it cannot run, skip it (an admin override when it is unskippable)."""
    yield act(world, order)
    yield act(world, order, skip=True, body={"notes": "could not run"})
    yield act(world, order, skip=True, body={"notes": "could not run", "override": True}, user=ADMIN)


@PROPERTY
@given(
    actions=st.lists(st.tuples(st.sampled_from(ACTIONS), templates, st.booleans()), min_size=1, max_size=4),
    attributes=st.one_of(wide, st.builds(lambda d: {"big": d}, deep)),
    field_value=values,
)
def test_every_accepted_run_can_be_finished(
    world: ApiClient,
    repos: Any,
    aws: Any,
    actions: list[tuple[str, str, bool]],
    attributes: dict[str, Any],
    field_value: Any,
) -> None:
    COUNTS["runs"] += 1
    seed_packs(
        repos,
        TENANT_A,
        policy={"approved_tools": ["retry"], "fields": {"note": "n" * 3000}},
        domains={
            "Finance": {
                "tools": {"retry": {"parameters": {"type": "object"}}},
                "fields": {"note": "d" * 3000},
            }
        },
    )
    steps = [
        step(f"S{i}", action, _params(action, template), skippable=flag)
        for i, (action, template, flag) in enumerate(actions)
    ]
    body = {
        "name": "Run",
        "conditions": {"match": {"domain": "Finance"}, "priority": 10_000 + COUNTS["runs"]},
        "steps": steps,
    }
    written = world.call("POST", "/api/playbooks", body=body, user=ADMIN)
    checked(written, {}, {})
    if written.status != 201:
        return
    exception_id = f"EX-R{COUNTS['runs']}"
    created = world.call(
        "POST", EXCEPTIONS, body=exception_body(exception_id, attributes=attributes, raw_payload=attributes)
    )
    checked(created, {}, {})
    if created.status != 201:
        return
    recalculated = world.call("POST", RECALCULATE, {"exception_id": exception_id})
    assert (
        recalculated.status == 200
        and recalculated.body["playbook"]["playbook_id"] == written.body["playbook_id"]
    )
    for order in range(1, len(steps) + 1):
        for response in _finish_at(world, exception_id, order):
            checked(response, {}, {})
            if response.status == 200:
                break
        else:
            pytest.fail(f"step {order} could be neither completed nor skipped")
    status = world.call("GET", "/api/exceptions/{exception_id}/playbook", {"exception_id": exception_id})
    assert status.body["completed"] is True
    COUNTS["runs_finished"] += 1


def _finish_at(world: ApiClient, exception_id: str, order: int) -> Iterator[ApiResponse]:
    yield act(world, order, exception_id)
    yield act(world, order, exception_id, skip=True, body={"notes": "could not run"})
    yield act(
        world, order, exception_id, skip=True, body={"notes": "could not run", "override": True}, user=ADMIN
    )


def test_report_the_figures() -> None:
    """Printed for the issue's note (run with -s); the assertion is the one that matters."""
    print(f"\nbounds properties: {dict(COUNTS)}")
    assert COUNTS["5xx"] == 0
