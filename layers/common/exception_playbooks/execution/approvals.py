"""Use cases of two-person approval: approve, reject, and expire a pending request.

A step the tenant policy's ``two_person_approval`` covers is not performed when completed: the
completion records ApprovalRequested (``operations.act_on_step``). People other than the
requester, holding one of the request's roles, approve it here; at the quorum the action runs and
the step completes in the same transaction as the last ApprovalGranted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..auth import Principal
from ..errors import ApprovalRefused, Conflict
from ..models.enums import ActorType, Role
from ..models.event import Actor
from ..models.exception import ApprovalState, ExceptionRecord
from ..observability import record as record_metric
from ..ports import iso
from ..repository.bundle import Repositories
from ..repository.idempotency import request_hash
from . import approval_events
from .operations import (
    Change,
    commit_change,
    commit_step_answer,
    current_step_of,
    effective_severity,
    load_exception,
    open_step_current,
    plan_perform,
    retries_lost_races,
    status_view,
)


@dataclass(frozen=True)
class ApprovalCommand:
    """Body of ``.../approve`` (notes optional) and ``.../reject`` (notes: the required reason)."""

    actor_type: ActorType = ActorType.HUMAN
    actor_id: str | None = None
    notes: str | None = None

    def body(self) -> dict[str, Any]:
        return {"actor_type": self.actor_type.value, "actor_id": self.actor_id, "notes": self.notes}


def _approver(principal: Principal, command: ApprovalCommand) -> Actor:
    """Only a person approves, as themselves: machine tokens and agent/system actors never do."""
    if Role.AUTOMATION in principal.roles:
        raise ApprovalRefused("Automation clients cannot approve or reject", code="APPROVAL_BY_AUTOMATION")
    if command.actor_type is not ActorType.HUMAN:
        raise ApprovalRefused("Only a person can approve or reject a step", code="APPROVAL_BY_AGENT")
    if command.actor_id is not None and command.actor_id != principal.username:
        raise ApprovalRefused("A person may only approve as themselves", code="FORBIDDEN_ACTOR")
    return Actor(actor_type=ActorType.HUMAN, actor_id=principal.username)


def _pending(record: ExceptionRecord, step_order: int, now: str) -> ApprovalState:
    request = record.projection.approval
    if request is None or request.step_order != step_order:
        raise Conflict(f"Step {step_order} has no pending approval request", code="NO_APPROVAL_PENDING")
    if request.is_expired(now):
        raise Conflict(
            f"The approval request on step {step_order} expired at {request.expires_at}; "
            "complete the step again to request a new one",
            code="APPROVAL_EXPIRED",
            details={"expires_at": request.expires_at},
        )
    return request


def _require_eligible(principal: Principal, request: ApprovalState) -> None:
    if not {role.value for role in principal.roles} & set(request.roles):
        raise ApprovalRefused(
            f"Approving this step needs one of the roles {', '.join(request.roles)}",
            code="APPROVER_ROLE_REQUIRED",
            details={"roles": list(request.roles)},
        )


@retries_lost_races
def decide(
    repos: Repositories,
    principal: Principal,
    exception_id: str,
    step_order: int,
    command: ApprovalCommand,
    *,
    approve: bool,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Approve (``approve=True``) or reject the pending request on ``step_order``."""
    tenant = principal.tenant_id
    scope = f"{'approve' if approve else 'reject'}:{exception_id}:{step_order}"
    body_hash = request_hash(command.body())
    current, replay = open_step_current(repos, tenant, exception_id, scope, idempotency_key, body_hash)
    if replay is not None:
        return replay
    record = current.record
    actor = _approver(principal, command)
    playbook, step = current_step_of(repos, tenant, record, step_order)
    now = iso(repos.clock())
    request = _pending(record, step_order, now)
    withdrawing = not approve and actor.actor_id == request.requested_by
    if not withdrawing:  # the requester may withdraw their own request; nobody approves their own
        _require_eligible(principal, request)
    if approve and actor.actor_id == request.requested_by:
        raise ApprovalRefused("You cannot approve a step you asked to complete", code="SELF_APPROVAL")
    if approve and any(a.actor_id == actor.actor_id for a in request.approvals):
        raise Conflict("You already approved this request; it needs another person", code="ALREADY_APPROVED")

    packs = current.packs  # the policy in force (issue 13), read with the exception
    severity = effective_severity(record, packs, repos)
    change = Change(record)
    outcome: dict[str, Any]
    if not approve:
        approval_events.plan_reject(change, request, actor, command.notes or "")
        outcome = {
            "action_type": step.action_type.value,
            "outcome": "approval_rejected",
            "detail": {"reason": command.notes},
        }
    else:
        count = approval_events.plan_grant(change, request, actor, command.notes)
        if count >= request.quorum:
            requester = Actor(actor_type=ActorType.HUMAN, actor_id=request.requested_by)
            approvers = [*(a.actor_id for a in request.approvals), actor.actor_id]
            outcome = plan_perform(
                change, playbook, step, packs, requester, severity, request.notes, {"approved_by": approvers}
            )
        else:
            outcome = {
                "action_type": step.action_type.value,
                "outcome": "approval_recorded",
                "detail": {"approvals": count, "quorum": request.quorum},
            }
    saved, response = commit_step_answer(
        repos,
        tenant,
        change,
        lambda saved: {**status_view(saved, playbook, packs, severity, now), "action": outcome},
        scope=scope,
        idempotency_key=idempotency_key,
        body_hash=body_hash,
    )
    record_metric("ApprovalsGranted" if approve else "ApprovalsRejected")
    if saved.projection.completed:
        record_metric("PlaybooksCompleted")
    return response


@retries_lost_races
def expire_approval(repos: Repositories, tenant_id: str, exception_id: str) -> bool:
    """Record ApprovalExpired when the exception's pending request has run out (the timer's job;
    idempotent: once recorded, nothing is pending). True when it wrote."""
    record = load_exception(repos, tenant_id, exception_id)
    change = Change(record)
    if record.projection.approval is None:
        return False
    if not approval_events.plan_expiry_if_due(change, iso(repos.clock()), refuse_pending=False):
        return False
    commit_change(repos, tenant_id, change)
    record_metric("ApprovalsExpired")
    return True
