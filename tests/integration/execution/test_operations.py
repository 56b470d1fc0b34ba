"""Execution engine against moto: start, step order, skip, completion, approval, idempotency, status."""

from __future__ import annotations

import pytest
from exception_playbooks.errors import Conflict, Forbidden, NotFound
from exception_playbooks.execution import operations, projection
from exception_playbooks.execution.operations import Change
from exception_playbooks.models.enums import ActorType, EventType, ExceptionStatus, Severity
from exception_playbooks.models.event import Actor, NewEvent
from exception_playbooks.models.packs import PolicyPackInput

from ..factories import playbook, step
from ..support import snapshot
from .world import (
    AUTOMATION,
    OPERATOR,
    OPERATOR_2,
    OUTSIDER,
    POLICY_PACK,
    TENANT,
    assign,
    cold,
    complete,
    count_stats,
    create,
    events_of,
    settle_steps,
    skip,
    types_of,
)


def _record(repos, exception_id="EX-1"):
    return operations.load_exception(repos, TENANT, exception_id)


def _assert_projection_is_the_fold(repos, exception_id="EX-1"):
    record = _record(repos, exception_id)
    events = events_of(repos, exception_id)
    assert record.projection == projection.fold(events)
    assert [e.seq for e in events] == list(range(1, len(events) + 1)) == list(range(1, record.last_seq + 1))


# -- start ----------------------------------------------------------------------------------------
def test_assigning_starts_at_step_1_and_moves_open_to_in_progress(world, clock):
    clock.advance(10)
    saved = assign(world, "EX-1")

    assert saved.status is ExceptionStatus.IN_PROGRESS
    assert (saved.current_playbook_id, saved.current_playbook_version, saved.current_step) == (
        "pb-settle",
        1,
        1,
    )
    assert saved.projection.started_at == "2026-01-05T09:00:10.000Z"
    assert [s.status.value for s in saved.projection.steps] == ["pending"] * 5
    [created, started] = events_of(world)
    assert (created.event_type.value, started.event_type.value) == ("ExceptionCreated", "PlaybookStarted")
    assert started.payload == {
        "playbook_id": "pb-settle",
        "playbook_version": 1,
        "playbook_name": "Playbook pb-settle",
        "step_count": 5,
        "reason": "test",
    }
    assert (started.actor_type.value, started.actor_id) == ("agent", "PolicyAgent")
    assert world.stats.get(TENANT, "pb-settle")["runs_started"] == 0  # counted from the timeline
    count_stats(world)
    assert world.stats.get(TENANT, "pb-settle")["runs_started"] == 1
    _assert_projection_is_the_fold(world)


def test_assigning_keeps_a_status_other_than_open(world):
    create(world, "EX-2", status=ExceptionStatus.ESCALATED)
    assert assign(world, "EX-2").status is ExceptionStatus.ESCALATED


# -- order ----------------------------------------------------------------------------------------
def test_steps_run_in_order_only_the_current_one_may_be_acted_on(world, dynamodb):
    assign(world, "EX-1")
    before = snapshot(dynamodb)
    for order in (2, 3, 5):
        for act in (complete, skip):
            with pytest.raises(Conflict) as caught:
                act(world, order, notes="n")
            assert caught.value.code == "STEP_OUT_OF_ORDER"
            assert caught.value.details == {"expected_step": 1}
            assert "step is 1" in caught.value.message
    assert snapshot(dynamodb) == before

    response = complete(world, 1)
    assert response["current_step"] == 2
    with pytest.raises(Conflict) as caught:  # completing step 1 again
        complete(world, 1)
    assert caught.value.code == "STEP_OUT_OF_ORDER"
    assert caught.value.details == {"expected_step": 2}
    assert "already done" in caught.value.message
    with pytest.raises(Conflict):
        skip(world, 1, notes="late")
    assert types_of(events_of(world)).count("PlaybookStepCompleted") == 1
    _assert_projection_is_the_fold(world)


def test_a_step_beyond_the_playbook_is_not_found(world):
    assign(world, "EX-1")
    for order in (0, 6, 99):
        with pytest.raises(NotFound) as caught:
            complete(world, order)
        assert caught.value.code == "STEP_NOT_FOUND"


def test_no_playbook_assigned_is_conflict(world):
    with pytest.raises(Conflict) as caught:
        complete(world, 1)
    assert caught.value.code == "NO_PLAYBOOK"


