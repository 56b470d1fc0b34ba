"""The operator's work queue over GET /api/exceptions: orders, filters, search, counts, bounded
pages and their cost; and the header actions of PATCH (owner, status with a reason)."""

from __future__ import annotations

from typing import Any

import pytest
from exception_playbooks.api.schemas import ExceptionPageOut
from exception_playbooks.repository.exceptions import LIST_ATTRIBUTES, MAX_FILTERED_PAGES

from local.aws_calls import count_aws_calls

from .conftest import TENANT_A, TENANT_B, ApiClient, assert_error, snapshot
from .scenario import EXCEPTION, EXCEPTIONS, create, event_types, events, exception_body

VIEWER = (TENANT_A, "victor", ("viewer",))
BOB = (TENANT_A, "bob", ("operator",))

# id, severity, sla deadline, summary
QUEUE = [
    ("EX-A1", "low", "2026-03-02T10:00:00Z", "Trade settlement failed at Murex"),
    ("EX-A2", "critical", "2026-03-02T18:00:00Z", "Duplicate claim from clinic"),
    ("EX-B3", "high", None, "Payment stuck in review"),
    ("EX-B4", "medium", "2026-03-02T09:30:00Z", "Settlement instruction missing"),
    ("EX-C5", "critical", "2026-03-03T09:00:00Z", "Nostro break on settlement"),
]


def seed_queue(api: ApiClient) -> None:
    for exception_id, severity, deadline, summary in QUEUE:
        overrides: dict[str, Any] = {"severity": severity, "summary": summary}
        if deadline:
            overrides["sla_deadline"] = deadline
        create(api, exception_id, **overrides)


def ids(api: ApiClient, user: Any = None, **query: Any) -> list[str]:
    response = api.call("GET", EXCEPTIONS, query=query, user=user)
    assert response.status == 200, response.body
    ExceptionPageOut.model_validate(response.body)
    return [item["exception_id"] for item in response.body["items"]]


def patch(api: ApiClient, body: dict[str, Any], exception_id: str = "EX-A1", user: Any = None) -> Any:
    return api.call("PATCH", EXCEPTION, {"exception_id": exception_id}, body=body, user=user)


# -- orders ---------------------------------------------------------------------------------------
def test_default_order_is_newest_first_and_unchanged(api: ApiClient) -> None:
    seed_queue(api)
    assert ids(api) == ["EX-C5", "EX-B4", "EX-B3", "EX-A2", "EX-A1"]
    assert ids(api, sort="created_at") == ["EX-C5", "EX-B4", "EX-B3", "EX-A2", "EX-A1"]


def test_severity_order_is_most_severe_first_then_newest(api: ApiClient) -> None:
    seed_queue(api)
    create(api, "EX-N6", severity=None)  # no severity yet: last
    assert ids(api, sort="severity") == ["EX-C5", "EX-A2", "EX-B3", "EX-B4", "EX-A1", "EX-N6"]


def test_sla_order_is_soonest_first_open_only_and_without_deadline_last(api: ApiClient) -> None:
    seed_queue(api)
    patch(api, {"status": "in_progress"}, "EX-A2")
    patch(api, {"status": "resolved", "reason": "paid twice, refunded"}, "EX-A2")
    assert ids(api, sort="sla_deadline") == ["EX-B4", "EX-A1", "EX-C5", "EX-B3"]
    # Breaching soon: a key condition on the deadline, still soonest first.
    assert ids(api, sort="sla_deadline", sla_before="2026-03-02T12:00:00Z") == ["EX-B4", "EX-A1"]
    # Reopening puts it back in the open work.
    patch(api, {"status": "in_progress", "reason": "refund bounced"}, "EX-A2")
    assert ids(api, sort="sla_deadline") == ["EX-B4", "EX-A1", "EX-A2", "EX-C5", "EX-B3"]


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"sort": "age"}, "sort"),
        ({"sort": "sla_deadline", "status": ["open", "closed"]}, "status"),
        ({"sla_before": "2026-03-02T12:00:00Z"}, "sla_before"),
        ({"sort": "sla_deadline", "sla_before": "2026-03-02T12:00:00"}, "sla_before"),
        ({"owner": "bob", "unassigned": "true"}, "owner"),
        ({"q": "a b c d e f"}, "q"),
        ({"severity": ["high", "urgent"]}, "severity"),
    ],
)
def test_bad_queue_parameters_are_422(api: ApiClient, query: dict[str, Any], path: str) -> None:
    response = api.call("GET", EXCEPTIONS, query=query)
    assert_error(response, 422, "VALIDATION_ERROR")
    assert [problem["path"] for problem in response.body["details"]["errors"]] == [path]


def test_a_cursor_belongs_to_its_order_and_filters(api: ApiClient) -> None:
    seed_queue(api)
    cursor = api.call("GET", EXCEPTIONS, query={"sort": "severity", "limit": "2"}).body["next_cursor"]
    assert cursor
    follow = api.call("GET", EXCEPTIONS, query={"sort": "severity", "limit": "2", "cursor": cursor})
    assert [i["exception_id"] for i in follow.body["items"]] == ["EX-B3", "EX-B4"]
    assert_error(api.call("GET", EXCEPTIONS, query={"limit": "2", "cursor": cursor}), 422, "VALIDATION_ERROR")


