"""Impact preview over real exceptions equals running the real matcher over the same exceptions."""

from __future__ import annotations

from typing import Any

from exception_playbooks.auth import Principal
from exception_playbooks.authoring.impact import is_mid_run
from exception_playbooks.matching.engine import select_playbook
from exception_playbooks.models.playbook import PlaybookVersion
from exception_playbooks.repository.bundle import Repositories
from exception_playbooks.repository.exceptions import ExceptionFilters
from exception_playbooks.usecases.authoring import ImpactOut, draft_version

from tests.api.conftest import TENANT_A, ApiClient, snapshot

from .support import ADMIN, DOMAIN, OPERATOR, VIEWER, create, simple_body

DRAFT = "/api/playbook-drafts/{draft_id}"


def new_exception(api: ApiClient, number: int, severity: str, **attributes: Any) -> str:
    body = {
        "exception_id": f"EX-{number}",
        "domain": DOMAIN,
        "exception_type": "SETTLEMENT_FAIL" if number % 3 else "POSITION_BREAK",
        "severity": severity,
        "attributes": {"trade_id": f"T-{number}", **attributes},
    }
    response = api.call("POST", "/api/exceptions", body=body, user=OPERATOR)
    assert response.status == 201, response.body
    return str(body["exception_id"])


def test_preview_equals_the_matcher_over_the_same_exceptions(api: ApiClient, tenant: Repositories) -> None:
    general = create(api, simple_body("General", conditions={"match": {"domain": DOMAIN}, "priority": 1}))
    high = create(
        api,
        simple_body(
            "High", conditions={"match": {"domain": DOMAIN, "severity_in": ["high"]}, "priority": 10}
        ),
    )
    severities = ["low", "medium", "high", "critical"]
    ids = [new_exception(api, n, severities[n % 4], amount=n * 100) for n in range(1, 17)]
    for exception_id in ids[:10]:  # assign the live winner to some; move one run on
        assert (
            api.call(
                "POST",
                "/api/exceptions/{exception_id}/playbook/recalculate",
                {"exception_id": exception_id},
                user=OPERATOR,
            ).status
            == 200
        )
    done = api.call(
        "POST",
        "/api/exceptions/{exception_id}/playbook/steps/{step_order}/complete",
        {"exception_id": ids[2], "step_order": 1},
        body={},
        user=OPERATOR,
    )
    assert done.status == 200, done.body

    # The draft: the next version of "High", widened to critical and large amounts, higher priority.
    draft = api.call(
        "POST",
        "/api/playbook-drafts",
        body={
            "playbook_id": high["playbook_id"],
            "playbook": simple_body(
                "High v2",
                conditions={
                    "match": {
                        "domain": DOMAIN,
                        "severity_in": ["critical", "high"],
                        "attributes": {"amount": {"gte": 700}},
                    },
                    "priority": 10,
                },
            ),
        },
        user=ADMIN,
    ).body
    answer = api.call(
        "GET", DRAFT + "/impact", {"draft_id": draft["draft_id"]}, query={"days": "7"}, user=VIEWER
    )
    assert answer.status == 200, answer.body
    ImpactOut.model_validate(answer.body)

    # The same, by hand: every exception, the real matcher before and after.
    stored = tenant.drafts.get(TENANT_A, draft["draft_id"])
    records = tenant.exceptions.list(TENANT_A, ExceptionFilters(), 200, None).items
    live = tenant.playbooks.candidates(TENANT_A, DOMAIN)
    packs = tenant.packs.pack_set(TENANT_A, DOMAIN)
    proposed: PlaybookVersion = draft_version(tenant, Principal(TENANT_A, "ada", frozenset()), stored)
    future = [p for p in live if p.playbook_id != proposed.playbook_id] + [proposed]
    expected: dict[str, Any] = {
        "matched": 0,
        "would_win": 0,
        "captured": set(),
        "released": set(),
        "mid_run": 0,
    }
    now = tenant.clock()
    for record in records:
        before = select_playbook(record, live, packs, now).winner
        after_result = select_playbook(record, future, packs, now)
        after = after_result.winner
        expected["matched"] += proposed.playbook_id in {p.playbook_id for p in after_result.matched}
        expected["would_win"] += after is not None and after.playbook_id == proposed.playbook_id
        was, will = (before.playbook_id if before else None), (after.playbook_id if after else None)
        if was != will:
            expected["mid_run"] += is_mid_run(record)
            side = "captured" if will == proposed.playbook_id else "released"
            expected[side].add((record.exception_id, was, will))

    body = answer.body
    assert body["evaluated"] == len(records) == 16
    assert body["matched"] == expected["matched"] and body["would_win"] == expected["would_win"]
    assert {(s["exception_id"], s["from"], s["to"]) for s in body["captured"]["samples"]} == expected[
        "captured"
    ]
    assert {(s["exception_id"], s["from"], s["to"]) for s in body["released"]["samples"]} == expected[
        "released"
    ]
    assert body["mid_run_pinned"] == expected["mid_run"]
    # Not vacuous: the draft both captures (critical, large) and releases (high, small) exceptions.
    assert expected["captured"] and expected["released"]
    assert {s["to"] for s in body["released"]["samples"]} == {general["playbook_id"]}
    cost = body["cost"]
    assert cost["examined"] == 16 and cost["truncated"] is False and cost["stopped_by"] == "end_of_index"
    # The list index page; candidate summaries are read by key, warm here (the matcher above read
    # them), so only the catalogue stamps are fetched for them.
    assert cost["pages"] == 1 and cost["calls"]["query"] == 1
    assert cost["reads"] == sum(cost["calls"].values())

    # Publishing re-matches nothing: every timeline and assignment stays as it was.
    timelines = snapshot(tenant.dynamo.client)[tenant.dynamo.events_table]
    assigned = {r.exception_id: r.current_playbook_id for r in records}
    published = api.call("POST", DRAFT + "/publish", {"draft_id": draft["draft_id"]}, user=ADMIN)
    assert published.status == 200, published.body
    assert snapshot(tenant.dynamo.client)[tenant.dynamo.events_table] == timelines
    now_stored = tenant.exceptions.list(TENANT_A, ExceptionFilters(), 200, None).items
    assert {r.exception_id: r.current_playbook_id for r in now_stored} == assigned


