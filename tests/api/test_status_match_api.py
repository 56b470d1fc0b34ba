"""functions/status and functions/match: playbook status, recalculate and simulate."""

from __future__ import annotations

from typing import Any

import pytest
from exception_playbooks.api.schemas import MatchOut, PlaybookStatusOut

from .conftest import TENANT_A, TENANT_B, ApiClient, assert_error, seed_packs, seed_playbook, snapshot, step
from .scenario import (
    DOMAIN,
    EXCEPTION,
    RECALCULATE,
    SIMULATE,
    STATUS,
    act,
    assigned,
    create,
    event_types,
    events,
    seed_standard,
)

VIEWER = (TENANT_A, "victor", ("viewer",))


# -- status -----------------------------------------------------------------------------------
def test_status_without_a_playbook(api: ApiClient) -> None:
    create(api)
    response = api.call("GET", STATUS, {"exception_id": "EX-1"}, user=VIEWER)
    assert response.status == 200
    assert response.body == {
        "exception_id": "EX-1",
        "playbook": None,
        "current_step": None,
        "completed": False,
        "steps": [],
    }


def test_status_lists_steps_with_their_state_and_computed_approval(api: ApiClient, repos: Any) -> None:
    # The policy makes every step on a critical exception need a human, and assign_owner always.
    seed_standard(
        repos, TENANT_A, policy={"human_approval": {"action_types": ["assign_owner"], "severities": []}}
    )
    assigned(api)
    act(api, 1, body={"notes": "done"})

    response = api.call("GET", STATUS, {"exception_id": "EX-1"}, user=VIEWER)

    assert response.status == 200
    status = PlaybookStatusOut.model_validate(response.body)
    assert status.playbook is not None and status.playbook.playbook_id == "pb-catch-all"
    assert status.playbook.version == 1 and status.playbook.conditions.priority == 0
    assert status.current_step == 2 and status.completed is False
    first, second, third = status.steps
    assert (first.status, first.actor_type, first.actor_id, first.notes) == (
        "completed",
        "human",
        "alice",
        "done",
    )
    assert first.at and first.at.endswith("Z")
    assert (second.status, second.requires_approval) == ("pending", True)
    assert (third.status, third.requires_approval) == ("pending", False)
    assert "actor_type" not in response.body["steps"][1]


def test_status_by_severity_policy(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A, policy={"human_approval": {"severities": ["high"]}})
    assigned(api, severity="high")
    steps = api.call("GET", STATUS, {"exception_id": "EX-1"}).body["steps"]
    assert [s["requires_approval"] for s in steps] == [True, True, True, True]


def test_status_of_a_missing_exception_is_404(api: ApiClient) -> None:
    assert_error(api.call("GET", STATUS, {"exception_id": "EX-404"}), 404, "EXCEPTION_NOT_FOUND")
    assert_error(api.call("GET", STATUS, {"exception_id": "a/b"}), 422)


# -- recalculate ------------------------------------------------------------------------------
def test_recalculate_assigns_the_winner(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A)
    create(api, severity="high")

    response = api.call("POST", RECALCULATE, {"exception_id": "EX-1"})

    assert response.status == 200
    answer = MatchOut.model_validate(response.body)
    assert answer.exception_id == "EX-1" and answer.changed is True and answer.current_step == 1
    assert answer.playbook is not None and answer.playbook.playbook_id == "pb-high"
    assert answer.reasoning.summary
    by_id = {c.playbook_id: c for c in answer.reasoning.candidates}
    assert set(by_id) == {"pb-high", "pb-catch-all"}
    assert by_id["pb-high"].matched and by_id["pb-catch-all"].matched
    checks = {c.condition: c for c in by_id["pb-high"].checks}
    assert checks["severity_in"].expected == ["high", "critical"]
    assert checks["severity_in"].actual == "high" and checks["severity_in"].passed is True
    assert event_types(api) == ["ExceptionCreated", "PlaybookRecalculated", "PlaybookStarted"]
    record = api.call("GET", EXCEPTION, {"exception_id": "EX-1"}).body
    assert record["status"] == "in_progress" and record["current_playbook_id"] == "pb-high"


