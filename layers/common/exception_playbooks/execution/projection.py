"""The step-state projection: a pure fold over timeline events.

Operations apply the very events they write, through ``apply``, so the projection stored
on the exception item always equals ``fold(timeline)``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..models.enums import ActorType, EventType, StepStatus
from ..models.event import TimelineEvent
from ..models.exception import Approval, ApprovalState, ExceptionRecord, PlaybookProjection, StepState

_STEP_STATUS = {
    EventType.PLAYBOOK_STEP_COMPLETED: StepStatus.COMPLETED,
    EventType.PLAYBOOK_STEP_SKIPPED: StepStatus.SKIPPED,
}


# The projection lives on the exception item (DynamoDB: 400 KB per item, attributes and raw payload
# may take 128 KB): 100 steps with 4,000-character notes would not fit, so the item keeps an
# excerpt; the full notes stay in the step's timeline event.
MAX_PROJECTED_NOTES = 500


def _excerpt(notes: str | None) -> str | None:
    if notes is None or len(notes) <= MAX_PROJECTED_NOTES:
        return notes
    return notes[: MAX_PROJECTED_NOTES - 1] + "\u2026"


def apply(projection: PlaybookProjection, event: TimelineEvent) -> PlaybookProjection:
    payload = event.payload
    if event.event_type is EventType.PLAYBOOK_STARTED:
        count = int(payload["step_count"])
        return PlaybookProjection(
            playbook_id=payload["playbook_id"],
            playbook_version=int(payload["playbook_version"]),
            current_step=1 if count else None,
            completed=False,
            started_at=event.created_at,
            steps=[StepState(step_order=n) for n in range(1, count + 1)],
        )
    if event.event_type in _STEP_STATUS:
        order = int(payload["step_order"])
        steps = [
            step.model_copy(
                update={
                    "status": _STEP_STATUS[event.event_type],
                    "actor_type": ActorType(event.actor_type),
                    "actor_id": event.actor_id,
                    "at": event.created_at,
                    "notes": _excerpt(payload.get("notes")),
                }
            )
            if step.step_order == order
            else step
            for step in projection.steps
        ]
        following = order + 1 if order < len(steps) else None
        return projection.model_copy(update={"steps": steps, "current_step": following, "approval": None})
    if event.event_type in _APPROVAL_EVENTS:
        return _apply_approval(projection, event)
    if event.event_type is EventType.PLAYBOOK_COMPLETED:
        return projection.model_copy(update={"completed": True, "current_step": None})
    if event.event_type is EventType.PLAYBOOK_RECALCULATED and payload.get("to") is None:
        return PlaybookProjection()
    return projection


_APPROVAL_EVENTS = frozenset(
    {
        EventType.APPROVAL_REQUESTED,
        EventType.APPROVAL_GRANTED,
        EventType.APPROVAL_REJECTED,
        EventType.APPROVAL_EXPIRED,
    }
)


def _with_step_status(projection: PlaybookProjection, order: int, status: StepStatus) -> list[StepState]:
    return [
        step.model_copy(update={"status": status}) if step.step_order == order else step
        for step in projection.steps
    ]


def _apply_approval(projection: PlaybookProjection, event: TimelineEvent) -> PlaybookProjection:
    """Two-person approval: requested -> awaiting_approval; rejected/expired -> pending again."""
    payload = event.payload
    order = int(payload["step_order"])
    if event.event_type is EventType.APPROVAL_REQUESTED:
        request = ApprovalState(
            step_order=order,
            requested_by=event.actor_id,
            requested_at=event.created_at,
            quorum=int(payload["quorum"]),
            roles=list(payload["roles"]),
            expires_at=payload["expires_at"],
            notes=_excerpt(payload.get("notes")),
        )
        steps = _with_step_status(projection, order, StepStatus.AWAITING_APPROVAL)
        return projection.model_copy(update={"steps": steps, "approval": request})
    if event.event_type is EventType.APPROVAL_GRANTED:
        current = projection.approval
        if current is None:
            return projection
        given = [*current.approvals, Approval(actor_id=event.actor_id, at=event.created_at)]
        return projection.model_copy(update={"approval": current.model_copy(update={"approvals": given})})
    steps = _with_step_status(projection, order, StepStatus.PENDING)  # rejected or expired
    return projection.model_copy(update={"steps": steps, "approval": None})


def fold(events: Iterable[TimelineEvent]) -> PlaybookProjection:
    projection = PlaybookProjection()
    for event in events:
        projection = apply(projection, event)
    return projection


def apply_to_record(record: ExceptionRecord, events: Iterable[TimelineEvent]) -> ExceptionRecord:
    """Move the record's projection (and its mirrored API fields) over ``events``."""
    projection = record.projection
    for event in events:
        projection = apply(projection, event)
    return record.model_copy(
        update={
            "projection": projection,
            "current_playbook_id": projection.playbook_id,
            "current_playbook_version": projection.playbook_version,
            "current_step": projection.current_step,
        }
    )
