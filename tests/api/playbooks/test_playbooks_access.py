"""Who may call the authoring routes (roles matrix) and tenant isolation (another tenant sees 404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from exception_playbooks.repository.bundle import Repositories
from exception_playbooks.routes import ROUTES

from tests.api.conftest import ALL_ROLES, TENANT_A, TENANT_B, ApiClient, assert_error, snapshot

from .support import ADMIN, ADMIN_B, DOMAIN, DOMAIN_PACK, POLICY_PACK, create, playbook_body, simple_body

ONE = "/api/playbooks/{playbook_id}"
MY_ROUTES = sorted((r.method, r.path) for r in ROUTES if r.function == "playbooks")

DRAFT = "/api/playbook-drafts/{draft_id}"
SIMULATE = {"exception": {"domain": DOMAIN, "exception_type": "SETTLEMENT_FAIL"}}

# What each route needs to succeed: path parameters and body, given the ids of an existing
# playbook ("pid"), a draft ("draft", published by the matrix) and another draft ("spare", discarded).
Request = Callable[[dict[str, str]], tuple[dict[str, str], Any]]
REQUESTS: dict[tuple[str, str], Request] = {
    ("POST", "/api/playbooks"): lambda ids: ({}, simple_body()),
    ("GET", "/api/playbooks"): lambda ids: ({}, None),
    ("GET", ONE): lambda ids: ({"playbook_id": ids["pid"]}, None),
    ("PUT", ONE): lambda ids: ({"playbook_id": ids["pid"]}, simple_body()),
    ("DELETE", ONE): lambda ids: ({"playbook_id": ids["pid"]}, None),
    ("GET", ONE + "/stats"): lambda ids: ({"playbook_id": ids["pid"]}, None),
    ("POST", "/api/playbooks/lint"): lambda ids: ({}, {"playbook": simple_body()}),
    ("GET", ONE + "/diff"): lambda ids: ({"playbook_id": ids["pid"]}, None),
    ("GET", "/api/playbook-drafts"): lambda ids: ({}, None),
    ("POST", "/api/playbook-drafts"): lambda ids: ({}, {"playbook": simple_body()}),
    ("GET", DRAFT): lambda ids: ({"draft_id": ids["draft"]}, None),
    ("PUT", DRAFT): lambda ids: ({"draft_id": ids["draft"]}, {"playbook": simple_body("Edited")}),
    ("GET", DRAFT + "/impact"): lambda ids: ({"draft_id": ids["draft"]}, None),
    ("GET", DRAFT + "/diff"): lambda ids: ({"draft_id": ids["draft"]}, None),
    ("POST", DRAFT + "/simulate"): lambda ids: ({"draft_id": ids["draft"]}, SIMULATE),
    ("POST", DRAFT + "/publish"): lambda ids: ({"draft_id": ids["draft"]}, None),
    ("DELETE", DRAFT): lambda ids: ({"draft_id": ids["spare"]}, None),
    ("GET", "/api/packs/policy"): lambda ids: ({}, None),
    ("PUT", "/api/packs/policy"): lambda ids: ({}, POLICY_PACK),
    ("GET", "/api/packs/domains/{domain}"): lambda ids: ({"domain": DOMAIN}, None),
    ("PUT", "/api/packs/domains/{domain}"): lambda ids: ({"domain": DOMAIN}, DOMAIN_PACK),
}
READS = {key for key in REQUESTS if key[0] == "GET"} | {
    ("POST", "/api/playbooks/lint"),
    ("POST", DRAFT + "/simulate"),
}


def existing(api: ApiClient) -> dict[str, str]:
    """A playbook (in two versions, for the diff) and two drafts, written by an admin."""
    pid = create(api, simple_body())["playbook_id"]
    api.call("PUT", ONE, {"playbook_id": pid}, body=simple_body("Second"), user=ADMIN)
    drafts = [
        api.call("POST", "/api/playbook-drafts", body={"playbook": simple_body(name)}, user=ADMIN).body
        for name in ("Draft", "Spare")
    ]
    return {"pid": pid, "draft": drafts[0]["draft_id"], "spare": drafts[1]["draft_id"]}


def test_the_matrix_covers_every_route_of_the_function() -> None:
    assert sorted(REQUESTS) == MY_ROUTES


@pytest.mark.parametrize("role", ALL_ROLES)
def test_roles_matrix(api: ApiClient, tenant: Repositories, role: str) -> None:
    """Reads: every role. Writes (playbooks and packs): admin only; others 403 and nothing written."""
    ids = existing(api)
    user = (TENANT_A, f"user-{role}", (role,))
    for key, request in REQUESTS.items():
        method, resource = key
        params, body = request(ids)
        allowed = key in READS or role == "admin"
        response = api.call(method, resource, params, body=body, user=user)
        if allowed:
            assert response.status in (200, 201), (role, key, response.body)
        else:
            assert_error(response, 403, "FORBIDDEN_ROLE")


def test_no_role_at_all_is_403(api: ApiClient, tenant: Repositories) -> None:
    response = api.call("GET", "/api/playbooks", user=(TENANT_A, "nobody", ()))
    assert_error(response, 403, "FORBIDDEN_ROLE")


def test_several_roles_combine(api: ApiClient, tenant: Repositories) -> None:
    created = api.call(
        "POST", "/api/playbooks", body=simple_body(), user=(TENANT_A, "x", ("viewer", "admin"))
    )
    assert created.status == 201


def test_forbidden_writes_write_nothing(api: ApiClient, tenant: Repositories, aws: Any) -> None:
    ids = existing(api)
    before = snapshot(aws)
    operator = (TENANT_A, "olga", ("operator", "automation"))
    for key, request in REQUESTS.items():
        if key not in READS:
            params, body = request(ids)
            assert_error(api.call(*key, params, body=body, user=operator), 403)
    assert snapshot(aws) == before


def test_a_forbidden_invalid_write_is_403_not_422(api: ApiClient, tenant: Repositories) -> None:
    """API.md: 403 (role) is decided before 422 (input)."""
    response = api.call("POST", "/api/playbooks", body={"bad": True}, user=(TENANT_A, "vic", ("viewer",)))
    assert_error(response, 403)


# --- tenancy ----------------------------------------------------------------------------------


def test_another_tenant_cannot_read_or_change_a_playbook(
    api: ApiClient, tenant: Repositories, aws: Any
) -> None:
    pid = create(api)["playbook_id"]
    api.call("PUT", ONE, {"playbook_id": pid}, body=playbook_body(), user=ADMIN)
    before = snapshot(aws)

    assert_error(api.call("GET", ONE, {"playbook_id": pid}, user=ADMIN_B), 404, "PLAYBOOK_NOT_FOUND")
    assert_error(api.call("GET", ONE, {"playbook_id": pid}, query={"version": "1"}, user=ADMIN_B), 404)
    assert_error(api.call("GET", ONE + "/stats", {"playbook_id": pid}, user=ADMIN_B), 404)
    assert_error(api.call("PUT", ONE, {"playbook_id": pid}, body=simple_body(), user=ADMIN_B), 404)
    assert_error(api.call("DELETE", ONE, {"playbook_id": pid}, user=ADMIN_B), 404)
    assert api.call("GET", "/api/playbooks", user=ADMIN_B).body == {"items": []}

    assert snapshot(aws) == before
    assert [p.playbook_id for p in tenant.playbooks.candidates(TENANT_A, DOMAIN)] == [pid]
    assert tenant.playbooks.candidates(TENANT_B, DOMAIN) == []


def test_version_cache_never_leaks_across_tenants(api: ApiClient, tenant: Repositories) -> None:
    """A warm Lambda has tenant A's versions cached; tenant B still gets 404 for the same id."""
    pid = create(api)["playbook_id"]
    api.call("GET", ONE, {"playbook_id": pid}, query={"version": "1"}, user=ADMIN)  # cached now
    assert_error(api.call("GET", ONE, {"playbook_id": pid}, query={"version": "1"}, user=ADMIN_B), 404)