# -- filters and search ---------------------------------------------------------------------------
def test_several_statuses_and_severities_match_any_of_them(api: ApiClient) -> None:
    seed_queue(api)
    patch(api, {"status": "escalated", "reason": "desk asked"}, "EX-B3")
    assert ids(api, severity=["critical", "low"]) == ["EX-C5", "EX-A2", "EX-A1"]
    assert ids(api, status=["escalated", "in_progress"]) == ["EX-B3"]
    assert ids(api, status="open", severity="critical") == ["EX-C5", "EX-A2"]  # single values still work


def test_owner_and_unassigned_filters(api: ApiClient) -> None:
    seed_queue(api)
    patch(api, {"owner": {"type": "user", "id": "alice"}}, "EX-A1")
    patch(api, {"owner": {"type": "user", "id": "bob"}}, "EX-B3")
    patch(api, {"owner": {"type": "queue", "id": "alice"}}, "EX-C5")  # a queue named alice is not alice
    assert ids(api, owner="alice") == ["EX-A1"]
    assert ids(api, owner="bob") == ["EX-B3"]
    assert ids(api, unassigned="true") == ["EX-B4", "EX-A2"]


def test_search_by_id_prefix_or_summary_words_within_the_tenant(api: ApiClient) -> None:
    seed_queue(api)
    other = api.call(
        "POST",
        EXCEPTIONS,
        body=exception_body("EX-B9", summary="Settlement failed"),
        user=(TENANT_B, "zed", ("operator",)),
    )
    assert other.status == 201
    assert ids(api, q="ex-b") == ["EX-B4", "EX-B3"]
    assert ids(api, q="EX-A2") == ["EX-A2"]
    assert ids(api, q="SETTLEMENT") == ["EX-C5", "EX-B4", "EX-A1"]
    assert ids(api, q="settlement failed") == ["EX-A1"]  # every word
    assert ids(api, q="settlement", sort="severity") == ["EX-C5", "EX-B4", "EX-A1"]
    assert ids(api, q="refund") == []


# -- counts ---------------------------------------------------------------------------------------
def test_counts_of_the_saved_views(api: ApiClient) -> None:
    seed_queue(api)
    patch(api, {"owner": {"type": "user", "id": "alice"}}, "EX-A1")
    patch(api, {"owner": {"type": "user", "id": "bob"}}, "EX-C5")
    patch(api, {"status": "in_progress"}, "EX-B3")
    patch(api, {"status": "resolved", "reason": "fixed upstream"}, "EX-B3")
    response = api.call("GET", EXCEPTIONS, query={"counts": "true", "limit": "1"})
    assert response.body["counts"] == {
        "open": 4,
        "mine": 1,
        "unassigned": 2,
        "breaching_soon": 2,  # EX-B4 (past) and EX-A1 (within 4 h of the clock)
        "breaching_soon_hours": 4,
        "capped": False,
    }
    bob = api.call("GET", EXCEPTIONS, query={"counts": "true"}, user=BOB).body["counts"]
    assert bob["mine"] == 1
    assert "counts" not in api.call("GET", EXCEPTIONS).body


# -- cost: slim pages, bounded filtered reads -------------------------------------------------------
def _calls(api: ApiClient, query: dict[str, Any]) -> tuple[Any, list[str]]:
    with count_aws_calls() as calls:
        response = api.call("GET", EXCEPTIONS, query=query)
    assert response.status == 200, response.body
    return response.body, calls.names


def test_each_order_reads_one_page_with_one_query(api: ApiClient) -> None:
    seed_queue(api)
    for sort in ("created_at", "severity", "sla_deadline"):
        body, calls = _calls(api, {"sort": sort, "limit": "2"})
        assert calls == ["dynamodb.Query"], sort
        assert len(body["items"]) == 2 and body["next_cursor"]
    _, calls = _calls(api, {"counts": "true", "limit": "2"})
    assert calls == ["dynamodb.Query", "dynamodb.Query"]  # the page and the counts


def test_the_queue_indexes_hold_only_the_list_columns(api: ApiClient, aws: Any) -> None:
    from exception_playbooks import config

    create(api, "EX-1")
    item = aws.query(
        TableName=config.settings().state_table,
        IndexName="queue_created",
        KeyConditionExpression="gsi3pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"T#{TENANT_A}#QUEUE"}},
    )["Items"][0]
    index_keys = {"pk", "sk", "gsi3pk", "gsi3sk", "gsi4pk", "gsi4sk", "gsi5pk", "gsi5sk"}
    assert set(item) - index_keys <= set(LIST_ATTRIBUTES)
    assert "projection" not in item and "request_hash" not in item


