"""functions/exceptions: create, list, get, patch, comments and the timeline over real proxy events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from exception_playbooks.api.schemas import EventOut, EventPageOut, ExceptionOut, ExceptionPageOut

from .conftest import TENANT_A, TENANT_B, ApiClient, assert_error, snapshot
from .scenario import (
    COMMENTS,
    EVENTS,
    EXCEPTION,
    EXCEPTIONS,
    RECALCULATE,
    act,
    assigned,
    create,
    event_types,
    events,
    exception_body,
    seed_standard,
)

VIEWER = (TENANT_A, "victor", ("viewer",))
AUTOMATION = (TENANT_A, "feed-bot", ("automation",))


def problem_paths(response: Any) -> list[str]:
    return [problem["path"] for problem in response.body["details"]["errors"]]


# -- create ---------------------------------------------------------------------------------------
def test_create_answers_201_with_the_record_and_writes_exception_created(api: ApiClient) -> None:
    response = api.call(
        "POST", EXCEPTIONS, body=exception_body("EX-1", severity="high", policy_tags=["a", "a"])
    )

    assert response.status == 201
    record = ExceptionOut.model_validate(response.body).model_dump(mode="json")
    assert record["exception_id"] == "EX-1"
    assert record["severity"] == "high"
    assert record["status"] == "open"
    assert record["policy_tags"] == ["a"]
    assert record["version"] == 1 and record["owner"] is None and record["current_step"] is None
    assert record["created_at"].endswith("Z") and len(record["created_at"]) == len("2026-03-02T09:00:01.000Z")
    timeline = events(api)
    assert [e["event_type"] for e in timeline] == ["ExceptionCreated"]
    assert (
        timeline[0]["seq"] == 1
        and timeline[0]["actor_type"] == "human"
        and timeline[0]["actor_id"] == "alice"
    )
    assert timeline[0]["payload"]["severity"] == "high"


def test_create_without_severity_keeps_it_null_and_defaults_attributes(api: ApiClient) -> None:
    response = api.call("POST", EXCEPTIONS, body={"domain": "Finance", "exception_type": "Dup"})

    assert response.status == 201
    assert response.body["severity"] is None
    assert response.body["attributes"] == {}
    assert response.body["exception_id"].startswith("EX-")


def test_create_normalises_the_sla_deadline_to_utc(api: ApiClient) -> None:
    record = create(api, sla_deadline="2026-11-25T19:00:00+01:00")
    assert record["sla_deadline"] == "2026-11-25T18:00:00.000Z"


def test_generated_ids_are_distinct(api: ApiClient) -> None:
    first = create(api, exception_id=None)  # type: ignore[arg-type]
    second = create(api, exception_id=None)  # type: ignore[arg-type]
    assert first["exception_id"] != second["exception_id"]


def test_automation_creates_as_a_system_actor(api: ApiClient) -> None:
    response = api.call("POST", EXCEPTIONS, body=exception_body("EX-9"), user=AUTOMATION)
    assert response.status == 201
    assert events(api, "EX-9")[0]["actor_type"] == "system"
    assert events(api, "EX-9")[0]["actor_id"] == "feed-bot"


def test_reposting_the_same_body_answers_200_and_writes_nothing(api: ApiClient, aws: Any) -> None:
    first = create(api)
    before = snapshot(aws)

    again = api.call("POST", EXCEPTIONS, body=exception_body("EX-1"))

    assert again.status == 200
    assert again.body == first
    assert snapshot(aws) == before


def test_replay_compares_with_the_first_body_not_the_current_record(api: ApiClient) -> None:
    create(api)
    assert api.call("PATCH", EXCEPTION, {"exception_id": "EX-1"}, body={"summary": "changed"}).status == 200

    again = api.call("POST", EXCEPTIONS, body=exception_body("EX-1"))

    assert again.status == 200
    assert again.body["summary"] == "changed"


def test_reposting_a_different_body_is_409(api: ApiClient, aws: Any) -> None:
    create(api)
    before = snapshot(aws)

    response = api.call("POST", EXCEPTIONS, body=exception_body("EX-1", summary="other"))

    assert_error(response, 409, "EXCEPTION_EXISTS")
    assert snapshot(aws) == before


def test_the_same_id_in_another_tenant_is_another_exception(api: ApiClient) -> None:
    create(api)
    response = api.call(
        "POST", EXCEPTIONS, body=exception_body("EX-1", summary="b"), user=(TENANT_B, "bob", ("operator",))
    )
    assert response.status == 201
    assert response.body["summary"] == "b"


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({"exception_type": "X"}, ["domain"]),
        ({"domain": "Finance"}, ["exception_type"]),
        ({"domain": "Finance", "exception_type": "X", "colour": "red"}, ["colour"]),
        ({"domain": "Finance", "exception_type": "X", "severity": "urgent"}, ["severity"]),
        (
            {"domain": "Finance", "exception_type": "X", "sla_deadline": "2026-11-25T18:00:00"},
            ["sla_deadline"],
        ),
        ({"domain": "Finance", "exception_type": "X", "sla_deadline": "tomorrow"}, ["sla_deadline"]),
        ({"domain": "Finance", "exception_type": "X", "summary": "s" * 501}, ["summary"]),
        ({"domain": "Finance", "exception_type": "X", "attributes": {"blob": "x" * 70_000}}, ["attributes"]),
        ({"domain": "Finance", "exception_type": "X", "attributes": []}, ["attributes"]),
        ({"domain": "Finance", "exception_type": "X", "attributes": None}, ["attributes"]),
        ({"domain": "Finance", "exception_type": "X", "attributes": {"n": 10**40 + 1}}, ["attributes"]),
        ({"domain": "Finance", "exception_type": "X", "attributes": {"": 1}}, ["attributes"]),
        ({"domain": "Finance", "exception_type": "X", "policy_tags": ["t"] * 51}, ["policy_tags"]),
        ({"domain": "Finance", "exception_type": "X", "policy_tags": [""]}, ["policy_tags[0]"]),
        ({"domain": "Fin#ance", "exception_type": "X"}, ["domain"]),
        ({"domain": "Finance", "exception_type": "X", "exception_id": "bad id"}, ["exception_id"]),
        ({"domain": 7, "exception_type": ["X"]}, ["domain", "exception_type"]),
    ],
)
def test_create_rejects_invalid_bodies_with_every_problem(
    api: ApiClient, aws: Any, body: dict[str, Any], paths: list[str]
) -> None:
    before = snapshot(aws)
    response = api.call("POST", EXCEPTIONS, body=body)
    assert_error(response, 422, "VALIDATION_ERROR")
    assert sorted(problem_paths(response)) == sorted(paths)
    assert snapshot(aws) == before


@pytest.mark.parametrize(
    "raw",
    ["{not json", "[]", "null", "42", '"text"', '{"domain": NaN}', "[" * 5000 + "]" * 5000, '{"a": 1e999}'],
)
def test_create_rejects_malformed_bodies(api: ApiClient, raw: str) -> None:
    response = api.call("POST", EXCEPTIONS, raw_body=raw)
    assert_error(response, 422, "VALIDATION_ERROR")


def test_create_rejects_lone_surrogates_and_other_content_types(api: ApiClient) -> None:
    response = api.call("POST", EXCEPTIONS, raw_body='{"domain": "Finance", "exception_type": "\\ud800"}')
    assert_error(response, 422)
    response = api.call("POST", EXCEPTIONS, body=exception_body(), headers={"Content-Type": "text/plain"})
    assert_error(response, 422)
    assert problem_paths(response) == ["body"]


def test_create_over_256_kib_is_413(api: ApiClient) -> None:
    response = api.call("POST", EXCEPTIONS, raw_body=json.dumps({"summary": "x" * (257 * 1024)}))
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


def test_unicode_round_trips(api: ApiClient) -> None:
    record = create(api, summary="Règlement échoué ✓ 日本 🚀", attributes={"ключ": "значение", "emoji": "🧾"})
    fetched = api.call("GET", EXCEPTION, {"exception_id": "EX-1"})
    assert fetched.body == record
    assert fetched.body["summary"] == "Règlement échoué ✓ 日本 🚀"


# -- list -------------------------------------------------------------------------------------
def test_list_is_newest_first_and_pages_with_an_opaque_cursor(api: ApiClient) -> None:
    for n in range(1, 6):
        create(api, f"EX-{n}")

    first = api.call("GET", EXCEPTIONS, query={"limit": "2"})
    assert first.status == 200
    page = ExceptionPageOut.model_validate(first.body)
    assert [r.exception_id for r in page.items] == ["EX-5", "EX-4"]
    seen = [r.exception_id for r in page.items]
    cursor = page.next_cursor
    while cursor:
        response = api.call("GET", EXCEPTIONS, query={"limit": "2", "cursor": cursor})
        assert response.status == 200
        seen += [r["exception_id"] for r in response.body["items"]]
        cursor = response.body["next_cursor"]
    assert seen == ["EX-5", "EX-4", "EX-3", "EX-2", "EX-1"]


def test_list_defaults_to_50(api: ApiClient, repos: Any) -> None:
    for n in range(55):
        create(api, f"EX-{n:03d}")
    response = api.call("GET", EXCEPTIONS)
    assert len(response.body["items"]) == 50
    assert response.body["next_cursor"]


def test_list_filters(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A)
    create(api, "EX-1", severity="high")
    create(api, "EX-2", severity="low", domain="Claims")
    assigned(api, "EX-3", severity="low")

    def ids(**query: str) -> list[str]:
        response = api.call("GET", EXCEPTIONS, query=query)
        assert response.status == 200, response.body
        return [r["exception_id"] for r in response.body["items"]]

    assert ids(severity="high") == ["EX-1"]
    assert ids(domain="Claims") == ["EX-2"]
    assert ids(status="in_progress") == ["EX-3"]
    assert ids(status="open", severity="low") == ["EX-2"]
    assert ids(status="closed") == []
    assert ids(status="open", limit="1") == ["EX-2"]


@pytest.mark.parametrize(
    "query",
    [
        {"status": "done"},
        {"severity": "urgent"},
        {"domain": "bad domain!"},
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "ten"},
        {"limit": "9" * 5000},
        {"cursor": "not-a-cursor"},
    ],
)
def test_list_rejects_unknown_filter_values(api: ApiClient, query: dict[str, str]) -> None:
    create(api)
    response = api.call("GET", EXCEPTIONS, query=query)
    assert_error(response, 422, "VALIDATION_ERROR")
    assert problem_paths(response) == [next(iter(query))]


def test_a_cursor_from_another_tenant_is_refused(api: ApiClient) -> None:
    for n in range(3):
        create(api, f"EX-{n}")
    cursor = api.call("GET", EXCEPTIONS, query={"limit": "1"}).body["next_cursor"]
    response = api.call(
        "GET", EXCEPTIONS, query={"limit": "1", "cursor": cursor}, user=(TENANT_B, "bob", ("viewer",))
    )
    assert_error(response, 422)


def test_list_shows_only_the_callers_tenant(api: ApiClient) -> None:
    create(api)
    response = api.call("GET", EXCEPTIONS, user=(TENANT_B, "bob", ("viewer",)))
    assert response.body == {"items": [], "next_cursor": None}


# -- get --------------------------------------------------------------------------------------
def test_get_answers_the_record(api: ApiClient) -> None:
    record = create(api)
    response = api.call("GET", EXCEPTION, {"exception_id": "EX-1"}, user=VIEWER)
    assert response.status == 200 and response.body == record


def test_get_missing_is_404_and_a_malformed_id_422(api: ApiClient) -> None:
    assert_error(api.call("GET", EXCEPTION, {"exception_id": "EX-404"}), 404, "EXCEPTION_NOT_FOUND")
    assert_error(api.call("GET", EXCEPTION, {"exception_id": "-bad"}), 422)
    assert_error(api.call("GET", EXCEPTION, {"exception_id": "x" * 129}), 422)


# -- patch ------------------------------------------------------------------------------------
def test_patch_summary_writes_exception_updated_with_the_changes(api: ApiClient) -> None:
    create(api)
    response = api.call("PATCH", EXCEPTION, {"exception_id": "EX-1"}, body={"summary": "New text"})

    assert response.status == 200
    record = ExceptionOut.model_validate(response.body)
    assert record.summary == "New text" and record.version == 2
    updated = events(api)[-1]
    assert updated["event_type"] == "ExceptionUpdated"
    assert updated["payload"] == {
        "changes": {"summary": {"from": "Trade T-1 failed to settle", "to": "New text"}}
    }


def test_patch_sla_and_tags(api: ApiClient) -> None:
    create(api, policy_tags=["a"])
    response = api.call(
        "PATCH",
        EXCEPTION,
        {"exception_id": "EX-1"},
        body={"sla_deadline": "2026-12-01T10:00:00Z", "policy_tags": ["b", "a"]},
    )
    assert response.status == 200
    assert response.body["sla_deadline"] == "2026-12-01T10:00:00.000Z"
    assert response.body["policy_tags"] == ["b", "a"]
    changes = events(api)[-1]["payload"]["changes"]
    assert changes["sla_deadline"] == {"from": None, "to": "2026-12-01T10:00:00.000Z"}
    assert changes["policy_tags"] == {"from": ["a"], "to": ["b", "a"]}


def test_patch_can_clear_the_sla_deadline_and_summary(api: ApiClient) -> None:
    create(api, sla_deadline="2026-12-01T10:00:00Z")
    response = api.call(
        "PATCH", EXCEPTION, {"exception_id": "EX-1"}, body={"sla_deadline": None, "summary": None}
    )
    assert response.status == 200
    assert response.body["sla_deadline"] is None and response.body["summary"] is None


def test_a_patch_that_changes_nothing_writes_nothing(api: ApiClient, aws: Any) -> None:
    create(api, sla_deadline="2026-12-01T10:00:00Z", policy_tags=["a", "b"])
    record = api.call("PATCH", EXCEPTION, {"exception_id": "EX-1"}, body={"severity": "high"}).body
    before = snapshot(aws)

    response = api.call(
        "PATCH",
        EXCEPTION,
        {"exception_id": "EX-1"},
        body={
            "severity": "high",
            "summary": record["summary"],
            "sla_deadline": "2026-12-01T11:00:00+01:00",
            "policy_tags": ["b", "a"],
        },
    )

    assert response.status == 200 and response.body == record
    assert snapshot(aws) == before


def test_a_person_takes_the_severity_over_even_at_the_same_value(api: ApiClient, repos: Any) -> None:
    # Created "high", but the tenant override makes it low: the catch-all runs.
    seed_standard(repos, TENANT_A, policy={"severity_overrides": {"TradeSettlementFailure": "low"}})
    assigned(api, severity="high")
    assert api.call("GET", EXCEPTION, {"exception_id": "EX-1"}).body["current_playbook_id"] == "pb-catch-all"

    response = api.call("PATCH", EXCEPTION, {"exception_id": "EX-1"}, body={"severity": "high"})

    assert response.status == 200
    assert response.body["current_playbook_id"] == "pb-high"  # the person's "high" now beats the override
    updated = next(e for e in reversed(events(api)) if e["event_type"] == "ExceptionUpdated")
    assert updated["payload"]["changes"] == {"severity": {"from": "high", "to": "high"}}


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({}, ["body"]),
        ({"severity": None}, ["severity"]),
        ({"policy_tags": None}, ["policy_tags"]),
        ({"severity": "urgent"}, ["severity"]),
        ({"status": "archived"}, ["status"]),
        ({"status": "closed"}, ["reason"]),  # closing (or resolving) needs a reason
        ({"domain": "Other"}, ["domain"]),
        ({"summary": "s" * 501}, ["summary"]),
        ({"sla_deadline": "2026-12-01"}, ["sla_deadline"]),
    ],
)
def test_patch_rejects_invalid_bodies(
    api: ApiClient, aws: Any, body: dict[str, Any], paths: list[str]
) -> None:
    create(api)
    before = snapshot(aws)
    response = api.call("PATCH", EXCEPTION, {"exception_id": "EX-1"}, body=body)
    assert_error(response, 422, "VALIDATION_ERROR")
    assert problem_paths(response) == paths
    assert snapshot(aws) == before


def test_patch_missing_exception_is_404(api: ApiClient) -> None:
    assert_error(api.call("PATCH", EXCEPTION, {"exception_id": "EX-9"}, body={"summary": "x"}), 404)


def test_patch_severity_stands_and_rematches_in_the_same_transaction(api: ApiClient, repos: Any) -> None:
    # The tenant override would make it low; a person's severity beats it.
    seed_standard(repos, TENANT_A, policy={"severity_overrides": {"TradeSettlementFailure": "low"}})
    recalc = assigned(api)
    assert recalc["playbook"]["playbook_id"] == "pb-catch-all"
    act(api, 1)

    response = api.call("PATCH", EXCEPTION, {"exception_id": "EX-1"}, body={"severity": "critical"})

    assert response.status == 200
    assert response.body["severity"] == "critical"
    assert response.body["current_playbook_id"] == "pb-high" and response.body["current_step"] == 1
    timeline = events(api)
    assert [e["event_type"] for e in timeline[-3:]] == [
        "ExceptionUpdated",
        "PlaybookRecalculated",
        "PlaybookStarted",
    ]
    assert len({e["created_at"] for e in timeline[-3:]}) == 1  # one transaction, one timestamp
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    recalculated = timeline[-2]["payload"]
    assert recalculated["from"] == {"playbook_id": "pb-catch-all", "playbook_version": 1}
    assert recalculated["to"] == {"playbook_id": "pb-high", "playbook_version": 1}
    status = api.call("GET", "/api/exceptions/{exception_id}/playbook", {"exception_id": "EX-1"}).body
    assert status["playbook"]["playbook_id"] == "pb-high"
    assert [s["status"] for s in status["steps"]] == ["pending"] * 4
    again = api.call("POST", RECALCULATE, {"exception_id": "EX-1"})
    assert again.body["changed"] is False  # the person's severity still holds


def test_patch_summary_does_not_rematch(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A)
    create(api, severity="high")  # pb-high would win, but nothing is assigned yet
    api.call("PATCH", EXCEPTION, {"exception_id": "EX-1"}, body={"summary": "other"})
    assert event_types(api) == ["ExceptionCreated", "ExceptionUpdated"]


def test_patch_with_the_same_winner_writes_only_the_update(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A)
    assigned(api, severity="high")
    api.call("PATCH", EXCEPTION, {"exception_id": "EX-1"}, body={"severity": "critical"})
    assert event_types(api)[-1] == "ExceptionUpdated"
    assert api.call("GET", EXCEPTION, {"exception_id": "EX-1"}).body["current_playbook_id"] == "pb-high"


def test_patch_after_the_playbook_completed_does_not_rematch(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A)
    assigned(api, severity="low")
    for order in (1, 2, 3):
        assert act(api, order).status == 200
    response = api.call("PATCH", EXCEPTION, {"exception_id": "EX-1"}, body={"severity": "critical"})
    assert response.status == 200
    assert event_types(api)[-2:] == ["PlaybookCompleted", "ExceptionUpdated"]
    assert response.body["current_playbook_id"] == "pb-catch-all"


# -- comments ---------------------------------------------------------------------------------
def test_comment_answers_201_with_the_event(api: ApiClient) -> None:
    create(api)
    response = api.call("POST", COMMENTS, {"exception_id": "EX-1"}, body={"text": "Called the desk ☎"})

    assert response.status == 201
    event = EventOut.model_validate(response.body)
    assert event.event_type == "CommentAdded" and event.seq == 2
    assert event.payload == {"text": "Called the desk ☎"}
    assert event.actor_type == "human" and event.actor_id == "alice"
    assert events(api)[-1] == response.body


@pytest.mark.parametrize(
    "body", [{}, {"text": ""}, {"text": "x" * 4001}, {"text": 5}, {"text": "ok", "extra": 1}, {"text": None}]
)
def test_comment_rejects_invalid_bodies(api: ApiClient, body: dict[str, Any]) -> None:
    create(api)
    assert_error(api.call("POST", COMMENTS, {"exception_id": "EX-1"}, body=body), 422)


def test_comment_on_a_missing_exception_is_404(api: ApiClient) -> None:
    assert_error(api.call("POST", COMMENTS, {"exception_id": "EX-9"}, body={"text": "x"}), 404)


def test_viewer_may_not_comment(api: ApiClient) -> None:
    create(api)
    assert_error(api.call("POST", COMMENTS, {"exception_id": "EX-1"}, body={"text": "x"}, user=VIEWER), 403)


# -- events -----------------------------------------------------------------------------------
def test_events_are_oldest_first_paged_and_filterable(api: ApiClient) -> None:
    create(api)
    for n in range(5):
        api.call("POST", COMMENTS, {"exception_id": "EX-1"}, body={"text": f"c{n}"})

    first = api.call("GET", EVENTS, {"exception_id": "EX-1"}, query={"limit": "4"})
    page = EventPageOut.model_validate(first.body)
    assert [e.seq for e in page.items] == [1, 2, 3, 4]
    second = api.call(
        "GET", EVENTS, {"exception_id": "EX-1"}, query={"limit": "4", "cursor": page.next_cursor or ""}
    )
    assert [e["seq"] for e in second.body["items"]] == [5, 6]
    assert second.body["next_cursor"] is None

    comments = api.call(
        "GET", EVENTS, {"exception_id": "EX-1"}, query={"event_type": "CommentAdded", "limit": "2"}
    )
    assert [e["payload"]["text"] for e in comments.body["items"]] == ["c0", "c1"]
    rest = api.call(
        "GET",
        EVENTS,
        {"exception_id": "EX-1"},
        query={"event_type": "CommentAdded", "limit": "2", "cursor": comments.body["next_cursor"]},
    )
    assert [e["payload"]["text"] for e in rest.body["items"]] == ["c2", "c3"]
    none = api.call("GET", EVENTS, {"exception_id": "EX-1"}, query={"event_type": "PlaybookCompleted"})
    assert none.body == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    "query", [{"event_type": "Bogus"}, {"limit": "0"}, {"limit": "500"}, {"cursor": "abc"}]
)
def test_events_reject_invalid_queries(api: ApiClient, query: dict[str, str]) -> None:
    create(api)
    response = api.call("GET", EVENTS, {"exception_id": "EX-1"}, query=query)
    assert_error(response, 422)
    assert problem_paths(response) == [next(iter(query))]


def test_a_cursor_of_another_exception_is_refused(api: ApiClient) -> None:
    create(api, "EX-1")
    create(api, "EX-2")
    for n in range(2):
        api.call("POST", COMMENTS, {"exception_id": "EX-1"}, body={"text": f"c{n}"})
    cursor = api.call("GET", EVENTS, {"exception_id": "EX-1"}, query={"limit": "1"}).body["next_cursor"]
    assert_error(api.call("GET", EVENTS, {"exception_id": "EX-2"}, query={"cursor": cursor}), 422)


def test_events_of_a_missing_exception_are_404(api: ApiClient) -> None:
    assert_error(api.call("GET", EVENTS, {"exception_id": "EX-9"}), 404, "EXCEPTION_NOT_FOUND")
    assert_error(api.call("GET", EVENTS, {"exception_id": "EX-9"}, query={"event_type": "CommentAdded"}), 404)
