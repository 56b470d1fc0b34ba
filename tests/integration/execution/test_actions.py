"""Every action through the engine: its effect on the record, its events, and its refusals (409,
nothing written)."""

from __future__ import annotations

import pytest
from exception_playbooks.errors import Conflict
from exception_playbooks.models.enums import ExceptionStatus
from exception_playbooks.models.packs import DomainPackInput, PolicyPackInput
from exception_playbooks.models.playbook import Step

from ..factories import playbook, step
from ..support import snapshot
from .world import DOMAIN_PACK, POLICY_PACK, TENANT, assign, complete, create, events_of, types_of


def _run_single(repos, the_step: Step, *, exception_id="EX-1", **create_fields):
    """Assign a one-step playbook to a fresh exception and complete its step."""
    repos.playbooks.save_version(TENANT, playbook(f"pb-{exception_id}", steps=[the_step]))
    if exception_id != "EX-1":
        create(repos, exception_id, **create_fields)
    assign(repos, exception_id, f"pb-{exception_id}")
    return complete(repos, 1, exception_id=exception_id)


def _event(repos, event_type, exception_id="EX-1"):
    [found] = [e for e in events_of(repos, exception_id) if e.event_type.value == event_type]
    return found


def _refused(repos, dynamodb, the_step: Step, code: str):
    repos.playbooks.save_version(TENANT, playbook("pb-x", steps=[the_step]))
    assign(repos, "EX-1", "pb-x")
    before = snapshot(dynamodb)
    with pytest.raises(Conflict) as caught:
        complete(repos, 1)
    assert caught.value.code == code
    assert snapshot(dynamodb) == before
    return caught.value


# -- notify ---------------------------------------------------------------------------------------
def test_notify_records_the_rendered_text_and_warns_about_missing_values(world):
    notify = step(
        1,
        "notify",
        {
            "channel": "slack",
            "recipient": "{exception.attributes.trader}",
            "group": "{policy.escalation}",
            "subject": "[{exception.severity}] {exception.exception_type} on {domain.name}",
            "message": "Desk {domain.desk}, books {exception.attributes.books}, "
            "ref {exception.attributes.ref.id}",
        },
    )
    response = _run_single(world, notify)

    sent = _event(world, "NotificationSent")
    assert sent.payload == {
        "step_order": 1,
        "channel": "slack",
        "recipient": "ann@acme",
        "group": "ops@acme",
        "subject": "[high] TradeSettlementFailure on Finance",
        "message": 'Desk FX desk, books ["A","B"], ref ',
        "warnings": ["exception.attributes.ref.id"],
    }
    assert (sent.actor_type.value, sent.actor_id) == ("human", "alice")
    assert _event(world, "PlaybookStepCompleted").payload["warnings"] == ["exception.attributes.ref.id"]
    assert response["action"] == {
        "action_type": "notify",
        "outcome": "notification_sent",
        "detail": {
            "channel": "slack",
            "recipient": "ann@acme",
            "group": "ops@acme",
            "subject": sent.payload["subject"],
        },
    }


def test_notify_to_a_group_only(world):
    _run_single(world, step(1, "notify", {"channel": "log", "group": "desk", "message": "m"}))
    sent = _event(world, "NotificationSent").payload
    assert (sent["recipient"], sent["group"], sent["subject"], sent["warnings"]) == (None, "desk", "", [])


# -- assign_owner ---------------------------------------------------------------------------------
def test_assign_owner_to_a_user_from_a_template(world):
    response = _run_single(world, step(1, "assign_owner", {"user_id": "{exception.attributes.trader}"}))
    assert world.exceptions.get(TENANT, "EX-1").owner.model_dump() == {"type": "user", "id": "ann@acme"}
    assert _event(world, "OwnerAssigned").payload == {
        "step_order": 1,
        "owner": {"type": "user", "id": "ann@acme"},
        "previous": None,
    }
    assert response["action"]["detail"] == {"owner": {"type": "user", "id": "ann@acme"}}


