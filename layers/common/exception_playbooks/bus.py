"""The event envelope and rule patterns of the timeline bus: one definition for CDK and the local stack.

Committed timeline events travel events-table stream -> EventBridge Pipe -> bus with
``source`` = TIMELINE_SOURCE, ``detail-type`` = the event type and ``detail`` = the
timeline event (with ``tenant_id`` added). Each agent has one rule built from ``AGENTS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models.enums import EventType

TIMELINE_SOURCE = "exception-playbooks.timeline"
NOTIFICATION_SOURCE = "exception-playbooks.notifications"
NOTIFICATION_REQUESTED = "NotificationRequested"


@dataclass(frozen=True)
class AgentRule:
    name: str  # actor_id the agent writes with
    handler: str  # function name inside functions/agents/handler.py
    event_types: tuple[EventType, ...]

    @property
    def pattern(self) -> dict[str, Any]:
        return {"source": [TIMELINE_SOURCE], "detail-type": [t.value for t in self.event_types]}


AGENTS: tuple[AgentRule, ...] = (
    AgentRule("TriageAgent", "triage_handler", (EventType.EXCEPTION_CREATED, EventType.EXCEPTION_UPDATED)),
    AgentRule("PolicyAgent", "policy_handler", (EventType.TRIAGE_COMPLETED,)),
    AgentRule(
        "ResolutionAgent",
        "resolution_handler",
        (EventType.PLAYBOOK_STARTED, EventType.PLAYBOOK_STEP_COMPLETED, EventType.PLAYBOOK_STEP_SKIPPED),
    ),
    AgentRule("FeedbackAgent", "feedback_handler", (EventType.PLAYBOOK_COMPLETED,)),
    # Playbook run counters, from the timeline (off the operators' transactions).
    AgentRule(
        "StatsCounter",
        "stats_counter_handler",
        (EventType.PLAYBOOK_STARTED, EventType.PLAYBOOK_STEP_COMPLETED, EventType.PLAYBOOK_STEP_SKIPPED),
    ),
    # Turns a committed NotificationSent into a NotificationRequested for delivery systems.
    AgentRule("NotificationRelay", "notification_relay_handler", (EventType.NOTIFICATION_SENT,)),
)

# The SLA function (functions/sla) keeps each exception's schedules in step with these events;
# it is not an agent of AGENTS (its own construct: infra/exception_playbooks_infra/sla.py).
SLA_SYNC_RULE = AgentRule(
    "SlaClock",
    "lambda_handler",
    (
        EventType.EXCEPTION_CREATED,
        EventType.EXCEPTION_UPDATED,
        EventType.STATUS_CHANGED,
        EventType.APPROVAL_REQUESTED,
    ),
)


def envelope(
    tenant_id: str, event: dict[str, Any], *, region: str = "us-east-1", account: str = "000000000000"
) -> dict[str, Any]:
    """The EventBridge event an agent receives for one committed timeline event."""
    return {
        "version": "0",
        "id": event["event_id"],
        "detail-type": event["event_type"],
        "source": TIMELINE_SOURCE,
        "account": account,
        "time": event["created_at"],
        "region": region,
        "resources": [],
        "detail": {**event, "tenant_id": tenant_id},
    }


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """Evaluate the (source, detail-type) subset of EventBridge patterns used by ``AGENTS``."""
    return all(event.get(field) in allowed for field, allowed in pattern.items())


def rules_for(event: dict[str, Any]) -> list[AgentRule]:
    return [rule for rule in AGENTS if matches(rule.pattern, event)]
