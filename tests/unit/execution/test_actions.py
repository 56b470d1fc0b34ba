"""actions without storage: what each executor returns (record, events, outcome) and refuses."""

from __future__ import annotations

import pytest
from exception_playbooks.errors import Conflict
from exception_playbooks.execution.actions import change_status, perform, template_context
from exception_playbooks.models.enums import ActionType, EventType, ExceptionStatus, Severity
from exception_playbooks.models.event import SYSTEM_ACTOR, Actor
from exception_playbooks.models.exception import ExceptionRecord, Owner
from exception_playbooks.models.packs import DomainPack, PackSet, PolicyPack
from exception_playbooks.models.playbook import Step

ALICE = Actor(actor_type="human", actor_id="alice")
RECORD = ExceptionRecord(
    exception_id="EX-1",
    domain="Finance",
    exception_type="Fail",
    severity=Severity.LOW,
    status=ExceptionStatus.IN_PROGRESS,
    attributes={"trader": "ann", "n": 4, "tags": ["x"]},
    created_at="2026-01-01T00:00:00.000Z",
    updated_at="2026-01-01T00:00:00.000Z",
)
PACKS = PackSet(
    policy=PolicyPack.model_validate({"approved_tools": ["retry", "ghost"], "fields": {"team": "ops"}}),
    domain=DomainPack.model_validate(
        {
            "domain": "Finance",
            "version": 2,
            "fields": {"desk": "FX"},
            "tools": {
                "retry": {
                    "parameters": {
                        "type": "object",
                        "required": ["id"],
                        "properties": {"id": {"type": "string"}},
                    }
                },
                "unapproved": {},
            },
        }
    ),
)


def _step(action: str, params: dict, order: int = 3, name: str = "The step") -> Step:
    return Step(step_order=order, name=name, action_type=ActionType(action), params=params)


def _perform(action: str, params: dict, record: ExceptionRecord = RECORD, packs: PackSet = PACKS):
    return perform(record, _step(action, params), packs, ALICE, Severity.HIGH)


def test_template_context_uses_the_effective_severity_and_plain_data():
    context = template_context(RECORD, PACKS, _step("notify", {}), Severity.CRITICAL)
    assert context["exception"]["severity"] == "critical"
    assert context["exception"]["attributes"] == {"trader": "ann", "n": 4, "tags": ["x"]}
    assert "projection" not in context["exception"]  # internal fields are not templatable
    assert "request_hash" not in context["exception"]
    assert context["domain"] == {"name": "Finance", "desk": "FX"}
    assert context["policy"] == {"team": "ops"}
    assert context["step"] == {"name": "The step", "step_order": 3, "action_type": "notify"}
    no_domain = template_context(RECORD, PackSet(policy=PolicyPack()), _step("notify", {}), None)
    assert no_domain["domain"] == {"name": "Finance"}
    assert no_domain["exception"]["severity"] == "low"


def test_notify():
    result = _perform(
        "notify", {"channel": "email", "recipient": "{exception.attributes.trader}@x", "message": "{x.y}"}
    )
    assert result.record is RECORD
    [event] = result.events
    assert event.event_type is EventType.NOTIFICATION_SENT
    assert event.actor == ALICE
    assert event.payload["recipient"] == "ann@x"
    assert event.payload["message"] == ""
    assert result.warnings == ["x.y"] == event.payload["warnings"]
    assert result.summary(ActionType.NOTIFY) == {
        "action_type": "notify",
        "outcome": "notification_sent",
        "detail": {"channel": "email", "recipient": "ann@x", "group": None, "subject": ""},
    }


@pytest.mark.parametrize(
    ("params", "owner"),
    [
        ({"user_id": "{exception.attributes.trader}"}, {"type": "user", "id": "ann"}),
        ({"queue": "q-{domain.desk}"}, {"type": "queue", "id": "q-FX"}),
    ],
)
def test_assign_owner(params, owner):
    result = _perform("assign_owner", params)
    assert result.record.owner.model_dump() == owner
    assert RECORD.owner is None  # the input record is not mutated
    assert result.events[0].payload == {"step_order": 3, "owner": owner, "previous": None}


