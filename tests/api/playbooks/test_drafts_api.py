"""Drafts over real proxy events: save, edit, list, discard, publish (lint-gated), diff, simulate.

A draft is never a matching candidate: simulate, recalculate and the candidates query ignore it
until it is published.
"""

from __future__ import annotations

import copy
from typing import Any

from exception_playbooks.repository.bundle import Repositories
from exception_playbooks.usecases.authoring import DiffOut, DraftListOut, DraftOut, LintOut, PublishOut

from tests.api.conftest import TENANT_A, ApiClient, assert_error, snapshot

from .support import ADMIN, ADMIN_B, DOMAIN, OPERATOR, VIEWER, create, simple_body

DRAFTS = "/api/playbook-drafts"
DRAFT = "/api/playbook-drafts/{draft_id}"
SIMULATE = {"exception": {"domain": DOMAIN, "exception_type": "SETTLEMENT_FAIL", "severity": "high"}}


def save_draft(api: ApiClient, body: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {**extra}
    if body is not None:
        payload["playbook"] = copy.deepcopy(body)
    response = api.call("POST", DRAFTS, body=payload, user=ADMIN)
    assert response.status == 201, response.body
    DraftOut.model_validate(response.body)
    return dict(response.body)


def winner(api: ApiClient) -> str | None:
    response = api.call("POST", "/api/playbooks/simulate", body=SIMULATE, user=VIEWER)
    assert response.status == 200, response.body
    playbook = response.body["playbook"]
    return playbook["playbook_id"] if playbook else None


def test_a_draft_is_never_matched_until_published(api: ApiClient, tenant: Repositories) -> None:
    live = create(api, simple_body("Live", conditions={"match": {"domain": DOMAIN}, "priority": 1}))
    draft = save_draft(api, simple_body("Draft", conditions={"match": {"domain": DOMAIN}, "priority": 50}))

    assert draft["playbook_id"] is None and draft["revision"] == 1
    assert draft["lint"]["ok"] is True
    assert winner(api) == live["playbook_id"]
    assert [p.playbook_id for p in tenant.playbooks.candidates(TENANT_A, DOMAIN)] == [live["playbook_id"]]
    listed = api.call("GET", "/api/playbooks", user=VIEWER).body["items"]
    assert [p["name"] for p in listed] == ["Live"]

    simulated = api.call(
        "POST", DRAFT + "/simulate", {"draft_id": draft["draft_id"]}, body=SIMULATE, user=VIEWER
    )
    assert simulated.status == 200, simulated.body
    assert simulated.body["playbook"]["name"] == "Draft"
    assert winner(api) == live["playbook_id"]  # simulating the draft published nothing

    published = api.call("POST", DRAFT + "/publish", {"draft_id": draft["draft_id"]}, user=ADMIN)
    assert published.status == 200, published.body
    PublishOut.model_validate(published.body)
    playbook = published.body["playbook"]
    assert playbook["version"] == 1 and playbook["active"] is True and playbook["name"] == "Draft"
    assert winner(api) == playbook["playbook_id"]
    assert_error(api.call("GET", DRAFT, {"draft_id": draft["draft_id"]}, user=VIEWER), 404, "DRAFT_NOT_FOUND")


def test_edit_list_and_discard(api: ApiClient, tenant: Repositories) -> None:
    draft = save_draft(api, simple_body("First"))
    path = {"draft_id": draft["draft_id"]}

    edited = api.call("PUT", DRAFT, path, body={"playbook": simple_body("Second"), "revision": 1}, user=ADMIN)
    assert edited.status == 200, edited.body
    assert edited.body["revision"] == 2 and edited.body["body"]["name"] == "Second"
    stale = api.call("PUT", DRAFT, path, body={"playbook": simple_body("Third"), "revision": 1}, user=ADMIN)
    assert_error(stale, 409, "CONCURRENT_MODIFICATION")

    listed = api.call("GET", DRAFTS, user=VIEWER)
    DraftListOut.model_validate(listed.body)
    assert [(d["draft_id"], d["name"], d["revision"]) for d in listed.body["items"]] == [
        (draft["draft_id"], "Second", 2)
    ]
    assert api.call("GET", DRAFTS, user=ADMIN_B).body["items"] == []
    assert_error(api.call("GET", DRAFT, path, user=ADMIN_B), 404, "DRAFT_NOT_FOUND")

    discarded = api.call("DELETE", DRAFT, path, user=ADMIN)
    assert discarded.status == 200 and discarded.body == {"draft_id": draft["draft_id"], "discarded": True}
    assert api.call("GET", DRAFTS, user=VIEWER).body["items"] == []
    assert_error(api.call("DELETE", DRAFT, path, user=ADMIN), 404, "DRAFT_NOT_FOUND")


def test_roles_and_bad_input(api: ApiClient, tenant: Repositories) -> None:
    assert_error(api.call("POST", DRAFTS, body={"playbook": simple_body()}, user=VIEWER), 403)
    assert_error(api.call("POST", DRAFTS, body={"playbook": simple_body()}, user=OPERATOR), 403)
    before = snapshot(tenant.dynamo.client)
    invalid = api.call("POST", DRAFTS, body={"playbook": {"name": "x", "steps": []}}, user=ADMIN)
    assert_error(invalid, 422, "VALIDATION_ERROR")
    assert_error(api.call("POST", DRAFTS, body={"playbook_id": "pb-missing"}, user=ADMIN), 404)
    assert_error(api.call("POST", DRAFTS, body={"unknown": 1}, user=ADMIN), 422)
    assert snapshot(tenant.dynamo.client) == before


def test_lint_errors_block_publishing_and_write_nothing(api: ApiClient, tenant: Repositories) -> None:
    contradictory = simple_body(
        "Never", conditions={"match": {"domain": DOMAIN, "severity": "low", "severity_in": ["high"]}}
    )
    draft = save_draft(api, contradictory)
    assert draft["lint"]["ok"] is False
    assert [f["rule"] for f in draft["lint"]["findings"] if f["severity"] == "error"] == ["never_holds"]

    before = snapshot(tenant.dynamo.client)
    refused = api.call("POST", DRAFT + "/publish", {"draft_id": draft["draft_id"]}, user=ADMIN)
    assert_error(refused, 422, "LINT_FAILED")
    assert refused.body["details"]["errors"] == [
        {"path": "conditions.match.severity_in", "message": draft["lint"]["findings"][0]["message"]}
    ]
    assert refused.body["details"]["findings"][0]["rule"] == "never_holds"
    assert snapshot(tenant.dynamo.client) == before


def test_a_draft_of_an_existing_playbook_publishes_the_next_version(
    api: ApiClient, tenant: Repositories
) -> None:
    live = create(api, simple_body("Routing"))
    started = save_draft(api, playbook_id=live["playbook_id"])  # starts from the latest version
    assert started["base_version"] == 1 and started["body"]["name"] == "Routing"

    edited = copy.deepcopy(started["body"])
    edited["conditions"]["priority"] = 20
    edited["steps"].append(
        {"name": "Escalate", "action_type": "set_status", "params": {"status": "escalated"}}
    )
    path = {"draft_id": started["draft_id"]}
    assert api.call("PUT", DRAFT, path, body={"playbook": edited}, user=ADMIN).status == 200

    diff = api.call("GET", DRAFT + "/diff", path, user=VIEWER)
    assert diff.status == 200, diff.body
    DiffOut.model_validate(diff.body)
    assert diff.body["priority"] == {"before": 10, "after": 20}
    assert [s["change"] for s in diff.body["steps"]] == ["unchanged", "added"]

    # Someone publishes version 2 meanwhile: the draft is outdated until rebased.
    api.call(
        "PUT",
        "/api/playbooks/{playbook_id}",
        {"playbook_id": live["playbook_id"]},
        body=simple_body("Routing"),
        user=ADMIN,
    )
    outdated = api.call("POST", DRAFT + "/publish", path, user=ADMIN)
    assert_error(outdated, 409, "DRAFT_OUTDATED")
    assert outdated.body["details"] == {"base_version": 1, "latest_version": 2}
    rebased = api.call("PUT", DRAFT, path, body={"playbook": edited, "base_version": 2}, user=ADMIN)
    assert rebased.status == 200, rebased.body

    published = api.call(
        "POST", DRAFT + "/publish", path, body={"revision": rebased.body["revision"]}, user=ADMIN
    )
    assert published.status == 200, published.body
    assert published.body["playbook"]["version"] == 3
    assert published.body["playbook"]["playbook_id"] == live["playbook_id"]

    versions = api.call(
        "GET",
        "/api/playbooks/{playbook_id}/diff",
        {"playbook_id": live["playbook_id"]},
        query={"from_version": "1", "to_version": "3"},
        user=VIEWER,
    )
    assert versions.status == 200, versions.body
    assert versions.body["from"]["version"] == 1 and versions.body["to"]["version"] == 3
    assert [s["change"] for s in versions.body["steps"]] == ["unchanged", "added"]
    missing = api.call(
        "GET",
        "/api/playbooks/{playbook_id}/diff",
        {"playbook_id": live["playbook_id"]},
        query={"to_version": "9"},
        user=VIEWER,
    )
    assert_error(missing, 404, "PLAYBOOK_VERSION_NOT_FOUND")


def test_lint_endpoint_answers_any_document(api: ApiClient, tenant: Repositories) -> None:
    invalid = api.call(
        "POST", "/api/playbooks/lint", body={"playbook": {"name": "x", "steps": []}}, user=VIEWER
    )
    assert invalid.status == 200, invalid.body
    LintOut.model_validate(invalid.body)
    assert invalid.body["ok"] is False and {f["rule"] for f in invalid.body["findings"]} == {"invalid"}

    live = create(api, simple_body("Broad", conditions={"match": {"domain": DOMAIN}, "priority": 100}))
    narrow = simple_body(
        "Narrow", conditions={"match": {"domain": DOMAIN, "severity": "high"}, "priority": 5}
    )
    shadowed = api.call("POST", "/api/playbooks/lint", body={"playbook": narrow}, user=VIEWER)
    assert [(f["rule"], f["severity"]) for f in shadowed.body["findings"]] == [("shadowed", "error")]
    assert live["playbook_id"] in shadowed.body["findings"][0]["message"]
    # Linted as the next version of the broad playbook itself, nothing shadows it.
    itself = api.call(
        "POST",
        "/api/playbooks/lint",
        body={"playbook": narrow, "playbook_id": live["playbook_id"]},
        user=VIEWER,
    )
    assert itself.body == {"ok": True, "errors": 0, "warnings": 0, "findings": []}


def test_what_a_save_and_a_publish_cost(api: ApiClient, tenant: Repositories) -> None:
    """Counted AWS calls: a save validates and lints with fresh packs; publishing adds one transaction."""
    from local.aws_calls import count_aws_calls

    with count_aws_calls() as saving:
        draft = save_draft(api, simple_body("Counted"))
    assert saving.names == [
        "dynamodb.PutItem",  # the draft (validation of a body without tools needs no pack)
        "dynamodb.GetItem",  # lint: the catalogue stamps of the live candidates
        "dynamodb.Query",  # lint: the live candidate summaries of the domain
        "dynamodb.Query",  # lint: the recent exceptions' attribute names (one page)
        "dynamodb.GetItem",  # lint: the policy pack (fresh: authoring never trusts a warm copy)
        "dynamodb.GetItem",  # lint: the domain pack
    ]
    with count_aws_calls() as publishing:
        response = api.call("POST", DRAFT + "/publish", {"draft_id": draft["draft_id"]}, user=ADMIN)
    assert response.status == 200, response.body
    assert publishing.names == [
        "dynamodb.GetItem",  # the draft
        "dynamodb.GetItem",  # lint: the catalogue stamps
        "dynamodb.Query",  # lint: candidate summaries
        "dynamodb.Query",  # lint: recent exceptions
        "dynamodb.GetItem",  # lint: the policy pack
        "dynamodb.GetItem",  # lint: the domain pack
        "dynamodb.BatchGetItem",  # the catalogue stamps and the candidate bundle to rewrite
        "dynamodb.TransactWriteItems",  # version + LATEST + bundle + draft deletion, all or nothing
    ]
