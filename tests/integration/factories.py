"""Builders of domain objects for the moto tests (plain data, no hidden defaults in the tables)."""

from __future__ import annotations

from typing import Any

from exception_playbooks.models.enums import ActionType, EventType, ExceptionStatus, Severity
from exception_playbooks.models.event import SYSTEM_ACTOR, NewEvent
from exception_playbooks.models.exception import ExceptionRecord
from exception_playbooks.models.playbook import Conditions, PlaybookVersion, Step
from exception_playbooks.ports import iso
from exception_playbooks.repository.bundle import Repositories
from exception_playbooks.repository.dynamo import Transaction


def new_record(
    exception_id: str = "EX-1",
    *,
    domain: str = "Finance",
    exception_type: str = "TradeSettlementFailure",
    severity: Severity | None = Severity.HIGH,
    status: ExceptionStatus = ExceptionStatus.OPEN,
    **fields: Any,
) -> ExceptionRecord:
    """An exception not yet stored (version 0: ``stage(..., is_new=True)`` makes it version 1)."""
    return ExceptionRecord(
        exception_id=exception_id,
        domain=domain,
        exception_type=exception_type,
        severity=severity,
        given_severity=severity,
        status=status,
        created_at="",
        updated_at="",
        version=0,
        **fields,
    )


def create_exception(
    repos: Repositories, tenant: str, exception_id: str = "EX-1", **fields: Any
) -> ExceptionRecord:
    """Store a new exception with its ExceptionCreated event, through the repository (one transaction)."""
    record = new_record(exception_id, **fields)
    event = NewEvent(
        event_type=EventType.EXCEPTION_CREATED, actor=SYSTEM_ACTOR, payload={"exception_id": exception_id}
    )
    timeline = repos.exceptions.materialize(record, [event])
    transaction = Transaction()
    saved = repos.exceptions.stage(tenant, record, timeline, transaction, is_new=True)
    repos.exceptions.commit(transaction, is_new=True)
    return saved


def step(
    order: int, action_type: ActionType | str, params: dict[str, Any] | None = None, **flags: Any
) -> Step:
    action = ActionType(action_type)
    return Step(
        step_order=order,
        name=flags.pop("name", f"Step {order} ({action.value})"),
        action_type=action,
        params=params or {},
        **flags,
    )


def default_steps() -> list[Step]:
    return [
        step(1, "add_comment", {"text": "Looking at {exception.exception_id}"}),
        step(2, "notify", {"channel": "email", "recipient": "desk@example.com", "message": "hi"}),
        step(3, "assign_owner", {"queue": "settlements"}),
    ]


def playbook(
    playbook_id: str = "pb-1",
    version: int = 1,
    *,
    steps: list[Step] | None = None,
    match: dict[str, Any] | None = None,
    priority: int = 0,
    name: str | None = None,
    created_at: str = "2026-01-01T00:00:00.000Z",
    **fields: Any,
) -> PlaybookVersion:
    return PlaybookVersion(
        playbook_id=playbook_id,
        version=version,
        name=name or f"Playbook {playbook_id}",
        conditions=Conditions(match=match if match is not None else {}, priority=priority),
        steps=tuple(steps if steps is not None else default_steps()),
        created_at=created_at,
        **fields,
    )


def now_iso(repos: Repositories) -> str:
    return iso(repos.clock())
