"""The timeline agents: triage, policy, resolution, feedback, the stats counter and the notification relay.

Each reacts to one committed timeline event (EventBridge, at-least-once) with at most one
DynamoDB transaction that carries its own idempotency marker (see ``base``). Agents act as
``actor_type: agent`` with their ``bus.AGENTS`` name, and never complete or skip a step.
"""

from __future__ import annotations

from .base import Agent, MisroutedEvent, Outcome, RaceLost
from .envelope import ForgedEvent, TimelineDetail, TimelineEnvelope, Trigger, parse_trigger
from .feedback import FeedbackAgent
from .policy import PolicyAgent
from .resolution import ResolutionAgent
from .triage import TriageAgent

AGENT_CLASSES: dict[str, type[Agent]] = {
    cls.name: cls for cls in (TriageAgent, PolicyAgent, ResolutionAgent, FeedbackAgent)
}

__all__ = [
    "AGENT_CLASSES",
    "Agent",
    "FeedbackAgent",
    "ForgedEvent",
    "MisroutedEvent",
    "Outcome",
    "PolicyAgent",
    "RaceLost",
    "ResolutionAgent",
    "TimelineDetail",
    "TimelineEnvelope",
    "TriageAgent",
    "Trigger",
    "parse_trigger",
]