def test_missing_exception_and_other_tenant_are_not_found(world):
    assign(world, "EX-1")
    for principal, exception_id in ((OPERATOR, "EX-404"), (OUTSIDER, "EX-1")):
        with pytest.raises(NotFound):
            complete(world, 1, principal=principal, exception_id=exception_id)
        with pytest.raises(NotFound):
            operations.playbook_status(world, principal, exception_id)
        with pytest.raises(NotFound):
            operations.recalculate(world, principal, exception_id)
    assert _record(world).current_step == 1


# -- skip -----------------------------------------------------------------------------------------
def test_skip_performs_nothing_and_records_the_notes(world, clock):
    assign(world, "EX-1")
    clock.advance(3)
    response = skip(world, 1, notes="trader on holiday")

    assert response["action"] == {"action_type": "notify", "outcome": "skipped", "detail": {}}
    assert response["current_step"] == 2
    assert response["steps"][0] | {} == {
        **response["steps"][0],
        "status": "skipped",
        "actor_type": "human",
        "actor_id": "alice",
        "notes": "trader on holiday",
        "at": "2026-01-05T09:00:03.000Z",
    }
    last = events_of(world)[-1]
    assert last.event_type.value == "PlaybookStepSkipped"
    assert last.payload == {
        "playbook_id": "pb-settle",
        "playbook_version": 1,
        "step_order": 1,
        "step_name": "Notify trader",
        "action_type": "notify",
        "actor_type": "human",
        "actor_id": "alice",
        "notes": "trader on holiday",
    }
    assert "NotificationSent" not in types_of(events_of(world))
    count_stats(world)
    assert world.stats.get(TENANT, "pb-settle")["steps_skipped"] == 1


def test_the_core_accepts_a_skip_without_notes(world):
    """Notes are required by the API layer; the core records whatever it is given."""
    assign(world, "EX-1")
    skip(world, 1)
    assert events_of(world)[-1].payload["notes"] is None


def test_a_step_that_is_not_skippable_cannot_be_skipped(world, dynamodb):
    assign(world, "EX-1")
    for order in range(1, 5):
        skip(world, order, notes="n")
    before = snapshot(dynamodb)
    with pytest.raises(Conflict) as caught:
        skip(world, 5, notes="please")
    assert caught.value.code == "STEP_NOT_SKIPPABLE"
    assert snapshot(dynamodb) == before
    assert complete(world, 5)["completed"] is True


# -- completion -----------------------------------------------------------------------------------
def test_after_the_last_step_the_playbook_completes(world):
    assign(world, "EX-1")
    for order in range(1, 5):
        complete(world, order)
    response = complete(world, 5, notes="done")

    assert response["completed"] is True
    assert response["current_step"] is None
    assert [s["status"] for s in response["steps"]] == ["completed"] * 5
    record = _record(world)
    assert (record.current_step, record.projection.completed) == (None, True)
    assert record.status is ExceptionStatus.PENDING_REVIEW  # no auto-resolve by default
    assert types_of(events_of(world))[-2:] == ["StatusChanged", "PlaybookCompleted"]
    completed = events_of(world)[-1]
    assert (completed.actor_type.value, completed.actor_id) == ("system", "system")
    assert completed.payload == {"playbook_id": "pb-settle", "playbook_version": 1, "step_count": 5}
    count_stats(world)
    stats = world.stats.get(TENANT, "pb-settle")
    assert (stats["runs_started"], stats["steps_completed"]) == (1, 5)
    _assert_projection_is_the_fold(world)


def test_a_completed_playbook_is_final(world, dynamodb):
    assign(world, "EX-1")
    for order in range(1, 6):
        complete(world, order)
    before = snapshot(dynamodb)
    for act in (
        lambda: complete(world, 5),
        lambda: complete(world, 1),
        lambda: skip(world, 3, notes="x"),
        lambda: operations.recalculate(world, OPERATOR, "EX-1"),
    ):
        with pytest.raises(Conflict) as caught:
            act()
        assert caught.value.code == "PLAYBOOK_COMPLETED"
    assert snapshot(dynamodb) == before


def _auto_resolve(repos, **policy):
    repos.packs.put_policy(TENANT, PolicyPackInput.model_validate({**POLICY_PACK, **policy}))