def test_recalculate_again_changes_nothing_and_writes_nothing(api: ApiClient, repos: Any, aws: Any) -> None:
    seed_standard(repos, TENANT_A)
    assigned(api)
    act(api, 1)
    before = snapshot(aws)

    response = api.call("POST", RECALCULATE, {"exception_id": "EX-1"})

    assert response.status == 200
    assert response.body["changed"] is False and response.body["current_step"] == 2
    assert response.body["playbook"]["playbook_id"] == "pb-catch-all"
    assert snapshot(aws) == before


def test_recalculate_without_any_winner_writes_nothing(api: ApiClient, repos: Any, aws: Any) -> None:
    seed_playbook(
        repos,
        TENANT_A,
        "pb-other",
        [step("x", "add_comment", {"text": "t"})],
        match={"exception_type": "Other*"},
    )
    create(api)
    before = snapshot(aws)

    response = api.call("POST", RECALCULATE, {"exception_id": "EX-1"})

    assert response.status == 200
    assert response.body["changed"] is False and response.body["playbook"] is None
    assert response.body["current_step"] is None
    assert response.body["reasoning"]["candidates"][0]["matched"] is False
    assert snapshot(aws) == before


def test_recalculate_clears_the_assignment_when_nothing_matches_any_more(api: ApiClient, repos: Any) -> None:
    seed_playbook(
        repos,
        TENANT_A,
        "pb-tagged",
        [step("x", "add_comment", {"text": "t"})],
        match={"policy_tags": ["vip"]},
    )
    assigned(api, policy_tags=["vip"])
    api.call("PATCH", EXCEPTION, {"exception_id": "EX-1"}, body={"policy_tags": []})  # re-matches itself
    status = api.call("GET", STATUS, {"exception_id": "EX-1"}).body
    assert status["playbook"] is None and status["steps"] == []
    last = events(api)[-1]
    assert last["event_type"] == "PlaybookRecalculated" and last["payload"]["to"] is None


def test_recalculate_on_a_completed_playbook_is_409(api: ApiClient, repos: Any, aws: Any) -> None:
    seed_standard(repos, TENANT_A)
    assigned(api)
    for order in (1, 2, 3):
        assert act(api, order).status == 200
    before = snapshot(aws)
    assert_error(api.call("POST", RECALCULATE, {"exception_id": "EX-1"}), 409, "PLAYBOOK_COMPLETED")
    assert snapshot(aws) == before


def test_recalculate_missing_is_404(api: ApiClient) -> None:
    assert_error(api.call("POST", RECALCULATE, {"exception_id": "EX-404"}), 404)


def test_recalculate_ignores_a_body(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A)
    create(api)
    response = api.call("POST", RECALCULATE, {"exception_id": "EX-1"}, body={"anything": True})
    assert response.status == 200


# -- simulate ---------------------------------------------------------------------------------
def test_simulate_an_ad_hoc_exception_writes_nothing(api: ApiClient, repos: Any, aws: Any) -> None:
    seed_standard(repos, TENANT_A)
    before = snapshot(aws)

    response = api.call(
        "POST",
        SIMULATE,
        body={
            "exception": {
                "domain": DOMAIN,
                "exception_type": "TradeSettlementFailure",
                "severity": "critical",
            }
        },
        user=VIEWER,
    )

    assert response.status == 200
    answer = MatchOut.model_validate(response.body)
    assert answer.exception_id is None and answer.changed is False and answer.current_step is None
    assert answer.playbook is not None and answer.playbook.playbook_id == "pb-high"
    assert snapshot(aws) == before