def test_preview_is_bounded_by_its_budget(api: ApiClient, tenant: Repositories) -> None:
    create(api, simple_body("General", conditions={"match": {"domain": DOMAIN}, "priority": 1}))
    for n in range(1, 8):
        new_exception(api, n, "high")
    draft = api.call("POST", "/api/playbook-drafts", body={"playbook": simple_body("New")}, user=ADMIN).body
    answer = api.call(
        "GET", DRAFT + "/impact", {"draft_id": draft["draft_id"]}, query={"limit": "5"}, user=VIEWER
    ).body
    assert answer["cost"]["examined"] == 5
    assert answer["cost"]["truncated"] is True and answer["cost"]["stopped_by"] == "max_exceptions"
    assert answer["evaluated"] == 5


def test_preview_evaluates_a_bounded_number_of_domains(api: ApiClient, tenant: Repositories) -> None:
    from exception_playbooks.auth import Principal as Caller
    from exception_playbooks.models.enums import Role
    from exception_playbooks.usecases.authoring import ImpactBudget, preview_impact

    for n, domain in enumerate(["Alpha", "Beta", "Gamma"], start=1):
        body = {"exception_id": f"EX-{n}", "domain": domain, "exception_type": "T"}
        assert api.call("POST", "/api/exceptions", body=body, user=OPERATOR).status == 201
    draft = api.call("POST", "/api/playbook-drafts", body={"playbook": simple_body("New")}, user=ADMIN).body
    caller = Caller(TENANT_A, "vic", frozenset({Role.VIEWER}))
    answer = preview_impact(tenant, caller, draft["draft_id"], ImpactBudget(max_domains=2))
    assert answer["evaluated"] == 2 and answer["cost"]["skipped_other_domains"] == 1
    assert answer["cost"]["calls"]["query"] == 1 + 2  # one page, one candidates query per domain


def test_the_preview_reads_a_slim_projection_page_by_page(api: ApiClient, tenant: Repositories) -> None:
    from exception_playbooks.repository.matching_reads import newest_exceptions

    for n in range(1, 4):
        body = {
            "exception_id": f"EX-{n}",
            "domain": DOMAIN,
            "exception_type": "SETTLEMENT_FAIL",
            "summary": "long text",
            "raw_payload": {"source": "x" * 1000},
            "attributes": {"n": n},
        }
        assert api.call("POST", "/api/exceptions", body=body, user=OPERATOR).status == 201
    first, start = newest_exceptions(tenant.dynamo, TENANT_A, 2, None)
    assert [r.exception_id for r in first] == ["EX-3", "EX-2"] and start is not None
    assert first[0].raw_payload is None and first[0].summary is None  # not read
    assert first[0].attributes == {"n": 3} and first[0].created_at
    rest, end = newest_exceptions(tenant.dynamo, TENANT_A, 2, start)
    assert [r.exception_id for r in rest] == ["EX-1"] and end is None