def test_assign_owner_to_a_queue_records_the_previous_owner(world):
    steps = [step(1, "assign_owner", {"user_id": "bob"}), step(2, "assign_owner", {"queue": "settlements"})]
    world.playbooks.save_version(TENANT, playbook("pb-own", steps=steps))
    assign(world, "EX-1", "pb-own")
    complete(world, 1)
    complete(world, 2)
    owners = [e.payload for e in events_of(world) if e.event_type.value == "OwnerAssigned"]
    assert owners[1] == {
        "step_order": 2,
        "owner": {"type": "queue", "id": "settlements"},
        "previous": {"type": "user", "id": "bob"},
    }
    assert world.exceptions.get(TENANT, "EX-1").owner.model_dump() == {"type": "queue", "id": "settlements"}


def test_assign_owner_with_a_missing_value_refuses_the_step(world, dynamodb):
    error = _refused(
        world,
        dynamodb,
        step(1, "assign_owner", {"user_id": "{exception.attributes.nobody}"}),
        "TEMPLATE_UNRESOLVED",
    )
    assert {"fields": ["exception.attributes.nobody"]}.items() <= (error.details or {}).items()
    assert "exception.attributes.nobody" in error.message


# -- set_status -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("in_progress", "pending_review"),
        ("in_progress", "resolved"),
        ("pending_review", "in_progress"),
        ("escalated", "resolved"),
        ("resolved", "closed"),
        ("resolved", "in_progress"),
    ],
)
def test_set_status_legal_transitions(world, start, target):
    # (``open`` never reaches a step: starting a playbook moves it to in_progress; the unit tests of
    # ``actions`` cover transitions from open.)
    create(world, "EX-2", status=ExceptionStatus(start))
    world.playbooks.save_version(TENANT, playbook("pb-s", steps=[step(1, "set_status", {"status": target})]))
    assign(world, "EX-2", "pb-s")
    complete(world, 1, exception_id="EX-2")
    assert world.exceptions.get(TENANT, "EX-2").status.value == target
    assert _event(world, "StatusChanged", "EX-2").payload == {"from": start, "to": target, "step_order": 1}


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("in_progress", "open"),
        ("in_progress", "closed"),
        ("in_progress", "in_progress"),
        ("pending_review", "closed"),
        ("escalated", "pending_review"),
        ("closed", "in_progress"),
        ("resolved", "escalated"),
    ],
)
def test_set_status_illegal_transition_is_409_and_writes_nothing(world, dynamodb, start, target):
    create(world, "EX-2", status=ExceptionStatus(start))
    world.playbooks.save_version(TENANT, playbook("pb-s", steps=[step(1, "set_status", {"status": target})]))
    assign(world, "EX-2", "pb-s")
    before = snapshot(dynamodb)
    with pytest.raises(Conflict) as caught:
        complete(world, 1, exception_id="EX-2")
    assert caught.value.code == "ILLEGAL_STATUS_TRANSITION"
    assert {"from": start, "to": target}.items() <= (caught.value.details or {}).items()
    assert snapshot(dynamodb) == before


# -- add_comment ----------------------------------------------------------------------------------
def test_add_comment_records_the_rendered_text(world):
    text = (
        "Owner {exception.owner.id}; step {step.step_order} '{step.name}'; "
        "amount {exception.attributes.amount}"
    )
    response = _run_single(world, step(1, "add_comment", {"text": text}, name="Write it down"))
    comment = _event(world, "CommentAdded")
    assert comment.payload == {
        "text": "Owner ; step 1 'Write it down'; amount 1250.5",
        "step_order": 1,
        "warnings": ["exception.owner.id"],
    }
    assert response["action"]["outcome"] == "comment_added"


