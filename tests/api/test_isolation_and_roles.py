"""Every endpoint of functions/{exceptions,status,match,execute}: tenant isolation, roles, 401."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from exception_playbooks.routes import ROUTES, Route

from .conftest import ALL_ROLES, TENANT_A, TENANT_B, ApiClient, assert_error, snapshot
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
    seed_standard,
)

GROUPS = ("exceptions", "status", "match", "execute")
# Approve/reject need a pending two-person request: their matrix is in test_approvals_api.py.
APPROVAL_SUFFIXES = ("/approve", "/reject")
MY_ROUTES = [
    route for route in ROUTES if route.function in GROUPS and not route.path.endswith(APPROVAL_SUFFIXES)
]


@dataclass(frozen=True)
class Call:
    method: str
    resource: str
    params: dict[str, str]
    body: Any = None


def sample_call(route: Route, role: str = "operator") -> Call:
    """A valid request for ``route`` on tenant A's EX-1 (assigned to pb-catch-all, step 1 next)."""
    ids = {"exception_id": "EX-1"}
    steps = {"exception_id": "EX-1", "step_order": "1"}
    actor = {"actor_type": "agent", "actor_id": f"user-{role}"} if role == "automation" else {}
    calls = {
        ("POST", EXCEPTIONS): Call("POST", EXCEPTIONS, {}, exception_body("EX-NEW")),
        ("GET", EXCEPTIONS): Call("GET", EXCEPTIONS, {}),
        ("GET", EXCEPTION): Call("GET", EXCEPTION, ids),
        ("PATCH", EXCEPTION): Call("PATCH", EXCEPTION, ids, {"summary": "patched", "severity": "low"}),
        ("POST", COMMENTS): Call("POST", COMMENTS, ids, {"text": "hello"}),
        ("GET", EVENTS): Call("GET", EVENTS, ids),
        ("GET", STATUS): Call("GET", STATUS, ids),
        ("POST", RECALCULATE): Call("POST", RECALCULATE, ids),
        ("POST", SIMULATE): Call("POST", SIMULATE, {}, {"exception_id": "EX-1"}),
        ("POST", COMPLETE): Call("POST", COMPLETE, steps, {**actor, "notes": "done"}),
        ("POST", SKIP): Call("POST", SKIP, steps, {**actor, "notes": "skip it"}),
    }
    return calls[(route.method, route.path)]


def test_every_route_of_these_groups_is_covered() -> None:
    assert {(r.method, r.path) for r in MY_ROUTES} == {
        (c.method, c.resource) for c in (sample_call(r) for r in MY_ROUTES)
    }
    assert len(MY_ROUTES) == 11


@pytest.fixture
def tenant_a(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A)
    seed_standard(repos, TENANT_B)
    assigned(api)  # tenant A's EX-1 on pb-catch-all


# -- tenant isolation -------------------------------------------------------------------------
ID_ROUTES = [r for r in MY_ROUTES if "{exception_id}" in r.path or r.path == SIMULATE]


