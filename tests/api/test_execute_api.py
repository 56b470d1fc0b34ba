"""functions/execute: complete and skip steps; order, approval, actors and idempotency."""

from __future__ import annotations

from typing import Any

import pytest
from exception_playbooks.api.schemas import StepActionOut

from .conftest import TENANT_A, TENANT_B, ApiClient, assert_error, seed_packs, snapshot
from .scenario import EXCEPTION, STATUS, act, assigned, create, event_types, events, seed_standard

OPERATOR = (TENANT_A, "alice", ("operator",))
OTHER_OPERATOR = (TENANT_A, "omar", ("operator",))
AUTOMATION = (TENANT_A, "resolver-bot", ("automation",))
VIEWER = (TENANT_A, "victor", ("viewer",))


@pytest.fixture
def catch_all(api: ApiClient, repos: Any) -> dict[str, Any]:
    """EX-1 on pb-catch-all: notify, assign_owner, add_comment."""
    seed_standard(repos, TENANT_A)
    return assigned(api)


@pytest.fixture
def high(api: ApiClient, repos: Any) -> dict[str, Any]:
    """EX-1 on pb-high: notify, approval-required comment, non-skippable comment, comment."""
    seed_standard(repos, TENANT_A)
    return assigned(api, severity="high")


def test_complete_runs_the_steps_in_order_to_completion(api: ApiClient, catch_all: Any) -> None:
    first = act(api, 1, body={"notes": "desk informed"})
    assert first.status == 200
    answer = StepActionOut.model_validate(first.body)
    assert answer.action.action_type == "notify" and answer.action.outcome == "notification_sent"
    assert answer.current_step == 2 and answer.steps[0].status == "completed"
    assert answer.steps[0].notes == "desk informed"

    second = act(api, 2)
    assert second.body["action"]["action_type"] == "assign_owner"
    assert api.call("GET", EXCEPTION, {"exception_id": "EX-1"}).body["owner"] == {
        "type": "queue",
        "id": "settlement-ops",
    }

    third = act(api, 3)
    assert third.status == 200
    assert third.body["completed"] is True and third.body["current_step"] is None
    assert [s["status"] for s in third.body["steps"]] == ["completed"] * 3
    assert event_types(api)[-3:] == ["PlaybookStepCompleted", "CommentAdded", "PlaybookCompleted"]
    record = api.call("GET", EXCEPTION, {"exception_id": "EX-1"}).body
    assert record["current_step"] is None and record["status"] == "in_progress"
    timeline = events(api)
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    completed = next(e for e in timeline if e["event_type"] == "PlaybookStepCompleted")
    assert {
        k: completed["payload"][k] for k in ("playbook_id", "playbook_version", "step_order", "step_name")
    } == {
        "playbook_id": "pb-catch-all",
        "playbook_version": 1,
        "step_order": 1,
        "step_name": "Notify desk",
    }


def test_completion_auto_resolves_when_the_policy_says_so(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A, policy={"auto_resolve_on_completion": True})
    assigned(api)
    for order in (1, 2, 3):
        act(api, order)
    assert api.call("GET", EXCEPTION, {"exception_id": "EX-1"}).body["status"] == "resolved"
    last = events(api)[-1]
    assert last["event_type"] == "StatusChanged" and last["actor_type"] == "system"


def test_skip_moves_on_and_performs_nothing(api: ApiClient, catch_all: Any) -> None:
    response = act(api, 1, skip=True, body={"notes": "desk already knows"})
    assert response.status == 200
    assert response.body["action"] == {"action_type": "notify", "outcome": "skipped", "detail": {}}
    assert response.body["steps"][0]["status"] == "skipped" and response.body["current_step"] == 2
    assert event_types(api)[-1] == "PlaybookStepSkipped"


