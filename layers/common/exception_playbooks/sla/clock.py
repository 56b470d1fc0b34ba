"""Use cases of the SLA clock: keep an exception's schedules in step, and act when one fires.

``sync_schedules`` runs on the timeline events that can move the clock (created, updated, status
changed, approval requested): it reads the current exception (never the event's payload, so
redelivered or reordered events converge), puts a schedule per future mark, deletes the others,
and handles at once a mark already passed (an exception created 10 minutes before its deadline
gets its warning now, not never). A pending two-person request gets a schedule at its expiry.

``ring`` is what a schedule does when it fires: ``SlaWarning`` or ``SlaBreached`` on the timeline,
the effective severity re-evaluated, a re-match while no step of the current run was done (as
recalculate would), and a ``NotificationSent`` to the owner or the policy's escalation target
(the NotificationRelay turns it into a NotificationRequested). One transaction, at most once per
(exception, threshold, deadline): the agents' marker makes a second firing a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import bus
from ..agents.base import Agent, Outcome, Plan, Reads, Skip
from ..agents.envelope import Trigger
from ..agents.triage import _with_severity as with_triaged_severity
from ..execution.operations import Change, plan_rematch
from ..matching.effective import effective_view, minutes_remaining
from ..matching.engine import select_playbook
from ..models.enums import ActorType, EventType, StepStatus
from ..models.event import NewEvent
from ..models.exception import ExceptionRecord
from ..models.packs import PolicyPack, SlaClock
from ..ports import iso, parse_iso
from ..repository.bundle import Repositories
from . import marks as m
from .scheduler import Scheduler

NAME = "SlaClock"
_RING_RULE = bus.AgentRule(NAME, "lambda_handler", (EventType.SLA_WARNING, EventType.SLA_BREACHED))


@dataclass
class SyncResult:
    put: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    rung: list[Outcome] = field(default_factory=list)


def sync_schedules(
    repos: Repositories, scheduler: Scheduler, tenant_id: str, exception_id: str
) -> SyncResult:
    result = SyncResult()
    policy = repos.packs.policy(tenant_id)  # cached: a tenant that did not opt in costs no read
    if policy.sla_clock is None and policy.two_person_approval is None:
        return result
    record = repos.exceptions.get(tenant_id, exception_id)
    if record is None:
        return result
    _sync_approval_expiry(scheduler, tenant_id, record, result)
    clock = policy.sla_clock
    if clock is None:
        return result  # the tenant did not opt in: no schedules, nothing changes
    deadline = m.deadline_of(record)
    names = {mark: m.schedule_name(tenant_id, exception_id, mark) for mark in m.thresholds(clock)}
    if deadline is None or not m.is_running(record):
        for name in names.values():
            scheduler.delete(name)
            result.deleted.append(name)
        return result
    now = repos.clock()
    passed = []
    for mark in m.marks(deadline, clock):
        name = names[mark.threshold]
        if mark.at > now:
            scheduler.put(name, mark.at, m.mark_payload(tenant_id, exception_id, mark, deadline))
            result.put.append(name)
        else:
            scheduler.delete(name)
            result.deleted.append(name)
            passed.append(mark)
    if passed:  # only the latest passed mark: a breach says all a warning would
        result.rung.append(ring(repos, tenant_id, exception_id, passed[-1].threshold, iso(deadline)))
    return result


def _sync_approval_expiry(
    scheduler: Scheduler, tenant_id: str, record: ExceptionRecord, result: SyncResult
) -> None:
    request = record.projection.approval
    if request is None:
        return  # a schedule left from a decided request fires once, finds nothing, and is gone
    name = m.approval_schedule_name(tenant_id, record.exception_id)
    payload = {"kind": m.KIND_APPROVAL_EXPIRY, "tenant_id": tenant_id, "exception_id": record.exception_id}
    scheduler.put(name, parse_iso(request.expires_at), payload)
    result.put.append(name)


def ring(repos: Repositories, tenant_id: str, exception_id: str, threshold: str, deadline: str) -> Outcome:
    """A mark fired (or had passed when the schedules were synced)."""
    event_type = EventType.SLA_BREACHED if threshold == m.BREACH else EventType.SLA_WARNING
    trigger = Trigger(
        tenant_id=tenant_id,
        exception_id=exception_id,
        event_id=m.trigger_id(tenant_id, exception_id, threshold, deadline),
        event_type=event_type,
        seq=0,
        actor_type=ActorType.SYSTEM,
        actor_id=NAME,
        created_at=iso(repos.clock()),
        payload={"threshold": threshold, "deadline": deadline},
    )
    return SlaClockAgent(repos).handle(trigger)


class SlaClockAgent(Agent):
    """Writes SlaWarning / SlaBreached with its consequences; acts as ``agent`` ``SlaClock``."""

    name = NAME

    def own_rule(self) -> bus.AgentRule:  # not one of bus.AGENTS: its trigger is a schedule
        return _RING_RULE

    def plan(self, trigger: Trigger, reads: Reads) -> Plan | Skip:
        threshold, deadline = trigger.payload["threshold"], trigger.payload["deadline"]
        record = reads.exception()
        packs = reads.packs(record.domain)
        clock = packs.policy.sla_clock
        if clock is None or threshold not in m.thresholds(clock):
            return Skip("the tenant policy no longer rings at this threshold")
        if not m.is_running(record):
            return Skip(f"the exception is {record.status.value}")
        current = m.deadline_of(record)
        if current is None or current != parse_iso(deadline):
            return Skip("the deadline moved since this schedule was set")
        now = reads.now()
        view = effective_view(record, packs, now)
        left = minutes_remaining(record.sla_deadline, now)
        # The record shows the re-evaluated severity, as triage would (a person's severity stands).
        change = Change(with_triaged_severity(record, view.severity))
        notify = _notification(record, packs.policy, clock, threshold)
        change.events.append(
            self.event(
                trigger.event_type,
                {
                    "threshold": threshold,
                    "deadline": iso(current),
                    "minutes_remaining": None if left is None else round(left, 1),
                    "severity": view.severity.value,
                    "previous_severity": record.severity.value if record.severity else None,
                    "notified": notify,
                },
            )
        )
        if notify is not None:
            change.events.append(self.event(EventType.NOTIFICATION_SENT, notify))
        if _untouched(record):
            result = select_playbook(record, reads.candidates(record.domain), packs, now)
            plan_rematch(change, result, self.actor)
        return Plan(change)

    def event(self, event_type: EventType, payload: dict[str, Any]) -> NewEvent:
        return NewEvent(event_type=event_type, actor=self.actor, payload=payload)


def _untouched(record: ExceptionRecord) -> bool:
    """No step of the current run done (or none assigned): a re-match may still change the playbook."""
    projection = record.projection
    if projection.completed or projection.approval is not None:
        return False
    return all(step.status is StepStatus.PENDING for step in projection.steps)


def _notification(
    record: ExceptionRecord, policy: PolicyPack, clock: SlaClock, threshold: str
) -> dict[str, Any] | None:
    """To the owner, or the policy's escalation target (always, when it says so)."""
    escalation = clock.escalation
    target: dict[str, Any] = {}
    if escalation is not None and (escalation.always or record.owner is None):
        target = {"channel": escalation.channel, "recipient": escalation.recipient, "group": escalation.group}
    elif record.owner is not None:
        key = "recipient" if record.owner.type == "user" else "group"
        channel = escalation.channel if escalation is not None else "email"
        target = {"channel": channel, "recipient": None, "group": None, key: record.owner.id}
    else:
        return None
    what = (
        "breached its SLA"
        if threshold == m.BREACH
        else f"is {threshold.removeprefix(m.WARN_PREFIX)} minutes from its SLA"
    )
    subject = f"{record.exception_id} {what}"
    return {
        **target,
        "subject": subject,
        "message": f"{subject} ({record.exception_type}, deadline {record.sla_deadline}).",
        "reason": "sla_breached" if threshold == m.BREACH else "sla_warning",
    }
