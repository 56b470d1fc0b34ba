"""Two-person approval: the events a request, an approval, a rejection and an expiry write.

Pure planning on a ``Change`` (no I/O): the use cases in ``approvals`` and ``operations`` read,
check who is acting, plan with these, and commit one transaction. The projection folds the same
events (``projection._apply_approval``), so the pending request on the item is always the fold.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import Conflict
from ..models.enums import EventType
from ..models.event import SYSTEM_ACTOR, Actor, NewEvent
from ..models.exception import ApprovalState
from ..models.packs import TwoPersonApproval
from ..models.playbook import PlaybookVersion, Step
from ..ports import iso

if TYPE_CHECKING:  # operations imports this module
    from .operations import Change


def pending_view(request: ApprovalState, now: str | None) -> dict[str, Any]:
    """The pending request as the status answer shows it on its step."""
    return {
        "requested_by": request.requested_by,
        "requested_at": request.requested_at,
        "approvals": [a.model_dump() for a in request.approvals],
        "quorum": request.quorum,
        "roles": list(request.roles),
        "expires_at": request.expires_at,
        "expired": bool(now and request.is_expired(now)),
        "notes": request.notes,
    }


def _about_request(change: Change, request: ApprovalState, approvals: int) -> dict[str, Any]:
    """What every event on a pending request says: which step, who asked, approvals of the quorum."""
    projection = change.record.projection
    return {
        "playbook_id": projection.playbook_id,
        "playbook_version": projection.playbook_version,
        "step_order": request.step_order,
        "requested_by": request.requested_by,
        "approvals": approvals,
        "quorum": request.quorum,
    }


def plan_expiry_if_due(change: Change, now: str | None, *, refuse_pending: bool) -> bool:
    """Record ApprovalExpired when the pending request has run out (True when it did).

    With ``refuse_pending``, a request still running refuses the operation (complete or skip on a
    step that waits for its approvers): 409 APPROVAL_PENDING.
    """
    projection = change.record.projection
    request = projection.approval
    if request is None or now is None:
        return False
    if not request.is_expired(now):
        if refuse_pending:
            raise Conflict(
                f"Step {request.step_order} is waiting for approval until {request.expires_at}",
                code="APPROVAL_PENDING",
                details={"step_order": request.step_order, "expires_at": request.expires_at},
            )
        return False
    change.events.append(
        NewEvent(
            event_type=EventType.APPROVAL_EXPIRED,
            actor=SYSTEM_ACTOR,
            payload={
                **_about_request(change, request, len(request.approvals)),
                "expires_at": request.expires_at,
            },
        )
    )
    return True


def plan_request(
    change: Change,
    playbook: PlaybookVersion,
    step: Step,
    actor: Actor,
    rule: TwoPersonApproval,
    notes: str | None,
    now: datetime,
) -> dict[str, Any]:
    """ApprovalRequested instead of performing the step; answers the step's ``action`` outcome."""
    expires_at = iso(now + timedelta(minutes=rule.ttl_minutes))
    roles = [role.value for role in rule.roles]
    change.events.append(
        NewEvent(
            event_type=EventType.APPROVAL_REQUESTED,
            actor=actor,
            payload={
                "playbook_id": playbook.playbook_id,
                "playbook_version": playbook.version,
                "step_order": step.step_order,
                "step_name": step.name,
                "action_type": step.action_type.value,
                "notes": notes,
                "quorum": rule.quorum,
                "roles": roles,
                "expires_at": expires_at,
            },
        )
    )
    return {
        "action_type": step.action_type.value,
        "outcome": "approval_requested",
        "detail": {"quorum": rule.quorum, "roles": roles, "expires_at": expires_at},
    }


def plan_grant(change: Change, request: ApprovalState, approver: Actor, notes: str | None) -> int:
    """ApprovalGranted; answers how many approvals the request has with this one."""
    count = len(request.approvals) + 1
    change.events.append(
        NewEvent(
            event_type=EventType.APPROVAL_GRANTED,
            actor=approver,
            payload={**_about_request(change, request, count), "notes": notes},
        )
    )
    return count


def plan_reject(change: Change, request: ApprovalState, actor: Actor, reason: str) -> None:
    change.events.append(
        NewEvent(
            event_type=EventType.APPROVAL_REJECTED,
            actor=actor,
            payload={**_about_request(change, request, len(request.approvals)), "reason": reason},
        )
    )
