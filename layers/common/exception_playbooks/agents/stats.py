"""StatsCounter: a playbook's run counters, maintained from the timeline instead of the hot path.

Triggered by PlaybookStarted, PlaybookStepCompleted and PlaybookStepSkipped. Operators' writes
(start, complete, skip) touch only their own exception; the counters follow from the committed
events, so two people acting on different exceptions of one playbook never write the same item.

Each event is counted exactly once: one transaction puts the consumer's marker for the event
(``attribute_not_exists``, like every agent) and adds 1 to one counter shard of the playbook.
A redelivered event finds its marker and changes nothing. The shard is chosen by the exception,
so the consumers of a busy playbook spread over ``stats.COUNTER_SHARDS`` items; a consumer that
still collides with another one re-runs its transaction (nothing was written), then lets
EventBridge retry. It reads nothing: one DynamoDB call per event.
"""

from __future__ import annotations

from ..errors import Conflict
from ..models.enums import EventType
from ..observability import logger
from ..ports import iso
from ..repository.bundle import Repositories
from ..repository.dynamo import Transaction, TransactionCancelled
from .base import MAX_ATTEMPTS, MisroutedEvent, Outcome, RaceLost, agent_rule, marker_exists
from .envelope import Trigger

NAME = "StatsCounter"
COUNTERS: dict[EventType, str] = {
    EventType.PLAYBOOK_STARTED: "runs_started",
    EventType.PLAYBOOK_STEP_COMPLETED: "steps_completed",
    EventType.PLAYBOOK_STEP_SKIPPED: "steps_skipped",
}


def count(repos: Repositories, trigger: Trigger, *, max_attempts: int = MAX_ATTEMPTS) -> Outcome:
    """Add ``trigger`` to its playbook's counters, once."""
    if trigger.event_type not in agent_rule(NAME).event_types:
        raise MisroutedEvent(f"{NAME} does not handle {trigger.event_type.value}")
    playbook_id = trigger.payload.get("playbook_id")
    if not isinstance(playbook_id, str) or not playbook_id:
        return Outcome(NAME, trigger.event_id, "ignored", reason="the event names no playbook")
    counter = COUNTERS[trigger.event_type]
    last_error: Exception | None = None
    for attempt in range(1, max_attempts + 1):
        transaction = Transaction()
        repos.agent_markers.stage(
            trigger.tenant_id, trigger.exception_id, NAME, trigger.event_id, iso(repos.clock()), transaction
        )
        repos.stats.stage_counters(
            trigger.tenant_id, playbook_id, transaction, shard_of=trigger.exception_id, **{counter: 1}
        )
        try:
            repos.dynamo.commit(transaction)
        except TransactionCancelled as error:
            if marker_exists(error, transaction):
                return Outcome(
                    NAME, trigger.event_id, "already_handled", reason="redelivery", attempts=attempt
                )
            last_error = error
        except Conflict as error:
            last_error = error
        else:
            return Outcome(NAME, trigger.event_id, "written", (), attempts=attempt)
        logger.info("a counter shard was busy; writing again", extra={"attempt": attempt})
    raise RaceLost(f"{NAME} could not count {trigger.event_id}; nothing written") from last_error