def test_packs_are_per_tenant(api: ApiClient, tenant: Repositories, aws: Any) -> None:
    policy_a = api.call("GET", "/api/packs/policy", user=ADMIN).body
    domain_a = api.call("GET", "/api/packs/domains/{domain}", {"domain": DOMAIN}, user=ADMIN).body

    assert api.call("GET", "/api/packs/policy", user=ADMIN_B).body["version"] == 0
    assert_error(api.call("GET", "/api/packs/domains/{domain}", {"domain": DOMAIN}, user=ADMIN_B), 404)

    # B writing its own packs (even echoing A's version numbers) never touches A's.
    assert (
        api.call("PUT", "/api/packs/policy", body={"approved_tools": []}, user=ADMIN_B).body["version"] == 1
    )
    put_b = api.call(
        "PUT", "/api/packs/domains/{domain}", {"domain": DOMAIN}, body={"fields": {}}, user=ADMIN_B
    )
    assert put_b.body["version"] == 1
    assert api.call("GET", "/api/packs/policy", user=ADMIN).body == policy_a
    assert api.call("GET", "/api/packs/domains/{domain}", {"domain": DOMAIN}, user=ADMIN).body == domain_a


def test_playbook_validation_uses_the_callers_packs(api: ApiClient, tenant: Repositories) -> None:
    """Tenant B has no packs: the tools tenant A may use are not B's."""
    response = api.call("POST", "/api/playbooks", body=playbook_body(), user=ADMIN_B)
    assert_error(response, 422)
    assert {e["path"] for e in response.body["details"]["errors"]} == {"steps[0].params.tool_id"}
