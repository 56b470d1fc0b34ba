"""Property test: whatever the input, the exceptions/status/match/execute endpoints never answer 5xx,
and every 4xx is in the API error shape. Deterministic (derandomized), bounded (~170 examples)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .conftest import TENANT_A, ApiClient, ApiResponse
from .scenario import (
    COMMENTS,
    COMPLETE,
    EVENTS,
    EXCEPTION,
    EXCEPTIONS,
    RECALCULATE,
    SIMULATE,
    SKIP,
    STATUS,
    assigned,
    exception_body,
    search_settings,
    seed_standard,
)

# API_FUZZ_EXAMPLES=500 runs a longer, randomised search (the default run is fixed and short).
FUZZ = search_settings("API_FUZZ_EXAMPLES", 20)
EXPECTED_STATUSES = {200, 201, 401, 403, 404, 409, 413, 422}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**45), max_value=10**45)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", " ", "high", "open", "EX-1", "2026-11-25T18:00:00Z", "2026-11-25", "\u0000", "🚀"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
raw_texts = st.sampled_from(
    [
        "",
        "{",
        "[]",
        "null",
        "1e999",
        '{"a": NaN}',
        '{"text": "\\ud800"}',
        "[" * 3000,
        '{"notes": "' + "n" * 5000 + '"}',
        '{"exception": {"domain": "Finance", "exception_type": "X", "attributes": {"n": 1e-200}}}',
        '{"domain": "Finance", "exception_type": "X", "attributes": {"n": ' + "9" * 4400 + "}}",
    ]
) | st.text(max_size=40)
path_ids = st.text(min_size=1, max_size=40) | st.sampled_from(["EX-1", "EX-404", "x" * 200, "-", "a.b:c-d"])


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, Any], plausible: dict[str, st.SearchStrategy[Any]]) -> Any:
    """A valid body with some fields replaced, dropped or added; sometimes not an object at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    body = dict(valid)
    for key in draw(st.sets(st.sampled_from(sorted(set(valid) | set(plausible))), max_size=3)):
        strategy = plausible.get(key, json_values)
        body[key] = draw(strategy | json_values)
    for key in draw(st.sets(st.sampled_from(sorted(body) or ["x"]), max_size=2)):
        body.pop(key, None)
    if draw(st.booleans()) and draw(st.booleans()):
        body[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    return body


@st.composite
def requests(
    draw: st.DrawFn, valid: dict[str, Any], plausible: dict[str, st.SearchStrategy[Any]]
) -> dict[str, Any]:
    if draw(st.integers(0, 5)) == 0:
        return {"raw_body": draw(raw_texts)}
    return {"body": draw(mutated(valid, plausible))}


def check(response: ApiResponse) -> None:
    assert response.status in EXPECTED_STATUSES, (response.status, response.body)
    if response.status >= 400:
        body = response.body
        assert isinstance(body, dict) and set(body) <= {"code", "message", "details"}, body
        assert isinstance(body["code"], str) and isinstance(body["message"], str), body
        if response.status == 422:
            errors = body["details"]["errors"]
            assert errors and all(
                isinstance(e["path"], str) and isinstance(e["message"], str) for e in errors
            )
    json.dumps(response.body)


@pytest.fixture
def world(api: ApiClient, repos: Any) -> ApiClient:
    seed_standard(repos, TENANT_A)
    assigned(api, "EX-1")
    return api


severity = st.sampled_from(["low", "medium", "high", "critical", "HIGH", "urgent"])
deadline = st.sampled_from(["2026-11-25T18:00:00Z", "2026-11-25T18:00:00", "2000-01-01T00:00:00+05:00", "x"])
tags = st.lists(st.text(max_size=70), max_size=55)
attributes = st.dictionaries(st.text(max_size=10), json_values, max_size=5)

CREATE = {
    "exception_id": path_ids,
    "domain": st.text(max_size=20),
    "severity": severity,
    "sla_deadline": deadline,
    "policy_tags": tags,
    "attributes": attributes,
    "raw_payload": attributes,
    "summary": st.text(max_size=600),
}


@FUZZ
@given(request=requests(exception_body("EX-F"), CREATE))
def test_fuzz_create(world: ApiClient, request: dict[str, Any]) -> None:
    check(world.call("POST", EXCEPTIONS, **request))


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["status", "domain", "severity", "limit", "cursor", "other"]),
        st.text(max_size=30) | st.sampled_from(["open", "high", "0", "200", "201", "-1", "1e3", "9" * 30]),
        max_size=4,
    )
)
def test_fuzz_list(world: ApiClient, query: dict[str, str]) -> None:
    check(world.call("GET", EXCEPTIONS, query=query))


