"""The whole chain on moto: the events stream drives the agents through ``local.dispatcher``.

The dispatcher reads the events table's DynamoDB stream as the EventBridge Pipe does and calls
``functions/agents/handler.py:<rule.handler>`` for every matching ``bus.AGENTS`` rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from exception_playbooks import bus
from exception_playbooks.models.enums import ActorType, EventType, Severity
from exception_playbooks.repository.bundle import Repositories

from local.aws_calls import count_aws_calls
from local.dispatcher import Dispatcher, streams_client
from local.lambda_runtime import make_context

from .support import (
    STANDARD,
    TENANT,
    FakeClock,
    FakePublisher,
    complete_step,
    create_exception,
    of_type,
    patch_severity,
    timeline,
)

# ARCHITECTURE.md: an agent handling one event makes at most 3 DynamoDB calls (warm).
AGENT_BUDGET = 3


@dataclass(frozen=True)
class Delivered:
    agent: str
    event_type: str
    dynamodb_calls: int
    status: str


class Chain:
    """A dispatcher on the moto stream that records what each agent invocation cost."""

    def __init__(self, handler: ModuleType, dynamodb: Any, repos: Repositories):
        self.delivered: list[Delivered] = []
        self._handler = handler
        self.dispatcher = Dispatcher(
            dynamodb=dynamodb,
            streams=streams_client(region_name="us-east-1"),
            events_table=repos.dynamo.events_table,
            invoke=self._invoke,
            max_attempts=1,
        )

    def _invoke(self, rule: bus.AgentRule, envelope: dict[str, Any]) -> Any:
        with count_aws_calls() as calls:
            result = getattr(self._handler, rule.handler)(
                envelope, make_context(f"agents-{rule.handler}", timeout_seconds=60)
            )
        self.delivered.append(
            Delivered(rule.name, envelope["detail-type"], calls.count("dynamodb"), result["status"])
        )
        return result

    def drain(self) -> None:
        self.dispatcher.drain(timeout=20)
        assert self.dispatcher.dead_letters == []


def _gist(event: Any) -> str:
    """The one field of an agent event a reader wants to see next to it."""
    payload = event.payload
    gist = {
        EventType.TRIAGE_COMPLETED: lambda: f"severity={payload['severity']} tags={payload['tags']}",
        EventType.POLICY_EVALUATED: lambda: f"decision={payload['decision']}",
        EventType.RESOLUTION_SUGGESTED: lambda: payload["next_step"]["suggestion"],
        EventType.FEEDBACK_CAPTURED: lambda: (
            f"{payload['steps_completed']} completed, {payload['steps_skipped']} skipped, "
            f"{payload['time_to_complete_seconds']} s, {payload['actors']}"
        ),
    }.get(event.event_type)
    return f"  | {gist()}" if gist else ""


def _types_after(events: list[Any], seq: int) -> list[str]:
    return [e.event_type.value for e in events if e.seq > seq]


def test_one_exception_from_creation_to_feedback(
    handler: ModuleType,
    seeded: Repositories,
    dynamodb: Any,
    clock: FakeClock,
    publisher: FakePublisher,
) -> None:
    chain = Chain(handler, dynamodb, seeded)
    _, created = create_exception(
        seeded, attributes={"trade_id": "T-1", "ssi_id": "SSI-9", "counterparty_tier": 1}
    )

    chain.drain()
    events = timeline(seeded)
    assert _types_after(events, created.seq) == [
        "TriageCompleted",
        "PolicyEvaluated",
        "PlaybookStarted",
        "ResolutionSuggested",
    ]
    assert events[-1].payload["next_step"]["step_order"] == 1

    clock.advance(90)
    complete_step(seeded, "EX-1", 1)
    chain.drain()
    assert timeline(seeded)[-1].payload["next_step"]["name"] == "Assign to settlements queue"

    # A person raises the severity: triage runs again, the run keeps its progress.
    clock.advance(30)
    updated = patch_severity(seeded, "EX-1", Severity.CRITICAL)
    chain.drain()
    events = timeline(seeded)
    assert _types_after(events, updated.seq) == ["TriageCompleted", "PolicyEvaluated"]
    assert events[-2].payload["severity"] == "critical" and events[-2].payload["severity_source"] == "human"
    assert events[-1].payload["decision"] == "already_assigned"
    record = seeded.exceptions.get(TENANT, "EX-1")
    assert record is not None and record.current_step == 2 and record.severity is Severity.CRITICAL
    assert len(of_type(events, EventType.PLAYBOOK_STARTED)) == 1

    for order, pause in ((2, 60), (3, 120), (4, 45)):
        clock.advance(pause)
        complete_step(seeded, "EX-1", order)
        chain.drain()
    events = timeline(seeded)

    print("\nTimeline of EX-1:")
    for event in events:
        actor = f"{event.actor_type.value}:{event.actor_id}"
        print(f"  {event.seq:>2} {event.event_type.value:<22} {actor:<22}{_gist(event)}")

    assert events[-1].event_type is EventType.FEEDBACK_CAPTURED
    assert events[-1].payload["time_to_complete_seconds"] == 90 + 30 + 60 + 120 + 45
    assert events[-1].payload["steps_completed"] == 4 and events[-1].payload["actors"] == ["human:alice"]
    suggestions = [e.payload["next_step"] for e in of_type(events, EventType.RESOLUTION_SUGGESTED)]
    assert [s["step_order"] for s in suggestions] == [1, 2, 3, 4]
    assert [s["requires_approval"] for s in suggestions] == [False, False, True, True]  # critical from step 3
    stats = seeded.stats.get(TENANT, STANDARD)
    assert (stats["runs_started"], stats["runs_completed"]) == (1, 1)
    assert stats["mean_time_to_complete_seconds"] == stats["p90_time_to_complete_seconds"] == 345.0
    assert [p["detail_type"] for p in publisher.published] == ["NotificationRequested"]

    # Agents never complete or skip a step: every step event is a person's.
    step_events = [
        e
        for e in events
        if e.event_type in {EventType.PLAYBOOK_STEP_COMPLETED, EventType.PLAYBOOK_STEP_SKIPPED}
    ]
    assert len(step_events) == 4 and {e.actor_type for e in step_events} == {ActorType.HUMAN}
    assert all(e.actor_type is ActorType.AGENT for e in events if e.actor_id in {r.name for r in bus.AGENTS})

    print("DynamoDB calls per agent event:")
    for item in chain.delivered:
        print(f"  {item.agent:<17} {item.event_type:<22} {item.status:<16} {item.dynamodb_calls}")
    assert all(item.dynamodb_calls <= AGENT_BUDGET for item in chain.delivered)


def test_agents_alone_never_move_the_run(handler: ModuleType, seeded: Repositories, dynamodb: Any) -> None:
    """Left to themselves the agents assign and suggest, and the run stays at step 1."""
    chain = Chain(handler, dynamodb, seeded)
    create_exception(seeded)
    chain.drain()
    chain.drain()
    record = seeded.exceptions.get(TENANT, "EX-1")
    assert record is not None
    assert record.current_step == 1 and {s.status.value for s in record.projection.steps} == {"pending"}
    assert not of_type(timeline(seeded), EventType.PLAYBOOK_STEP_COMPLETED)
    assert not of_type(timeline(seeded), EventType.PLAYBOOK_STEP_SKIPPED)