@pytest.mark.parametrize(
    "params",
    [{"user_id": "{exception.attributes.nobody}"}, {"queue": "{policy.none}"}, {"queue": "x-{policy.none}"}],
)
def test_assign_owner_refuses_an_unresolved_target(params):
    with pytest.raises(Conflict) as caught:
        _perform("assign_owner", params)
    assert caught.value.code == "TEMPLATE_UNRESOLVED"
    assert caught.value.details["fields"]


def test_assign_owner_keeps_the_previous_owner_in_the_event():
    owned = RECORD.model_copy(update={"owner": Owner(type="queue", id="old")})
    result = _perform("assign_owner", {"user_id": "bob"}, record=owned)
    assert result.events[0].payload["previous"] == {"type": "queue", "id": "old"}


LEGAL = [
    ("open", "in_progress"),
    ("open", "escalated"),
    ("in_progress", "pending_review"),
    ("in_progress", "escalated"),
    ("in_progress", "resolved"),
    ("pending_review", "in_progress"),
    ("pending_review", "resolved"),
    ("pending_review", "escalated"),
    ("escalated", "in_progress"),
    ("escalated", "resolved"),
    ("resolved", "closed"),
    ("resolved", "in_progress"),
]
ALL_PAIRS = [(a.value, b.value) for a in ExceptionStatus for b in ExceptionStatus]


@pytest.mark.parametrize(("start", "target"), ALL_PAIRS)
def test_status_transitions_are_exactly_the_table(start, target):
    record = RECORD.model_copy(update={"status": ExceptionStatus(start)})
    if (start, target) in LEGAL:
        result = _perform("set_status", {"status": target}, record=record)
        assert result.record.status.value == target
        assert result.events[0].payload == {"from": start, "to": target, "step_order": 3}
        assert result.detail == {"from": start, "to": target}
    else:
        with pytest.raises(Conflict) as caught:
            _perform("set_status", {"status": target}, record=record)
        assert caught.value.code == "ILLEGAL_STATUS_TRANSITION"
        assert record.status.value == start


def test_change_status_carries_extra_payload_and_the_actor():
    record, event = change_status(RECORD, ExceptionStatus.RESOLVED, SYSTEM_ACTOR, {"reason": "r"})
    assert record.status is ExceptionStatus.RESOLVED
    assert event.actor == SYSTEM_ACTOR
    assert event.payload == {"from": "in_progress", "to": "resolved", "reason": "r"}


def test_add_comment():
    result = _perform("add_comment", {"text": "by {step.name} for {exception.attributes.nope}"})
    assert result.events[0].payload == {
        "text": "by The step for ",
        "step_order": 3,
        "warnings": ["exception.attributes.nope"],
    }
    assert result.summary(ActionType.ADD_COMMENT)["detail"] == {"text": "by The step for "}


def test_call_tool_records_a_dry_run():
    result = _perform(
        "call_tool",
        {"tool_id": "retry", "payload": {"id": "{exception.exception_id}", "n": "{exception.attributes.n}"}},
    )
    assert result.events[0].payload == {
        "step_order": 3,
        "tool_id": "retry",
        "payload": {"id": "EX-1", "n": 4},
        "mode": "dry_run",
        "risk": "low",
    }


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"tool_id": "unapproved", "payload": {}}, "TOOL_NOT_ALLOWED"),  # in the pack, not approved
        ({"tool_id": "ghost", "payload": {}}, "TOOL_NOT_ALLOWED"),  # approved, not in the pack
        ({"payload": {}}, "TOOL_NOT_ALLOWED"),
        ({"tool_id": "retry", "payload": {"id": "{exception.attributes.missing}"}}, "TEMPLATE_UNRESOLVED"),
        ({"tool_id": "retry", "payload": {}}, "TOOL_PAYLOAD_INVALID"),
        (
            {"tool_id": "retry", "payload": {"id": "{exception.attributes.n}"}},
            "TOOL_PAYLOAD_INVALID",
        ),  # int, not str
    ],
)
def test_call_tool_refusals(params, code):
    with pytest.raises(Conflict) as caught:
        _perform("call_tool", params)
    assert caught.value.code == code


def test_call_tool_without_a_domain_pack_is_refused():
    with pytest.raises(Conflict):
        _perform(
            "call_tool", {"tool_id": "retry", "payload": {"id": "x"}}, packs=PackSet(policy=PACKS.policy)
        )
