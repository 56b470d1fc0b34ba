"""ResolutionAgent: tell people what the next step is and whether a human must do it.

Triggered by PlaybookStarted, PlaybookStepCompleted and PlaybookStepSkipped. It executes
nothing and never completes or skips a step. Triggers are delivered late and out of order
after retries, so a trigger only counts when it still describes the current position of the
current run; anything else is stale and ignored (writing nothing keeps it idempotent too).
"""

from __future__ import annotations

from ..execution.approval import requires_approval
from ..execution.operations import Change
from ..matching.effective import effective_view
from ..models.enums import EventType
from ..models.exception import ExceptionRecord
from .base import Agent, Plan, Reads, Skip
from .envelope import Trigger
from .suggestions import describe_step, sentence


class ResolutionAgent(Agent):
    name = "ResolutionAgent"

    def plan(self, trigger: Trigger, reads: Reads) -> Plan | Skip:
        record = reads.exception()
        stale = stale_reason(trigger, record)
        if stale:
            return Skip(stale)
        projection = record.projection
        if (
            projection.completed
            or projection.current_step is None
            or projection.playbook_id is None
            or projection.playbook_version is None
        ):
            return Skip("the playbook has no next step")
        playbook = reads.playbook(projection.playbook_id, projection.playbook_version)
        step = playbook.step(projection.current_step)
        if step is None:
            return Skip(f"step {projection.current_step} is not in the playbook")

        packs = reads.packs(record.domain)
        severity = effective_view(record, packs, reads.now()).severity
        approval = requires_approval(step, severity, packs)
        described = describe_step(step, record, packs, severity)
        change = Change(record)
        change.events.append(
            self.event(
                EventType.RESOLUTION_SUGGESTED,
                {
                    "playbook_id": playbook.playbook_id,
                    "playbook_version": playbook.version,
                    "next_step": {
                        "step_order": step.step_order,
                        "name": step.name,
                        "action_type": step.action_type.value,
                        "requires_approval": approval,
                        # A human must act when approval is needed or the step cannot run as it stands.
                        "needs_human": approval or bool(described.blockers),
                        "suggestion": sentence(step, described, approval),
                        "missing": sorted(set(described.missing)),
                        "blockers": described.blockers,
                    },
                    "severity": severity.value,
                    "trigger_event_id": trigger.event_id,
                },
            )
        )
        return Plan(change)


def stale_reason(trigger: Trigger, record: ExceptionRecord) -> str | None:
    """Why ``trigger`` no longer describes the run on ``record`` (``None`` when it still does)."""
    projection = record.projection
    payload = trigger.payload
    if payload.get("playbook_id") != projection.playbook_id or _int(payload.get("playbook_version")) != (
        projection.playbook_version
    ):
        return "the exception is on another playbook now"
    if trigger.event_type is EventType.PLAYBOOK_STARTED:
        # started_at identifies the run: a restart of the same playbook is a different run.
        if projection.started_at != trigger.created_at:
            return "the playbook was restarted since"
        expected = 1
    else:
        order = _int(payload.get("step_order"))
        if order is None or not 1 <= order <= len(projection.steps):
            return "the trigger names no step of this run"
        state = projection.steps[order - 1]
        if state.at != trigger.created_at:
            return "the step was acted on in another run"
        expected = order + 1
    if projection.completed:
        return None  # the run is over: plan() writes nothing, without calling it stale
    if projection.current_step != expected:
        return f"the run moved on to step {projection.current_step}"
    return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