@pytest.mark.parametrize("route", ID_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_another_tenant_gets_404_and_changes_nothing(
    api: ApiClient, aws: Any, tenant_a: None, route: Route
) -> None:
    intruder = (TENANT_B, "mallory", ("operator", "admin", "viewer"))
    call = sample_call(route)
    before = snapshot(aws)

    response = api.call(call.method, call.resource, call.params, body=call.body, user=intruder)

    assert_error(response, 404)
    assert snapshot(aws) == before
    # ... and the same call from tenant A itself succeeds (the 404 is about the tenant).
    own = api.call(call.method, call.resource, call.params, body=call.body)
    assert own.status in (200, 201), own.body


def test_another_tenant_with_an_idempotency_key_gets_404(api: ApiClient, aws: Any, tenant_a: None) -> None:
    before = snapshot(aws)
    response = api.call(
        "POST",
        COMPLETE,
        {"exception_id": "EX-1", "step_order": "1"},
        headers={"Idempotency-Key": "k-1"},
        user=(TENANT_B, "mallory", ("operator",)),
    )
    assert_error(response, 404)
    assert snapshot(aws) == before


def test_another_tenant_neither_lists_nor_collides(api: ApiClient, tenant_a: None) -> None:
    other = (TENANT_B, "bob", ("operator",))
    assert api.call("GET", EXCEPTIONS, user=other).body["items"] == []
    created = api.call("POST", EXCEPTIONS, body=exception_body("EX-1", summary="B's own"), user=other)
    assert created.status == 201
    assert api.call("GET", EXCEPTION, {"exception_id": "EX-1"}).body["summary"] != "B's own"


# -- roles ------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("route", MY_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_roles_matrix(api: ApiClient, aws: Any, tenant_a: None, route: Route, role: str) -> None:
    call = sample_call(route, role)
    user = (TENANT_A, f"user-{role}", (role,))
    before = snapshot(aws)

    response = api.call(call.method, call.resource, call.params, body=call.body, user=user)

    if role in route.roles:
        assert response.status in (200, 201), (role, response.body)
    else:
        assert_error(response, 403, "FORBIDDEN_ROLE")
        assert snapshot(aws) == before


def test_the_matrix_is_the_documented_one() -> None:
    allowed = {(r.method, r.path): sorted(role.value for role in r.roles) for r in MY_ROUTES}
    everyone = ["admin", "approver", "automation", "operator", "viewer"]
    assert allowed == {
        ("POST", EXCEPTIONS): ["admin", "automation", "operator"],
        ("GET", EXCEPTIONS): everyone,
        ("GET", EXCEPTION): everyone,
        ("PATCH", EXCEPTION): ["admin", "operator"],
        ("POST", COMMENTS): ["admin", "operator"],
        ("GET", EVENTS): everyone,
        ("GET", STATUS): everyone,
        ("POST", RECALCULATE): ["admin", "operator"],
        ("POST", SIMULATE): everyone,
        ("POST", COMPLETE): ["admin", "automation", "operator"],
        ("POST", SKIP): ["admin", "automation", "operator"],
    }


def test_groups_as_a_list_and_unknown_groups(api: ApiClient, tenant_a: None) -> None:
    as_list = {"cognito:username": "alice", "custom:tenant_id": TENANT_A, "cognito:groups": ["viewer"]}
    assert api.call("GET", STATUS, {"exception_id": "EX-1"}, as_claims=as_list).status == 200
    bracketed = {
        "cognito:username": "alice",
        "custom:tenant_id": TENANT_A,
        "cognito:groups": "[operator viewer]",
    }
    assert api.call("POST", RECALCULATE, {"exception_id": "EX-1"}, as_claims=bracketed).status == 200
    unknown = {"cognito:username": "alice", "custom:tenant_id": TENANT_A, "cognito:groups": "superuser"}
    assert_error(api.call("GET", STATUS, {"exception_id": "EX-1"}, as_claims=unknown), 403, "FORBIDDEN_ROLE")


# -- 401 --------------------------------------------------------------------------------------
@pytest.mark.parametrize("route", MY_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_no_token_is_401_before_anything_else(api: ApiClient, aws: Any, tenant_a: None, route: Route) -> None:
    call = sample_call(route)
    before = snapshot(aws)
    assert_error(api.call(call.method, call.resource, call.params, body="not json", anonymous=True), 401)
    no_tenant = {"cognito:username": "alice", "cognito:groups": "admin"}
    assert_error(api.call(call.method, call.resource, call.params, body=call.body, as_claims=no_tenant), 401)
    bad_tenant = {"cognito:username": "alice", "custom:tenant_id": "a#b", "cognito:groups": "admin"}
    assert_error(api.call(call.method, call.resource, call.params, body=call.body, as_claims=bad_tenant), 401)
    assert snapshot(aws) == before


def test_a_role_check_comes_before_input_validation(api: ApiClient, tenant_a: None) -> None:
    viewer = (TENANT_A, "victor", ("viewer",))
    response = api.call("PATCH", EXCEPTION, {"exception_id": "-bad-"}, raw_body="{oops", user=viewer)
    assert_error(response, 403, "FORBIDDEN_ROLE")
    response = api.call("PATCH", EXCEPTION, {"exception_id": "EX-404"}, body={"summary": 5})
    assert_error(response, 422)  # input before existence