def test_auto_resolve_on_completion_when_the_policy_says_so_and_it_is_legal(world):
    _auto_resolve(world, auto_resolve_on_completion=True)
    world.playbooks.save_version(TENANT, playbook("pb-short", steps=[step(1, "add_comment", {"text": "hi"})]))
    create(world, "EX-2")
    assign(world, "EX-2", "pb-short")
    response = complete(world, 1, exception_id="EX-2")

    assert response["completed"] is True
    record = _record(world, "EX-2")
    assert record.status is ExceptionStatus.RESOLVED
    events = events_of(world, "EX-2")
    assert types_of(events)[-3:] == ["CommentAdded", "PlaybookCompleted", "StatusChanged"]
    changed = events[-1]
    assert (changed.actor_type.value, changed.actor_id) == ("system", "system")
    assert changed.payload == {
        "from": "in_progress",
        "to": "resolved",
        "reason": "auto_resolve_on_completion",
    }
    _assert_projection_is_the_fold(world, "EX-2")


def test_auto_resolve_is_left_out_when_the_transition_is_illegal(world):
    _auto_resolve(world, auto_resolve_on_completion=True)
    steps = [step(1, "set_status", {"status": "resolved"}), step(2, "set_status", {"status": "closed"})]
    world.playbooks.save_version(TENANT, playbook("pb-close", steps=steps))
    create(world, "EX-2")
    assign(world, "EX-2", "pb-close")
    complete(world, 1, exception_id="EX-2")
    complete(world, 2, exception_id="EX-2")  # closed -> resolved is not legal: stays closed
    assert _record(world, "EX-2").status is ExceptionStatus.CLOSED
    assert types_of(events_of(world, "EX-2"))[-2:] == ["StatusChanged", "PlaybookCompleted"]


def test_auto_resolve_after_skipping_the_last_step(world):
    _auto_resolve(world, auto_resolve_on_completion=True)
    world.playbooks.save_version(TENANT, playbook("pb-short", steps=[step(1, "add_comment", {"text": "hi"})]))
    create(world, "EX-2")
    assign(world, "EX-2", "pb-short")
    skip(world, 1, exception_id="EX-2", notes="nothing to say")
    assert _record(world, "EX-2").status is ExceptionStatus.RESOLVED


# -- approval -------------------------------------------------------------------------------------
def _approval_world(repos, step_flag=False, **policy):
    repos.packs.put_policy(TENANT, PolicyPackInput.model_validate({**POLICY_PACK, **policy}))
    steps = [
        step(1, "add_comment", {"text": "x"}, requires_approval=step_flag),
        step(2, "add_comment", {"text": "y"}),
    ]
    repos.playbooks.save_version(TENANT, playbook("pb-ap", steps=steps))
    assign(repos, "EX-1", "pb-ap")


@pytest.mark.parametrize(
    ("setup", "risky"),
    [
        ({}, False),
        ({"step_flag": True}, True),
        ({"human_approval": {"action_types": ["add_comment"]}}, True),
        ({"human_approval": {"action_types": ["notify"]}}, False),
        ({"human_approval": {"severities": ["high"]}}, True),  # EX-1 is high
        ({"human_approval": {"severities": ["critical", "low"]}}, False),
    ],
    ids=["safe", "step-flag", "policy-action-type", "other-action-type", "policy-severity", "other-severity"],
)
@pytest.mark.parametrize("actor", ["human", "agent", "system"])
def test_approval_matrix_through_the_engine(world, dynamodb, setup, risky, actor):
    _approval_world(world, **setup)
    principal = OPERATOR if actor == "human" else AUTOMATION
    before = snapshot(dynamodb)
    if risky and actor != "human":
        with pytest.raises(Forbidden) as caught:
            complete(world, 1, principal=principal, actor_type=ActorType(actor))
        assert caught.value.code == "APPROVAL_REQUIRED"
        assert caught.value.details == {"step_order": 1}
        assert snapshot(dynamodb) == before
    else:
        response = complete(world, 1, principal=principal, actor_type=ActorType(actor))
        step_view = response["steps"][0]
        assert step_view["requires_approval"] is risky
        assert (step_view["actor_type"], step_view["actor_id"]) == (
            actor,
            "alice" if actor == "human" else "robot",
        )