@pytest.mark.parametrize(
    "body", [None, {}, {"notes": ""}, {"notes": "   "}, {"notes": None}, {"notes": "x" * 4001}, {"notes": 12}]
)
def test_skip_requires_notes(api: ApiClient, catch_all: Any, aws: Any, body: Any) -> None:
    before = snapshot(aws)
    response = api.call(
        "POST",
        "/api/exceptions/{exception_id}/playbook/steps/{step_order}/skip",
        {"exception_id": "EX-1", "step_order": "1"},
        body=body,
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    assert snapshot(aws) == before


def test_skipping_a_non_skippable_step_is_409(api: ApiClient, high: Any) -> None:
    act(api, 1)
    act(api, 2)
    assert_error(act(api, 3, skip=True), 409, "STEP_NOT_SKIPPABLE")


def test_out_of_order_is_409_naming_the_expected_step(api: ApiClient, catch_all: Any, aws: Any) -> None:
    before = snapshot(aws)
    response = act(api, 2)
    assert_error(response, 409, "STEP_OUT_OF_ORDER")
    assert response.body["details"] == {"expected_step": 1}
    assert "1" in response.body["message"]
    assert snapshot(aws) == before


def test_double_completion_is_409(api: ApiClient, catch_all: Any) -> None:
    assert act(api, 1).status == 200
    again = act(api, 1)
    assert_error(again, 409, "STEP_OUT_OF_ORDER")
    assert again.body["details"] == {"expected_step": 2}
    assert event_types(api).count("PlaybookStepCompleted") == 1
    act(api, 2)
    act(api, 3)
    assert_error(act(api, 3), 409, "PLAYBOOK_COMPLETED")
    assert_error(act(api, 1, skip=True), 409, "PLAYBOOK_COMPLETED")


def test_a_step_beyond_the_playbook_is_404(api: ApiClient, catch_all: Any) -> None:
    assert_error(act(api, 4), 404, "STEP_NOT_FOUND")
    assert_error(act(api, 10**12), 404, "STEP_NOT_FOUND")
    assert_error(act(api, int("9" * 400)), 404, "STEP_NOT_FOUND")


@pytest.mark.parametrize("order", ["0", "-1", "abc", "1.5", "9" * 5000, " 1"])
def test_a_malformed_step_order_is_422(api: ApiClient, catch_all: Any, order: str) -> None:
    response = api.call(
        "POST",
        "/api/exceptions/{exception_id}/playbook/steps/{step_order}/complete",
        {"exception_id": "EX-1", "step_order": order},
    )
    assert_error(response, 422)
    assert response.body["details"]["errors"][0]["path"] == "step_order"


def test_no_playbook_is_409_and_missing_exception_404(api: ApiClient) -> None:
    create(api)
    assert_error(act(api, 1), 409, "NO_PLAYBOOK")
    assert_error(act(api, 1, "EX-404"), 404, "EXCEPTION_NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [[], "x", 5, {"actor_type": "robot"}, {"notes": "x" * 4001}, {"extra": True}, {"actor_id": "bad id"}],
)
def test_complete_rejects_invalid_bodies(api: ApiClient, catch_all: Any, body: Any) -> None:
    assert_error(act(api, 1, body=body), 422, "VALIDATION_ERROR")


# -- actors -----------------------------------------------------------------------------------
def test_a_human_may_not_act_as_someone_else(api: ApiClient, catch_all: Any, aws: Any) -> None:
    before = snapshot(aws)
    response = act(api, 1, body={"actor_type": "human", "actor_id": "bob"})
    assert_error(response, 403, "FORBIDDEN_ACTOR")
    assert snapshot(aws) == before
    assert act(api, 1, body={"actor_type": "human", "actor_id": "alice"}).status == 200


def test_an_agent_actor_needs_the_automation_role(api: ApiClient, catch_all: Any) -> None:
    assert_error(act(api, 1, body={"actor_type": "agent", "actor_id": "Bot"}), 403, "FORBIDDEN_ACTOR")
    assert_error(act(api, 1, body={"actor_type": "system"}), 403, "FORBIDDEN_ACTOR")


def test_automation_acts_as_agent_or_system_but_not_as_human(api: ApiClient, catch_all: Any) -> None:
    assert_error(act(api, 1, user=AUTOMATION), 403, "FORBIDDEN_ACTOR")
    response = act(api, 1, body={"actor_type": "agent", "actor_id": "resolver-bot:matcher"}, user=AUTOMATION)
    assert response.status == 200
    assert response.body["steps"][0]["actor_type"] == "agent"
    assert response.body["steps"][0]["actor_id"] == "resolver-bot:matcher"
    system = act(api, 2, body={"actor_type": "system"}, user=AUTOMATION)
    assert system.status == 200 and system.body["steps"][1]["actor_id"] == "resolver-bot"


def test_automation_on_an_approval_step_is_403_approval_required(api: ApiClient, high: Any, aws: Any) -> None:
    act(api, 1, body={"actor_type": "agent"}, user=AUTOMATION)
    before = snapshot(aws)
    response = act(api, 2, body={"actor_type": "agent", "actor_id": "resolver-bot"}, user=AUTOMATION)
    assert_error(response, 403, "APPROVAL_REQUIRED")
    skipped = act(api, 2, skip=True, body={"actor_type": "system", "notes": "n"}, user=AUTOMATION)
    assert_error(skipped, 403, "APPROVAL_REQUIRED")
    assert snapshot(aws) == before
    assert act(api, 2).status == 200  # a human approves


def test_policy_severity_approval_applies_to_automation(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A)
    seed_packs(repos, TENANT_A, policy={"human_approval": {"severities": ["medium"]}})
    assigned(api)  # no severity given: effective medium
    assert_error(act(api, 1, body={"actor_type": "agent"}, user=AUTOMATION), 403, "APPROVAL_REQUIRED")


def test_an_admin_who_also_has_automation_acts_either_way(api: ApiClient, catch_all: Any) -> None:
    both = (TENANT_A, "ada", ("admin", "automation"))
    assert act(api, 1, user=both).body["steps"][0]["actor_type"] == "human"
    assert act(api, 2, body={"actor_type": "agent"}, user=both).body["steps"][1]["actor_type"] == "agent"


def test_viewer_may_not_act(api: ApiClient, catch_all: Any) -> None:
    assert_error(act(api, 1, user=VIEWER), 403, "FORBIDDEN_ROLE")


def test_another_operator_may_act_as_themselves(api: ApiClient, catch_all: Any) -> None:
    response = act(api, 1, user=OTHER_OPERATOR)
    assert response.body["steps"][0]["actor_id"] == "omar"


# -- idempotency ------------------------------------------------------------------------------
def test_same_key_and_body_replays_the_first_answer_and_writes_nothing(
    api: ApiClient, catch_all: Any, aws: Any
) -> None:
    first = act(api, 1, body={"notes": "n"}, key="req-1")
    assert first.status == 200
    after_first = snapshot(aws)

    again = act(api, 1, body={"notes": "n"}, key="req-1")

    assert again.status == 200 and again.body == first.body
    assert snapshot(aws) == after_first
    assert event_types(api).count("PlaybookStepCompleted") == 1


def test_same_key_with_another_body_is_409(api: ApiClient, catch_all: Any, aws: Any) -> None:
    act(api, 1, body={"notes": "n"}, key="req-1")
    before = snapshot(aws)
    assert_error(act(api, 1, body={"notes": "other"}, key="req-1"), 409, "IDEMPOTENCY_KEY_REUSED")
    assert snapshot(aws) == before


def test_failed_answers_are_not_remembered(api: ApiClient, catch_all: Any) -> None:
    assert_error(act(api, 2, key="req-2"), 409, "STEP_OUT_OF_ORDER")
    act(api, 1)
    assert act(api, 2, key="req-2").status == 200


def test_keys_are_scoped_to_the_route(api: ApiClient, catch_all: Any) -> None:
    assert act(api, 1, key="k").status == 200
    response = act(api, 2, key="k")  # another step: another route instance
    assert response.status == 200 and response.body["current_step"] == 3
    skipped = act(api, 3, skip=True, key="k")
    assert skipped.status == 200 and skipped.body["completed"] is True


def test_a_key_from_another_tenant_is_another_key(api: ApiClient, repos: Any) -> None:
    other = (TENANT_B, "bob", ("operator",))
    seed_standard(repos, TENANT_A)
    seed_standard(repos, TENANT_B)
    assigned(api)
    api.user = other
    assigned(api)
    api.user = OPERATOR
    assert act(api, 1, key="shared").status == 200
    response = act(api, 1, key="shared", user=other)
    assert response.status == 200 and response.body["steps"][0]["actor_id"] == "bob"


@pytest.mark.parametrize("key", ["has space", "x" * 129, "ünïcode", "a/b", ""])
def test_a_malformed_idempotency_key_is_422(api: ApiClient, catch_all: Any, key: str) -> None:
    response = api.call(
        "POST",
        "/api/exceptions/{exception_id}/playbook/steps/{step_order}/complete",
        {"exception_id": "EX-1", "step_order": "1"},
        headers={"Idempotency-Key": key},
    )
    assert_error(response, 422)


def test_status_after_actions_matches_the_answer(api: ApiClient, catch_all: Any) -> None:
    answer = act(api, 1).body
    status = api.call("GET", STATUS, {"exception_id": "EX-1"}).body
    assert {k: v for k, v in answer.items() if k != "action"} == status
