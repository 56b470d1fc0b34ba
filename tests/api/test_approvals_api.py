"""Two-person approval through functions/execute: the approval matrix with the timeline after each.

EX-1 runs pb-catch-all (notify, assign_owner, add_comment); the tenant policy puts ``assign_owner``
under two-person approval. alice (operator) asks; bob and carol hold ``approver``; dave is an
operator without it; resolver-bot is a machine client.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from exception_playbooks.api.schemas import StepActionOut
from exception_playbooks.execution.approvals import expire_approval

from .conftest import TENANT_A, TENANT_B, ApiClient, ApiResponse, assert_error, snapshot
from .scenario import EXCEPTION, STATUS, act, assigned, event_types, events, seed_standard

APPROVE = "/api/exceptions/{exception_id}/playbook/steps/{step_order}/approve"
REJECT = "/api/exceptions/{exception_id}/playbook/steps/{step_order}/reject"

ALICE = (TENANT_A, "alice", ("operator",))
BOB = (TENANT_A, "bob", ("approver",))
CAROL = (TENANT_A, "carol", ("viewer", "approver"))
DAVE = (TENANT_A, "dave", ("operator",))
BOT = (TENANT_A, "resolver-bot", ("automation",))
VIEWER = (TENANT_A, "victor", ("viewer",))

RULE = {"action_types": ["assign_owner"], "quorum": 1, "roles": ["approver"], "ttl_minutes": 30}
BEFORE = [
    "ExceptionCreated",
    "PlaybookRecalculated",
    "PlaybookStarted",
    "PlaybookStepCompleted",
    "NotificationSent",
]


def _start(api: ApiClient, repos: Any, **rule: Any) -> None:
    seed_standard(repos, TENANT_A, policy={"two_person_approval": {**RULE, **rule}})
    assigned(api)
    assert act(api, 1, user=ALICE).status == 200


def decide(
    api: ApiClient,
    user: tuple[str, str, tuple[str, ...]],
    *,
    reject: bool = False,
    body: Any = None,
    key: str | None = None,
    order: int = 2,
) -> ApiResponse:
    return api.call(
        "POST",
        REJECT if reject else APPROVE,
        {"exception_id": "EX-1", "step_order": str(order)},
        body=body,
        headers={"Idempotency-Key": key} if key else None,
        user=user,
    )


def _request(api: ApiClient) -> dict[str, Any]:
    asked = act(api, 2, user=ALICE, body={"notes": "route to ops"})
    assert asked.status == 200, asked.body
    return asked.body  # type: ignore[no-any-return]


def _owner(api: ApiClient) -> Any:
    return api.call("GET", EXCEPTION, {"exception_id": "EX-1"}).body["owner"]


@pytest.fixture
def requested(api: ApiClient, repos: Any) -> dict[str, Any]:
    _start(api, repos)
    return _request(api)


def test_completing_a_covered_step_requests_approval_instead_of_performing_it(
    api: ApiClient, requested: dict[str, Any]
) -> None:
    answer = StepActionOut.model_validate(requested)
    assert answer.action.outcome == "approval_requested"
    assert answer.action.detail["quorum"] == 1 and answer.action.detail["roles"] == ["approver"]
    step = answer.steps[1]
    assert step.status == "awaiting_approval" and answer.current_step == 2
    assert step.approval is not None
    assert (step.approval.requested_by, step.approval.quorum, step.approval.approvals) == ("alice", 1, [])
    assert step.approval.expired is False and step.approval.expires_at > step.approval.requested_at
    assert _owner(api) is None  # not performed
    assert event_types(api) == [*BEFORE, "ApprovalRequested"]
    request = events(api)[-1]
    assert (request["actor_type"], request["actor_id"]) == ("human", "alice")
    assert request["payload"]["step_order"] == 2 and request["payload"]["notes"] == "route to ops"
    status = api.call("GET", STATUS, {"exception_id": "EX-1"}, user=BOB)
    assert status.status == 200 and status.body["steps"][1]["approval"]["requested_by"] == "alice"
    assert "approval" not in status.body["steps"][0]


def test_a_second_person_approves_and_the_step_is_performed_in_the_same_write(
    api: ApiClient, requested: dict[str, Any]
) -> None:
    approved = decide(api, BOB, body={"notes": "fine"})
    assert approved.status == 200, approved.body
    answer = StepActionOut.model_validate(approved.body)
    assert answer.action.action_type == "assign_owner" and answer.action.outcome == "owner_assigned"
    assert answer.steps[1].status == "completed" and answer.steps[1].approval is None
    assert answer.current_step == 3 and answer.steps[1].actor_id == "alice"
    assert _owner(api) == {"type": "queue", "id": "settlement-ops"}
    timeline = events(api)
    assert [e["event_type"] for e in timeline] == [
        *BEFORE,
        "ApprovalRequested",
        "ApprovalGranted",
        "PlaybookStepCompleted",
        "OwnerAssigned",
    ]
    granted, completed = timeline[-3], timeline[-2]
    assert (granted["actor_id"], granted["payload"]["approvals"], granted["payload"]["notes"]) == (
        "bob",
        1,
        "fine",
    )
    assert completed["actor_id"] == "alice" and completed["payload"]["approved_by"] == ["bob"]
    assert completed["payload"]["notes"] == "route to ops"
    # One transaction: the grant and the completion carry the same write's consecutive seqs.
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    assert_error(decide(api, CAROL), 409, "STEP_OUT_OF_ORDER")


@pytest.mark.parametrize(
    ("user", "body", "status", "code"),
    [
        pytest.param(ALICE, None, 403, "APPROVER_ROLE_REQUIRED", id="requester-without-the-role"),
        pytest.param(
            (TENANT_A, "alice", ("operator", "approver")), None, 403, "SELF_APPROVAL", id="requester"
        ),
        pytest.param(DAVE, None, 403, "APPROVER_ROLE_REQUIRED", id="wrong-role"),
        pytest.param(
            BOT,
            {"actor_type": "agent", "actor_id": "ResolutionAgent"},
            403,
            "APPROVAL_BY_AUTOMATION",
            id="automation",
        ),
        pytest.param(
            BOB, {"actor_type": "agent", "actor_id": "ResolutionAgent"}, 403, "APPROVAL_BY_AGENT", id="agent"
        ),
        pytest.param(BOB, {"actor_id": "carol"}, 403, "FORBIDDEN_ACTOR", id="someone-else"),
        pytest.param(VIEWER, None, 403, "FORBIDDEN_ROLE", id="viewer"),
        pytest.param((TENANT_B, "bob", ("approver",)), None, 404, "EXCEPTION_NOT_FOUND", id="other-tenant"),
    ],
)
def test_approvals_that_are_refused_write_nothing(
    api: ApiClient, aws: Any, requested: dict[str, Any], user: Any, body: Any, status: int, code: str
) -> None:
    before = snapshot(aws)
    assert_error(decide(api, user, body=body), status, code)
    assert snapshot(aws) == before
    assert event_types(api)[-1] == "ApprovalRequested"


def test_the_request_blocks_the_step_until_decided(
    api: ApiClient, aws: Any, requested: dict[str, Any]
) -> None:
    before = snapshot(aws)
    assert_error(act(api, 2, user=ALICE), 409, "APPROVAL_PENDING")
    assert_error(act(api, 2, user=DAVE, skip=True), 409, "APPROVAL_PENDING")
    assert_error(act(api, 2, user=BOT, body={"actor_type": "agent"}), 403, "APPROVAL_REQUIRED")
    assert_error(decide(api, BOB, order=3), 409, "STEP_OUT_OF_ORDER")
    assert snapshot(aws) == before


def test_quorum_two_needs_two_different_people(api: ApiClient, repos: Any) -> None:
    _start(api, repos, quorum=2)
    _request(api)
    first = decide(api, BOB)
    assert first.status == 200 and first.body["action"]["outcome"] == "approval_recorded"
    assert first.body["action"]["detail"] == {"approvals": 1, "quorum": 2}
    approval = first.body["steps"][1]["approval"]
    assert [a["actor_id"] for a in approval["approvals"]] == ["bob"] and approval["quorum"] == 2
    assert _owner(api) is None

    assert_error(decide(api, BOB), 409, "ALREADY_APPROVED")
    assert event_types(api)[-2:] == ["ApprovalRequested", "ApprovalGranted"]

    second = decide(api, CAROL)
    assert second.status == 200 and second.body["action"]["outcome"] == "owner_assigned"
    timeline = events(api)
    assert [e["event_type"] for e in timeline][len(BEFORE) :] == [
        "ApprovalRequested",
        "ApprovalGranted",
        "ApprovalGranted",
        "PlaybookStepCompleted",
        "OwnerAssigned",
    ]
    assert timeline[-2]["payload"]["approved_by"] == ["bob", "carol"]


def test_rejected_then_requested_again(api: ApiClient, aws: Any, requested: dict[str, Any]) -> None:
    before = snapshot(aws)
    assert_error(decide(api, BOB, reject=True, body={}), 422)
    assert_error(decide(api, BOB, reject=True, body={"notes": "  "}), 422)
    assert snapshot(aws) == before

    rejected = decide(api, BOB, reject=True, body={"notes": "wrong queue"})
    assert rejected.status == 200, rejected.body
    assert rejected.body["action"]["outcome"] == "approval_rejected"
    assert rejected.body["steps"][1]["status"] == "pending" and "approval" not in rejected.body["steps"][1]
    last = events(api)[-1]
    assert (last["event_type"], last["actor_id"], last["payload"]["reason"]) == (
        "ApprovalRejected",
        "bob",
        "wrong queue",
    )
    assert_error(decide(api, CAROL), 409, "NO_APPROVAL_PENDING")

    _request(api)
    assert decide(api, CAROL).status == 200
    assert event_types(api)[len(BEFORE) :] == [
        "ApprovalRequested",
        "ApprovalRejected",
        "ApprovalRequested",
        "ApprovalGranted",
        "PlaybookStepCompleted",
        "OwnerAssigned",
    ]


def test_the_requester_may_withdraw_their_own_request(api: ApiClient, requested: dict[str, Any]) -> None:
    withdrawn = decide(api, ALICE, reject=True, body={"notes": "asked too early"})
    assert withdrawn.status == 200
    assert event_types(api)[-1] == "ApprovalRejected"


def test_an_expired_request_cannot_be_approved_and_is_recorded_as_expired(
    api: ApiClient, aws: Any, repos: Any, requested: dict[str, Any]
) -> None:
    repos.clock.now += timedelta(minutes=31)
    status = api.call("GET", STATUS, {"exception_id": "EX-1"}).body
    assert status["steps"][1]["approval"]["expired"] is True
    before = snapshot(aws)
    assert_error(decide(api, BOB), 409, "APPROVAL_EXPIRED")
    assert snapshot(aws) == before

    assert expire_approval(repos, TENANT_A, "EX-1") is True
    assert expire_approval(repos, TENANT_A, "EX-1") is False  # idempotent
    expired = events(api)[-1]
    assert (expired["event_type"], expired["actor_type"]) == ("ApprovalExpired", "system")
    assert expired["payload"]["requested_by"] == "alice"
    assert api.call("GET", STATUS, {"exception_id": "EX-1"}).body["steps"][1]["status"] == "pending"
    assert_error(decide(api, BOB), 409, "NO_APPROVAL_PENDING")


def test_completing_after_expiry_records_the_expiry_and_a_new_request(
    api: ApiClient, repos: Any, requested: dict[str, Any]
) -> None:
    repos.clock.now += timedelta(minutes=31)
    again = act(api, 2, user=DAVE)
    assert again.status == 200 and again.body["steps"][1]["approval"]["requested_by"] == "dave"
    assert event_types(api)[len(BEFORE) :] == ["ApprovalRequested", "ApprovalExpired", "ApprovalRequested"]
    assert decide(api, BOB).status == 200
    assert _owner(api) == {"type": "queue", "id": "settlement-ops"}


def test_idempotency_keys_work_on_approve_and_reject(api: ApiClient, repos: Any) -> None:
    _start(api, repos, quorum=2)
    _request(api)
    first = decide(api, BOB, key="approve-1")
    again = decide(api, BOB, key="approve-1")
    assert (first.status, again.status) == (200, 200) and again.body == first.body
    assert event_types(api).count("ApprovalGranted") == 1
    assert_error(decide(api, BOB, key="approve-1", body={"notes": "other"}), 409, "IDEMPOTENCY_KEY_REUSED")

    rejected = decide(api, CAROL, reject=True, body={"notes": "no"}, key="reject-1")
    assert decide(api, CAROL, reject=True, body={"notes": "no"}, key="reject-1").body == rejected.body
    assert event_types(api).count("ApprovalRejected") == 1


def test_a_tenant_without_the_policy_sees_no_change(api: ApiClient, repos: Any) -> None:
    seed_standard(repos, TENANT_A)
    assigned(api)
    act(api, 1)
    done = act(api, 2)
    assert done.body["action"]["outcome"] == "owner_assigned"
    assert all("approval" not in step for step in done.body["steps"])
    assert_error(decide(api, BOB, order=3), 409, "NO_APPROVAL_PENDING")


@pytest.mark.parametrize("path", [APPROVE, REJECT], ids=["approve", "reject"])
def test_approve_and_reject_routes_check_token_then_role_then_tenant(
    api: ApiClient, aws: Any, requested: dict[str, Any], path: str
) -> None:
    params = {"exception_id": "EX-1", "step_order": "2"}
    body = {"notes": "why"}
    before = snapshot(aws)
    assert_error(api.call("POST", path, params, body=body, anonymous=True), 401)
    assert_error(api.call("POST", path, params, body=body, user=VIEWER), 403, "FORBIDDEN_ROLE")
    intruder = (TENANT_B, "mallory", ("operator", "approver", "admin"))
    assert_error(api.call("POST", path, params, body=body, user=intruder), 404, "EXCEPTION_NOT_FOUND")
    assert snapshot(aws) == before
    assert api.call("POST", path, params, body=body, user=BOB).status == 200