@pytest.mark.parametrize(("step_flag", "allowed"), [(False, True), (True, False)])
def test_skipping_a_step_that_needs_a_human_needs_a_human_too(world, dynamodb, step_flag, allowed):
    _approval_world(world, step_flag=step_flag)
    before = snapshot(dynamodb)
    if allowed:
        assert (
            skip(world, 1, principal=AUTOMATION, actor_type=ActorType.AGENT, notes="n")["current_step"] == 2
        )
    else:
        with pytest.raises(Forbidden):
            skip(world, 1, principal=AUTOMATION, actor_type=ActorType.AGENT, notes="n")
        assert snapshot(dynamodb) == before
        assert skip(world, 1, notes="n")["current_step"] == 2  # a human may


def test_high_risk_actions_need_a_human(world):
    steps = [
        step(1, "call_tool", {"tool_id": "cancel_trade", "payload": {}}),
        step(2, "set_status", {"status": "escalated"}),
        step(3, "set_status", {"status": "resolved"}),
        step(4, "set_status", {"status": "closed"}),
    ]
    world.playbooks.save_version(TENANT, playbook("pb-risk", steps=steps))
    assign(world, "EX-1", "pb-risk")
    status = operations.playbook_status(world, OPERATOR, "EX-1")
    assert [s["requires_approval"] for s in status["steps"]] == [True, False, True, True]

    with pytest.raises(Forbidden):
        complete(world, 1, principal=AUTOMATION, actor_type=ActorType.AGENT)
    complete(world, 1)  # a human may
    complete(world, 2, principal=AUTOMATION, actor_type=ActorType.SYSTEM)  # safe: automation may
    for actor_type in (ActorType.AGENT, ActorType.SYSTEM):
        with pytest.raises(Forbidden):
            complete(world, 3, principal=AUTOMATION, actor_type=actor_type)
    complete(world, 3)
    with pytest.raises(Forbidden):
        skip(world, 4, principal=AUTOMATION, actor_type=ActorType.AGENT, notes="n")


def test_actor_rules_of_the_principal(world):
    assign(world, "EX-1")
    with pytest.raises(Forbidden) as caught:
        complete(world, 1, actor_id="bob")  # a human acts only as themselves
    assert caught.value.code == "FORBIDDEN_ACTOR"
    with pytest.raises(Forbidden):
        complete(world, 1, actor_type=ActorType.AGENT)  # an operator token is not automation
    with pytest.raises(Forbidden):
        complete(world, 1, principal=AUTOMATION)  # automation is not a human
    assert _record(world).current_step == 1


def test_effective_severity_drives_policy_approval(world):
    """The tenant override raises EX-1 (given low) to critical, which the policy reserves for humans."""
    create(world, "EX-2", severity=Severity.LOW)
    world.packs.put_policy(
        TENANT,
        PolicyPackInput.model_validate(
            {
                **POLICY_PACK,
                "severity_overrides": {"TradeSettlementFailure": "critical"},
                "human_approval": {"severities": ["critical"]},
            }
        ),
    )
    assign(world, "EX-2")
    with pytest.raises(Forbidden):
        complete(world, 1, principal=AUTOMATION, actor_type=ActorType.AGENT, exception_id="EX-2")


# -- idempotency ----------------------------------------------------------------------------------
def test_same_key_and_body_replays_the_first_answer_and_writes_nothing(world, dynamodb, calls):
    assign(world, "EX-1")
    first = complete(world, 1, notes="n", idempotency_key="key-1")
    before = snapshot(dynamodb)
    calls.reset()

    again = complete(world, 1, notes="n", idempotency_key="key-1")

    assert again == first
    assert calls.operations == ["BatchGetItem"]
    assert snapshot(dynamodb) == before
    assert types_of(events_of(world)).count("PlaybookStepCompleted") == 1


def test_same_key_with_another_body_is_idempotency_key_reused(world, dynamodb):
    assign(world, "EX-1")
    complete(world, 1, notes="n", idempotency_key="key-1")
    before = snapshot(dynamodb)
    with pytest.raises(Conflict) as caught:
        complete(world, 1, notes="different", idempotency_key="key-1")
    assert caught.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert snapshot(dynamodb) == before