# -- call_tool ------------------------------------------------------------------------------------
def test_call_tool_records_a_dry_run_with_the_rendered_payload_keeping_json_types(world):
    payload = {
        "trade_id": "{exception.attributes.trade_id}",
        "amount": "{exception.attributes.amount}",
        "books": "{exception.attributes.books}",
        "sla": "{domain.sla}",
        "label": "Trade {exception.attributes.trade_id} for {exception.attributes.amount}",
        "fixed": 3,
        "nested": {"desk": "{domain.desk}", "list": ["{exception.severity}", 1]},
    }
    response = _run_single(world, step(1, "call_tool", {"tool_id": "retry_settlement", "payload": payload}))

    recorded = _event(world, "ToolCallRecorded")
    rendered = {
        "trade_id": "T-1",
        "amount": 1250.5,
        "books": ["A", "B"],
        "sla": {"hours": 4},
        "label": "Trade T-1 for 1250.5",
        "fixed": 3,
        "nested": {"desk": "FX desk", "list": ["high", 1]},
    }
    assert recorded.payload == {
        "step_order": 1,
        "tool_id": "retry_settlement",
        "payload": rendered,
        "mode": "dry_run",
        "risk": "low",
    }
    assert response["action"] == {
        "action_type": "call_tool",
        "outcome": "tool_call_recorded",
        "detail": {"tool_id": "retry_settlement", "payload": rendered, "mode": "dry_run"},
    }
    assert "ToolCallRecorded" in types_of(events_of(world))


def test_call_tool_with_an_unresolved_placeholder_is_409_naming_the_field(world, dynamodb):
    payload = {
        "trade_id": "{exception.attributes.trade_id}",
        "amount": "{exception.attributes.missing_amount}",
    }
    error = _refused(
        world,
        dynamodb,
        step(1, "call_tool", {"tool_id": "retry_settlement", "payload": payload}),
        "TEMPLATE_UNRESOLVED",
    )
    assert {"fields": ["exception.attributes.missing_amount"]}.items() <= (error.details or {}).items()


def test_call_tool_with_an_unresolved_placeholder_inside_text_is_409(world, dynamodb):
    payload = {"trade_id": "T-{exception.attributes.nope}"}
    error = _refused(
        world,
        dynamodb,
        step(1, "call_tool", {"tool_id": "retry_settlement", "payload": payload}),
        "TEMPLATE_UNRESOLVED",
    )
    assert {"fields": ["exception.attributes.nope"]}.items() <= (error.details or {}).items()


def test_call_tool_payload_must_fit_the_tool_parameters(world, dynamodb):
    payload = {"amount": "{exception.attributes.trade_id}"}  # no trade_id; amount is a string
    error = _refused(
        world,
        dynamodb,
        step(1, "call_tool", {"tool_id": "retry_settlement", "payload": payload}),
        "TOOL_PAYLOAD_INVALID",
    )
    assert {e["path"] for e in error.details["errors"]} == {"", "amount"}


def test_a_tool_no_longer_approved_at_run_time_is_409(world, dynamodb):
    call = step(1, "call_tool", {"tool_id": "retry_settlement", "payload": {"trade_id": "x"}})
    world.playbooks.save_version(TENANT, playbook("pb-x", steps=[call]))
    assign(world, "EX-1", "pb-x")
    world.packs.put_policy(TENANT, PolicyPackInput.model_validate({**POLICY_PACK, "approved_tools": []}))
    before = snapshot(dynamodb)
    with pytest.raises(Conflict) as caught:
        complete(world, 1)
    assert caught.value.code == "TOOL_NOT_ALLOWED"
    assert {"tool_id": "retry_settlement"}.items() <= (caught.value.details or {}).items()
    assert snapshot(dynamodb) == before


def test_a_tool_removed_from_the_domain_pack_is_409(world, dynamodb):
    call = step(1, "call_tool", {"tool_id": "retry_settlement", "payload": {"trade_id": "x"}})
    world.playbooks.save_version(TENANT, playbook("pb-x", steps=[call]))
    assign(world, "EX-1", "pb-x")
    world.packs.put_domain(TENANT, "Finance", DomainPackInput.model_validate({**DOMAIN_PACK, "tools": {}}))
    before = snapshot(dynamodb)
    with pytest.raises(Conflict) as caught:
        complete(world, 1)
    assert caught.value.code == "TOOL_NOT_ALLOWED"
    assert snapshot(dynamodb) == before


def test_the_step_event_precedes_the_action_events_in_one_write(world):
    _run_single(world, step(1, "add_comment", {"text": "t"}))
    events = events_of(world)
    assert types_of(events)[-3:] == ["PlaybookStepCompleted", "CommentAdded", "PlaybookCompleted"]
    assert len({e.created_at for e in events[-3:]}) == 1