def test_a_filtered_page_reads_a_bounded_number_of_pages_and_goes_on_with_a_cursor(
    api: ApiClient,
) -> None:
    create(api, "EX-HIT", severity="critical")
    for n in range(12):
        create(api, f"EX-{n:02d}", severity="low")
    body, calls = _calls(api, {"severity": "critical", "limit": "2"})
    assert calls == ["dynamodb.Query"] * MAX_FILTERED_PAGES
    assert body["items"] == [] and body["next_cursor"]  # a short (here empty) page, and more to read
    found: list[str] = []
    cursor = body["next_cursor"]
    requests = 1
    while cursor:
        body, calls = _calls(api, {"severity": "critical", "limit": "2", "cursor": cursor})
        assert len(calls) <= MAX_FILTERED_PAGES
        found += [item["exception_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        requests += 1
    assert found == ["EX-HIT"] and requests == 2


# -- PATCH: owner, status, reason -------------------------------------------------------------------
def test_assign_to_me_and_reassign_write_owner_assigned(api: ApiClient) -> None:
    create(api, "EX-A1")
    response = patch(api, {"owner": {"type": "user", "id": "alice"}})
    assert response.status == 200 and response.body["owner"] == {"type": "user", "id": "alice"}
    response = patch(api, {"owner": {"type": "user", "id": "bob"}, "reason": "bob knows Murex"})
    assert response.body["owner"] == {"type": "user", "id": "bob"}
    assigned = [e for e in events(api, "EX-A1") if e["event_type"] == "OwnerAssigned"]
    assert [e["payload"] for e in assigned] == [
        {"owner": {"type": "user", "id": "alice"}, "previous": None},
        {
            "owner": {"type": "user", "id": "bob"},
            "previous": {"type": "user", "id": "alice"},
            "reason": "bob knows Murex",
        },
    ]
    assert assigned[1]["actor_type"] == "human" and assigned[1]["actor_id"] == "alice"
    response = patch(api, {"owner": None})
    assert response.body["owner"] is None
    assert event_types(api, "EX-A1")[-1] == "OwnerAssigned"


def test_resolve_and_close_need_a_reason_and_write_status_changed(api: ApiClient) -> None:
    create(api, "EX-A1")
    patch(api, {"status": "in_progress"})
    response = patch(api, {"status": "resolved", "reason": "counterparty confirmed"})
    assert response.status == 200 and response.body["status"] == "resolved"
    response = patch(api, {"status": "closed", "reason": "month-end review"})
    assert response.body["status"] == "closed"
    changed = [e["payload"] for e in events(api, "EX-A1") if e["event_type"] == "StatusChanged"]
    assert changed == [
        {"from": "open", "to": "in_progress"},
        {"from": "in_progress", "to": "resolved", "reason": "counterparty confirmed"},
        {"from": "resolved", "to": "closed", "reason": "month-end review"},
    ]


def test_an_illegal_transition_is_409_and_writes_nothing(api: ApiClient, aws: Any) -> None:
    create(api, "EX-A1")
    before = snapshot(aws)
    response = patch(api, {"status": "resolved", "reason": "done", "severity": "high"})
    assert_error(response, 409, "ILLEGAL_STATUS_TRANSITION")
    assert response.body["details"] == {"from": "open", "to": "resolved"}
    assert snapshot(aws) == before


def test_severity_owner_and_status_in_one_patch_are_one_transaction(api: ApiClient) -> None:
    create(api, "EX-A1", severity="low")
    with count_aws_calls() as calls:
        response = patch(
            api, {"severity": "critical", "owner": {"type": "user", "id": "alice"}, "status": "escalated"}
        )
    assert response.status == 200
    assert calls.names.count("dynamodb.TransactWriteItems") == 1
    assert event_types(api, "EX-A1")[-3:] == ["ExceptionUpdated", "OwnerAssigned", "StatusChanged"]


def test_a_patch_that_changes_nothing_writes_nothing(api: ApiClient, aws: Any) -> None:
    create(api, "EX-A1")
    patch(api, {"owner": {"type": "user", "id": "alice"}})
    before = snapshot(aws)
    response = patch(api, {"owner": {"type": "user", "id": "alice"}, "status": "open"})
    assert response.status == 200
    assert snapshot(aws) == before


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"reason": "why not"}, "reason"),
        ({"status": None}, "status"),
        ({"owner": {"type": "team", "id": "x"}}, "owner.type"),
        ({"owner": {"type": "user", "id": "has space"}}, "owner.id"),
        ({"status": "in_progress", "reason": "x" * 1001}, "reason"),
    ],
)
def test_bad_header_actions_are_422(api: ApiClient, body: dict[str, Any], path: str) -> None:
    create(api, "EX-A1")
    response = patch(api, body)
    assert_error(response, 422, "VALIDATION_ERROR")
    assert [problem["path"] for problem in response.body["details"]["errors"]] == [path]


def test_a_viewer_may_not_take_or_resolve_work(api: ApiClient) -> None:
    create(api, "EX-A1")
    response = patch(api, {"owner": {"type": "user", "id": "victor"}}, user=VIEWER)
    assert_error(response, 403, "FORBIDDEN_ROLE")