@FUZZ
@given(
    exception_id=path_ids,
    request=requests({"summary": "s", "severity": "high"}, {**CREATE, "severity": severity | st.none()}),
)
def test_fuzz_patch_and_get(world: ApiClient, exception_id: str, request: dict[str, Any]) -> None:
    check(world.call("PATCH", EXCEPTION, {"exception_id": exception_id}, **request))
    check(world.call("GET", EXCEPTION, {"exception_id": exception_id}))
    check(world.call("GET", STATUS, {"exception_id": exception_id}))


@FUZZ
@given(
    exception_id=path_ids,
    request=requests({"text": "hello"}, {"text": st.text(max_size=4100)}),
    query=st.dictionaries(
        st.sampled_from(["limit", "cursor", "event_type"]),
        st.text(max_size=20) | st.sampled_from(["CommentAdded", "1", "500", "eyJ0IjoiYSJ9"]),
        max_size=3,
    ),
)
def test_fuzz_comments_and_events(
    world: ApiClient, exception_id: str, request: dict[str, Any], query: dict[str, str]
) -> None:
    check(world.call("POST", COMMENTS, {"exception_id": exception_id}, **request))
    check(world.call("GET", EVENTS, {"exception_id": exception_id}, query=query))


@FUZZ
@given(
    request=requests(
        {"exception": {"domain": "Finance", "exception_type": "X"}},
        {
            "exception": st.fixed_dictionaries(
                {"domain": st.text(max_size=10), "exception_type": st.text(max_size=10)},
                optional={
                    "severity": severity,
                    "sla_deadline": deadline,
                    "policy_tags": tags,
                    "attributes": attributes,
                },
            ),
            "exception_id": path_ids,
        },
    ),
    exception_id=path_ids,
)
def test_fuzz_match(world: ApiClient, request: dict[str, Any], exception_id: str) -> None:
    check(world.call("POST", SIMULATE, **request))
    check(world.call("POST", RECALCULATE, {"exception_id": exception_id}))


STEP = {
    "actor_type": st.sampled_from(["human", "agent", "system", "robot"]),
    "actor_id": path_ids,
    "notes": st.text(max_size=4100),
}
ROLES = st.sampled_from([("operator",), ("automation",), ("viewer",), ("admin", "automation")])


@pytest.mark.parametrize("resource", [COMPLETE, SKIP])
@FUZZ
@given(
    step_order=st.sampled_from(["1", "2", "3", "4", "0", "-1", "1.0", "9" * 25, "abc"]) | st.text(min_size=1),
    key=st.none() | st.sampled_from(["k-1", "k-1", "", " ", "x" * 129]) | st.text(max_size=20),
    request=requests({"notes": "done"}, STEP),
    roles=ROLES,
)
def test_fuzz_steps(
    world: ApiClient,
    resource: str,
    step_order: str,
    key: str | None,
    request: dict[str, Any],
    roles: tuple[str, ...],
) -> None:
    headers = {"Idempotency-Key": key} if key is not None else None
    response = world.call(
        "POST",
        resource,
        {"exception_id": "EX-1", "step_order": step_order},
        headers=headers,
        user=(TENANT_A, "alice", roles),
        **request,
    )
    check(response)