def test_keys_are_scoped_to_the_route(world):
    assign(world, "EX-1")
    complete(world, 1, idempotency_key="k")
    response = complete(world, 2, idempotency_key="k")  # another step: another route
    assert response["current_step"] == 3
    skip(world, 3, notes="x", idempotency_key="k")
    assert _record(world).current_step == 4


def test_a_failed_command_is_not_remembered(world):
    assign(world, "EX-1")
    with pytest.raises(Conflict):
        complete(world, 2, idempotency_key="k")
    complete(world, 1)
    assert complete(world, 2, idempotency_key="k")["current_step"] == 3


def test_an_idempotent_command_on_a_missing_exception_is_not_found(world):
    with pytest.raises(NotFound):
        complete(world, 1, exception_id="EX-404", idempotency_key="k")


def test_a_retry_racing_the_first_attempt_replays_it(world, calls):
    """The retry read no record, then the first attempt committed: the retry's transaction fails on
    the idempotency item and answers the stored response instead of a 409."""
    assign(world, "EX-1")
    calls.reset()
    first: dict = {}
    calls.before(1, lambda: first.update(complete(world, 1, notes="n", idempotency_key="k")))
    again = complete(world, 1, notes="n", idempotency_key="k")
    assert again == first
    assert types_of(events_of(world)).count("PlaybookStepCompleted") == 1


def test_double_completion_race_one_wins_the_other_conflicts(world, calls):
    """The loser's transaction is cancelled; re-run from a fresh read it finds the step done."""
    assign(world, "EX-1")
    calls.reset()
    calls.before(1, lambda: complete(world, 1, principal=OPERATOR_2))
    with pytest.raises(Conflict) as caught:
        complete(world, 1)
    assert caught.value.code == "STEP_OUT_OF_ORDER"
    assert caught.value.details == {"expected_step": 2}
    completed = [e for e in events_of(world) if e.event_type.value == "PlaybookStepCompleted"]
    assert [(e.actor_id, e.payload["step_order"]) for e in completed] == [("bob", 1)]
    _assert_projection_is_the_fold(world)


# -- status ---------------------------------------------------------------------------------------
API_STEP_KEYS = {"step_order", "name", "action_type", "params", "requires_approval", "status"}
ACTED_KEYS = {"actor_type", "actor_id", "at", "notes"}
# ``skippable`` is an addition to API.md's example, read by the UI (playbook-panel.js) to offer "skip".
EXTRA_STEP_KEYS = {"skippable"}


def test_status_without_a_playbook(world):
    assert operations.playbook_status(world, OPERATOR, "EX-1") == {
        "exception_id": "EX-1",
        "playbook": None,
        "current_step": None,
        "completed": False,
        "steps": [],
    }


def test_status_shape_is_api_md(world, clock):
    assign(world, "EX-1")
    clock.advance(1)
    complete(world, 1, notes="called")
    status = operations.playbook_status(world, OPERATOR, "EX-1")

    assert set(status) == {"exception_id", "playbook", "current_step", "completed", "steps"}
    assert status["playbook"] == {
        "playbook_id": "pb-settle",
        "name": "Playbook pb-settle",
        "version": 1,
        "description": None,
        "conditions": {"match": {"domain": "Finance"}, "priority": 0},
    }
    assert (status["exception_id"], status["current_step"], status["completed"]) == ("EX-1", 2, False)
    done, pending = status["steps"][0], status["steps"][1]
    assert set(done) == API_STEP_KEYS | ACTED_KEYS | EXTRA_STEP_KEYS
    assert set(pending) == API_STEP_KEYS | EXTRA_STEP_KEYS
    assert done == {
        "step_order": 1,
        "name": "Notify trader",
        "action_type": "notify",
        "params": settle_steps()[0].params,
        "requires_approval": False,
        "skippable": True,
        "status": "completed",
        "actor_type": "human",
        "actor_id": "alice",
        "at": "2026-01-05T09:00:01.000Z",
        "notes": "called",
    }
    assert [s["status"] for s in status["steps"]] == ["completed", "pending", "pending", "pending", "pending"]
    assert [s["step_order"] for s in status["steps"]] == [1, 2, 3, 4, 5]


def test_step_answer_is_the_status_plus_the_action(world):
    assign(world, "EX-1")
    response = complete(world, 1)
    assert set(response) == {"exception_id", "playbook", "current_step", "completed", "steps", "action"}
    assert set(response["action"]) == {"action_type", "outcome", "detail"}
    assert {k: v for k, v in response.items() if k != "action"} == operations.playbook_status(
        world, OPERATOR, "EX-1"
    )


