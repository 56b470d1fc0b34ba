"""FeedbackAgent: what a completed run took (steps, time, people) and the playbook's stats.

Triggered by PlaybookCompleted. The run is reconstructed from the timeline (one Query of the
exception's events); the exception and the playbook's stats item are read together in one
TransactGetItems, so the agent stays at three DynamoDB calls: read, query, transaction.
``runs_started`` and the step counters are counted from those events by ``StatsCounter``;
this agent adds ``runs_completed`` and the run's duration, with FeedbackCaptured, atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import keys
from ..errors import NotFound
from ..execution.operations import Change
from ..models.enums import EventType
from ..models.event import TimelineEvent
from ..models.exception import ExceptionRecord
from ..ports import parse_iso
from ..repository.dynamo import Transaction
from .base import Agent, Plan, Reads, Skip
from .envelope import Trigger

_STEP_EVENTS = {EventType.PLAYBOOK_STEP_COMPLETED, EventType.PLAYBOOK_STEP_SKIPPED}


@dataclass(frozen=True)
class RunFeedback:
    playbook_id: str
    playbook_version: int
    steps_completed: int
    steps_skipped: int
    time_to_complete_seconds: float
    actors: list[str]

    def payload(self) -> dict[str, Any]:
        return {
            "playbook_id": self.playbook_id,
            "playbook_version": self.playbook_version,
            "steps_completed": self.steps_completed,
            "steps_skipped": self.steps_skipped,
            "time_to_complete_seconds": self.time_to_complete_seconds,
            "actors": self.actors,
        }


def run_feedback(events: list[TimelineEvent], completed_event_id: str) -> RunFeedback:
    """Fold the run that ``completed_event_id`` ended: from its PlaybookStarted to it."""
    completed = next((e for e in events if e.event_id == completed_event_id), None)
    if completed is None:
        raise NotFound(f"PlaybookCompleted {completed_event_id} is not in the timeline")
    playbook_id = str(completed.payload["playbook_id"])
    version = int(completed.payload["playbook_version"])

    def in_run(event: TimelineEvent) -> bool:
        return (
            event.payload.get("playbook_id") == playbook_id
            and event.payload.get("playbook_version") == version
        )

    started = next(
        (
            e
            for e in reversed(events)
            if e.seq < completed.seq and e.event_type is EventType.PLAYBOOK_STARTED and in_run(e)
        ),
        None,
    )
    if started is None:
        raise NotFound(f"the run ended by {completed_event_id} has no PlaybookStarted")
    steps = [
        e
        for e in events
        if started.seq < e.seq < completed.seq and e.event_type in _STEP_EVENTS and in_run(e)
    ]
    duration = (parse_iso(completed.created_at) - parse_iso(started.created_at)).total_seconds()
    return RunFeedback(
        playbook_id=playbook_id,
        playbook_version=version,
        steps_completed=sum(e.event_type is EventType.PLAYBOOK_STEP_COMPLETED for e in steps),
        steps_skipped=sum(e.event_type is EventType.PLAYBOOK_STEP_SKIPPED for e in steps),
        time_to_complete_seconds=round(max(duration, 0.0), 3),
        actors=sorted({f"{e.actor_type.value}:{e.actor_id}" for e in steps}),
    )


class FeedbackAgent(Agent):
    name = "FeedbackAgent"

    def plan(self, trigger: Trigger, reads: Reads) -> Plan | Skip:
        tenant = trigger.tenant_id
        playbook_id = str(trigger.payload.get("playbook_id") or "")
        if not playbook_id:
            return Skip("the PlaybookCompleted names no playbook")
        record, stats = self._read(trigger, playbook_id)
        events = self.repos.exceptions.all_events(tenant, trigger.exception_id)
        feedback = run_feedback(events, trigger.event_id)

        change = Change(record)
        change.events.append(
            self.event(
                EventType.FEEDBACK_CAPTURED, {**feedback.payload(), "trigger_event_id": trigger.event_id}
            )
        )

        def stage_stats(transaction: Transaction) -> None:
            self.repos.stats.stage_completion(
                tenant, feedback.playbook_id, feedback.time_to_complete_seconds, transaction, current=stats
            )

        return Plan(change, [stage_stats])

    def _read(self, trigger: Trigger, playbook_id: str) -> tuple[ExceptionRecord, dict[str, Any]]:
        """The exception and the playbook's stats item in one consistent read."""
        dynamo = self.repos.dynamo
        exception_item, stats_item = dynamo.transact_get(
            [
                (dynamo.state_table, keys.exception_key(trigger.tenant_id, trigger.exception_id)),
                (dynamo.state_table, keys.playbook_stats_key(trigger.tenant_id, playbook_id)),
            ]
        )
        if exception_item is None:
            raise NotFound(f"Exception {trigger.exception_id!r} was not found", code="EXCEPTION_NOT_FOUND")
        return ExceptionRecord.model_validate(exception_item), stats_item or {}