def test_simulate_applies_the_same_effective_view_as_matching(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A, policy={"severity_overrides": {"Fraud": "critical"}})
    seed_playbook(
        repos,
        TENANT_A,
        "pb-urgent",
        [step("x", "add_comment", {"text": "t"})],
        match={"sla_minutes_remaining_lt": 60, "policy_tags": ["fast"]},
        priority=500,
    )
    seed_packs(
        repos,
        TENANT_A,
        policy={
            "severity_overrides": {"Fraud": "critical"},
            "tag_rules": [{"when": {"severity": "critical"}, "tags": ["fast"]}],
        },
    )

    def simulate(**exception: Any) -> dict[str, Any]:
        body = {"exception": {"domain": DOMAIN, **exception}}
        response = api.call("POST", SIMULATE, body=body)
        assert response.status == 200, response.body
        return response.body  # type: ignore[no-any-return]

    overdue = "2000-01-01T00:00:00Z"
    answer = simulate(exception_type="Fraud", sla_deadline=overdue)
    assert answer["playbook"]["playbook_id"] == "pb-urgent"  # override -> critical -> tag rule -> tag
    assert simulate(exception_type="Other", sla_deadline=overdue)["playbook"]["playbook_id"] == "pb-catch-all"
    far = "2999-01-01T00:00:00Z"
    assert simulate(exception_type="Fraud", sla_deadline=far)["playbook"]["playbook_id"] == "pb-high"

    # The stored exception gets the same answer from simulate and from recalculate.
    create(api, "EX-F", exception_type="Fraud", sla_deadline=overdue)
    simulated = api.call("POST", SIMULATE, body={"exception_id": "EX-F"}).body
    recalculated = api.call("POST", RECALCULATE, {"exception_id": "EX-F"}).body
    assert simulated["exception_id"] == "EX-F" and simulated["changed"] is False
    assert simulated["playbook"] == recalculated["playbook"]
    assert simulated["playbook"]["playbook_id"] == "pb-urgent"


def test_simulate_passes_over_playbooks_that_violate_the_policy(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A, policy={"blocked_action_types": ["assign_owner"]})
    response = api.call("POST", SIMULATE, body={"exception": {"domain": DOMAIN, "exception_type": "X"}})
    assert response.body["playbook"] is None
    catch_all = next(
        c for c in response.body["reasoning"]["candidates"] if c["playbook_id"] == "pb-catch-all"
    )
    assert catch_all["matched"] is True and catch_all["compliant"] is False


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"exception": {"domain": DOMAIN, "exception_type": "X"}, "exception_id": "EX-1"},
        {"exception": None, "exception_id": None},
        {"exception": {"domain": DOMAIN}},
        {"exception": {"domain": DOMAIN, "exception_type": "X", "status": "open"}},
        {"exception": {"domain": DOMAIN, "exception_type": "X", "severity": "huge"}},
        {"exception": {"domain": DOMAIN, "exception_type": "X", "sla_deadline": "2026-01-01T00:00:00"}},
        {"exception": [], "extra": 1},
        {"exception_id": "not valid!"},
    ],
)
def test_simulate_rejects_invalid_bodies(api: ApiClient, body: dict[str, Any]) -> None:
    assert_error(api.call("POST", SIMULATE, body=body), 422, "VALIDATION_ERROR")


def test_simulate_an_unknown_or_foreign_exception_is_404(api: ApiClient) -> None:
    create(api)
    assert_error(api.call("POST", SIMULATE, body={"exception_id": "EX-404"}), 404)
    foreign = api.call("POST", SIMULATE, body={"exception_id": "EX-1"}, user=(TENANT_B, "bob", ("viewer",)))
    assert_error(foreign, 404)


def test_simulate_with_no_playbooks(api: ApiClient) -> None:
    response = api.call("POST", SIMULATE, body={"exception": {"domain": DOMAIN, "exception_type": "X"}})
    assert response.status == 200
    assert response.body["playbook"] is None and response.body["reasoning"]["candidates"] == []