def test_version_pinning_new_versions_do_not_change_a_running_exception(world):
    assign(world, "EX-1")
    complete(world, 1)
    v2_steps = [
        step(1, "add_comment", {"text": "v2 only"}, name="New first"),
        step(2, "add_comment", {"text": "b"}),
    ]
    world.playbooks.save_version(
        TENANT, playbook("pb-settle", 2, steps=v2_steps, match={"domain": "Finance"})
    )

    status = operations.playbook_status(world, OPERATOR, "EX-1")
    assert status["playbook"]["version"] == 1
    assert [s["name"] for s in status["steps"]] == [s.name for s in settle_steps()]
    response = complete(world, 2)  # runs v1's step 2 (assign_owner), not v2's
    assert response["action"]["action_type"] == "assign_owner"
    assert events_of(world)[-2].payload["playbook_version"] == 1
    recalculated = operations.recalculate(world, OPERATOR, "EX-1")  # same playbook id: stays pinned
    assert (recalculated["changed"], recalculated["playbook"]["version"]) == (False, 1)
    assert _record(world).current_playbook_version == 1
    # A new exception starts on the latest version.
    create(world, "EX-2")
    assert assign(world, "EX-2").current_playbook_version == 2


def test_a_running_playbook_keeps_running_after_it_is_deactivated(world):
    assign(world, "EX-1")
    world.playbooks.deactivate(TENANT, "pb-settle")
    cold()  # even a cold Lambda finds the pinned version
    assert complete(world, 1)["current_step"] == 2
    assert operations.playbook_status(world, OPERATOR, "EX-1")["playbook"]["playbook_id"] == "pb-settle"


def test_an_idempotency_key_is_forgotten_after_its_ttl(world, clock):
    assign(world, "EX-1")
    complete(world, 1, notes="n", idempotency_key="k")
    clock.advance(24 * 3600 - 1)
    with pytest.raises(Conflict) as caught:
        complete(world, 1, notes="other", idempotency_key="k")
    assert caught.value.code == "IDEMPOTENCY_KEY_REUSED"
    clock.advance(1)
    # Expired (even though TTL has not deleted it yet): the command runs as a new one.
    with pytest.raises(Conflict) as caught:
        complete(world, 1, notes="other", idempotency_key="k")
    assert caught.value.code == "STEP_OUT_OF_ORDER"


def test_the_exception_item_stays_within_dynamodb_limits_at_the_documented_maxima(world):
    """100 steps, 4,000-character notes (16 KB as UTF-8) and 2 x 60 KB of attributes/raw payload:
    the item keeps note excerpts (the full notes stay in the events) and remains under 400 KB."""
    notes = "\U0001f600" * 4000
    world.playbooks.save_version(
        TENANT, playbook("pb-max", steps=[step(n, "add_comment", {"text": "x"}) for n in range(1, 101)])
    )
    create(world, "EX-MAX", attributes={"blob": "a" * 60000}, raw_payload={"blob": "b" * 60000})
    assign(world, "EX-MAX", "pb-max")
    human = Actor(actor_type=ActorType.HUMAN, actor_id="alice")
    for first in (1, 51):  # steps 1..99 in two transactions (at most 100 items each)
        record = operations.load_exception(world, TENANT, "EX-MAX")
        skipped = [
            NewEvent(
                event_type=EventType.PLAYBOOK_STEP_SKIPPED,
                actor=human,
                payload={"playbook_id": "pb-max", "playbook_version": 1, "step_order": n, "notes": notes},
            )
            for n in range(first, min(first + 50, 100))
        ]
        operations.commit_change(world, TENANT, Change(record, skipped))

    response = complete(world, 100, exception_id="EX-MAX", notes=notes)

    assert response["completed"] is True
    assert {len(s["notes"]) for s in response["steps"]} == {projection.MAX_PROJECTED_NOTES}
    assert response["steps"][0]["notes"].endswith("\u2026")
    last = [e for e in events_of(world, "EX-MAX") if e.event_type.value == "PlaybookStepCompleted"][-1]
    assert last.payload["notes"] == notes
    _assert_projection_is_the_fold(world, "EX-MAX")
