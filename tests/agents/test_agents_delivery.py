"""At-least-once delivery: redeliveries, injected faults, lost races, bad envelopes, log context."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from exception_playbooks import bus
from exception_playbooks.agents import MisroutedEvent, RaceLost, parse_trigger
from exception_playbooks.agents.notification_relay import EventBridgePublisher, PublishFailed
from exception_playbooks.errors import Unavailable
from exception_playbooks.execution import operations
from exception_playbooks.models.enums import EventType
from exception_playbooks.models.event import TimelineEvent
from exception_playbooks.observability import logger
from exception_playbooks.repository.bundle import Repositories
from pydantic import ValidationError

from local.lambda_runtime import make_context
from local.tables import create_event_bus

from .support import (
    OPERATOR,
    STANDARD,
    TENANT,
    FakeClock,
    FakePublisher,
    add_comment,
    complete_step,
    create_exception,
    envelope_of,
    invoke,
    item_counts,
    last_of,
    of_type,
    pipe_envelope_of,
    timeline,
)


def _trigger_for(agent: str, handler: ModuleType, repos: Repositories) -> TimelineEvent:
    """Bring EX-1 to the point where ``agent`` has work, and return its trigger."""
    _, created = create_exception(repos)
    if agent == "TriageAgent":
        return created
    invoke(handler, "TriageAgent", created)
    triaged = last_of(repos, EventType.TRIAGE_COMPLETED)
    if agent == "PolicyAgent":
        return triaged
    invoke(handler, "PolicyAgent", triaged)
    if agent == "ResolutionAgent":
        return last_of(repos, EventType.PLAYBOOK_STARTED)
    for order in (1, 2, 3, 4):
        complete_step(repos, "EX-1", order)
    if agent == "FeedbackAgent":
        return last_of(repos, EventType.PLAYBOOK_COMPLETED)
    return last_of(repos, EventType.NOTIFICATION_SENT)


@pytest.mark.parametrize("agent", ["TriageAgent", "PolicyAgent", "ResolutionAgent", "FeedbackAgent"])
def test_the_same_envelope_three_times_writes_once(
    agent: str, handler: ModuleType, seeded: Repositories, dynamodb: Any
) -> None:
    trigger = _trigger_for(agent, handler, seeded)
    before = item_counts(dynamodb, seeded)

    first = invoke(handler, agent, trigger)
    after_first = item_counts(dynamodb, seeded)
    again = [invoke(handler, agent, trigger) for _ in range(2)]

    assert [o["status"] for o in (first, *again)] == ["written", "already_handled", "already_handled"]
    assert item_counts(dynamodb, seeded) == after_first
    written = len(first["event_types"])
    assert after_first[1] == before[1] + written
    assert after_first[0] >= before[0] + 1  # the marker (the exception item is updated in place)
    mine = [e for e in timeline(seeded) if e.actor_id == agent]
    assert len(mine) == written


def test_the_relay_writes_nothing_and_keeps_one_dedupe_id(
    handler: ModuleType, seeded: Repositories, dynamodb: Any, publisher: FakePublisher
) -> None:
    sent = _trigger_for("NotificationRelay", handler, seeded)
    before = item_counts(dynamodb, seeded)
    for _ in range(3):
        invoke(handler, "NotificationRelay", sent)
    assert item_counts(dynamodb, seeded) == before
    # No table access by design: subscribers drop copies by dedupe_id (the NotificationSent id).
    assert {p["detail"]["dedupe_id"] for p in publisher.published} == {sent.event_id}


@contextmanager
def _hook(client: Any, event: str, hook: Callable[..., Any]) -> Iterator[None]:
    client.meta.events.register(event, hook, unique_id="agents-test-fault")
    try:
        yield
    finally:
        client.meta.events.unregister(event, unique_id="agents-test-fault")


def test_a_failed_transaction_writes_nothing_and_the_retry_succeeds(
    handler: ModuleType, seeded: Repositories, dynamodb: Any
) -> None:
    trigger = _trigger_for("PolicyAgent", handler, seeded)
    before = item_counts(dynamodb, seeded)

    def fail(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    with _hook(dynamodb, "before-call.dynamodb.TransactWriteItems", fail), pytest.raises(Unavailable):
        invoke(handler, "PolicyAgent", trigger)
    assert item_counts(dynamodb, seeded) == before
    record = seeded.exceptions.get(TENANT, "EX-1")
    assert record is not None and record.current_playbook_id is None

    assert invoke(handler, "PolicyAgent", trigger)["status"] == "written"  # EventBridge's retry
    assert [e.event_type for e in timeline(seeded)][-2:] == [
        EventType.POLICY_EVALUATED,
        EventType.PLAYBOOK_STARTED,
    ]


def test_a_lost_response_after_commit_is_not_written_twice(
    handler: ModuleType, seeded: Repositories, dynamodb: Any
) -> None:
    trigger = _trigger_for("PolicyAgent", handler, seeded)

    def lose_response(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    # after-call: the transaction committed, then the connection died before the answer arrived.
    with _hook(dynamodb, "after-call.dynamodb.TransactWriteItems", lose_response), pytest.raises(Unavailable):
        invoke(handler, "PolicyAgent", trigger)
    committed = item_counts(dynamodb, seeded)

    assert invoke(handler, "PolicyAgent", trigger)["status"] == "already_handled"
    assert item_counts(dynamodb, seeded) == committed
    assert len(of_type(timeline(seeded), EventType.PLAYBOOK_STARTED)) == 1


def _concurrently(
    repos: Repositories, monkeypatch: pytest.MonkeyPatch, write: Callable[[], object], times: int
) -> None:
    """Make another writer commit right after each of the agent's next ``times`` exception reads
    (``get_with``: every agent reads the exception with the packs head, and the catalogue stamps
    when it matches)."""
    original = repos.exceptions.get_with
    left = [times]
    writing = [False]

    def racing_get(tenant_id: str, exception_id: str, also: Any) -> Any:
        record = original(tenant_id, exception_id, also)
        if left[0] > 0 and not writing[0]:  # the other writer's own reads do not race
            left[0] -= 1
            writing[0] = True
            try:
                write()
            finally:
                writing[0] = False
        return record

    monkeypatch.setattr(repos.exceptions, "get_with", racing_get)


def test_a_lost_race_is_re_read_and_retried(
    handler: ModuleType, seeded: Repositories, monkeypatch: pytest.MonkeyPatch
) -> None:
    trigger = _trigger_for("PolicyAgent", handler, seeded)
    # An operator recalculates between the agent's read and its commit: the operator was faster.
    _concurrently(seeded, monkeypatch, lambda: operations.recalculate(seeded, OPERATOR, "EX-1"), times=1)

    outcome = invoke(handler, "PolicyAgent", trigger)

    assert outcome["attempts"] == 2
    assert last_of(seeded, EventType.POLICY_EVALUATED).payload["decision"] == "already_assigned"
    started = of_type(timeline(seeded), EventType.PLAYBOOK_STARTED)
    assert [(e.actor_type.value, e.actor_id) for e in started] == [("human", "alice")]


def test_endless_races_raise_and_write_nothing_of_the_agent(
    handler: ModuleType, seeded: Repositories, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, created = create_exception(seeded)

    _concurrently(seeded, monkeypatch, lambda: add_comment(seeded, "EX-1", "busy"), times=10)
    with pytest.raises(RaceLost):
        invoke(handler, "TriageAgent", created)
    assert of_type(timeline(seeded), EventType.TRIAGE_COMPLETED) == []


def test_concurrent_completions_of_one_playbook_lose_no_duration(
    handler: ModuleType, seeded: Repositories, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    completions = []
    for exception_id, seconds in (("EX-1", 100), ("EX-2", 200)):
        _, created = create_exception(seeded, exception_id)
        invoke(handler, "TriageAgent", created)
        invoke(handler, "PolicyAgent", last_of(seeded, EventType.TRIAGE_COMPLETED, exception_id))
        clock.advance(seconds)
        for order in (1, 2, 3, 4):
            complete_step(seeded, exception_id, order)
        completions.append(last_of(seeded, EventType.PLAYBOOK_COMPLETED, exception_id))

    # EX-2's feedback commits between EX-1's read of the stats item and its transaction.
    original = seeded.dynamo.transact_get
    raced = [False]

    def racing_read(requests: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any] | None]:
        items = original(requests)
        if not raced[0]:
            raced[0] = True
            invoke(handler, "FeedbackAgent", completions[1])
        return items

    monkeypatch.setattr(seeded.dynamo, "transact_get", racing_read)
    outcome = invoke(handler, "FeedbackAgent", completions[0])

    assert outcome["attempts"] == 2
    stats = seeded.stats.get(TENANT, STANDARD)
    assert stats["runs_completed"] == 2
    assert stats["mean_time_to_complete_seconds"] == 150.0
    assert stats["p90_time_to_complete_seconds"] == 200.0


# -- envelopes -------------------------------------------------------------------------------------
def test_the_pipe_encoding_yields_the_same_trigger(handler: ModuleType, seeded: Repositories) -> None:
    """In AWS the detail carries seq as a string and payload as DynamoDB JSON; the result is the same."""
    trigger = _trigger_for("ResolutionAgent", handler, seeded)  # PlaybookStarted: a payload with numbers
    encoded = pipe_envelope_of(trigger)
    assert encoded["detail"]["payload"]["step_count"] == {"N": "4"}
    assert parse_trigger(encoded) == parse_trigger(envelope_of(trigger))

    result = handler.resolution_handler(encoded, make_context("agents-resolution", timeout_seconds=60))

    assert result["status"] == "written"
    assert invoke(handler, "ResolutionAgent", trigger)["status"] == "already_handled"


def test_bad_envelopes_raise(handler: ModuleType, seeded: Repositories) -> None:
    _, created = create_exception(seeded)
    good = envelope_of(created)
    context = make_context("agents-triage", timeout_seconds=60)
    no_tenant = {**good, "detail": {k: v for k, v in good["detail"].items() if k != "tenant_id"}}
    for broken in (
        {**good, "source": "somebody.else"},
        {**good, "detail-type": "TriageCompleted"},
        no_tenant,
        {k: v for k, v in good.items() if k != "detail"},
    ):
        with pytest.raises(ValidationError):
            handler.triage_handler(broken, context)
    with pytest.raises(MisroutedEvent):
        handler.policy_handler(good, make_context("agents-policy", timeout_seconds=60))
    assert of_type(timeline(seeded), EventType.TRIAGE_COMPLETED) == []


def test_every_log_line_carries_tenant_and_correlation_id(
    handler: ModuleType, seeded: Repositories, dynamodb: Any
) -> None:
    _, created = create_exception(seeded)

    def fail(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    # Powertools' handler keeps the stream it was built with; point it at a buffer for the test.
    buffer = io.StringIO()
    stream_handler = logger.registered_handler
    assert isinstance(stream_handler, logging.StreamHandler)
    previous = stream_handler.setStream(buffer)
    try:
        with _hook(dynamodb, "before-call.dynamodb.TransactWriteItems", fail), pytest.raises(Unavailable):
            invoke(handler, "TriageAgent", created)
        invoke(handler, "TriageAgent", created)
    finally:
        stream_handler.setStream(previous)

    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    assert len(lines) >= 4 and any(line["level"] == "ERROR" for line in lines)
    for line in lines:
        assert line["tenant_id"] == TENANT
        assert line["correlation_id"] == created.event_id
        assert line["agent"] == "TriageAgent"


# -- the production publisher ----------------------------------------------------------------------
def test_eventbridge_publisher_puts_on_the_bus(dynamodb: Any) -> None:
    from exception_playbooks.config import settings

    events = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    create_event_bus(events, settings())
    queue = sqs.create_queue(QueueName="deliveries")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="deliveries",
        EventBusName=settings().event_bus_name,
        EventPattern=json.dumps({"source": [bus.NOTIFICATION_SOURCE]}),
    )
    events.put_targets(
        Rule="deliveries", EventBusName=settings().event_bus_name, Targets=[{"Id": "q", "Arn": arn}]
    )

    EventBridgePublisher().publish(
        source=bus.NOTIFICATION_SOURCE, detail_type=bus.NOTIFICATION_REQUESTED, detail={"dedupe_id": "e-1"}
    )

    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    delivered = [json.loads(m["Body"]) for m in messages]
    assert [(d["detail-type"], d["detail"]) for d in delivered] == [
        ("NotificationRequested", {"dedupe_id": "e-1"})
    ]


def test_eventbridge_publisher_raises_on_a_failed_entry() -> None:
    class Refusing:
        def put_events(self, **_: Any) -> dict[str, Any]:
            return {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "boom"}],
            }

    with pytest.raises(PublishFailed, match="InternalFailure"):
        EventBridgePublisher("bus", client=Refusing()).publish(source="s", detail_type="d", detail={})


@pytest.mark.parametrize(
    ("code", "redelivery"), [("ConditionalCheckFailed", True), ("TransactionConflict", False)]
)
def test_only_a_failed_marker_condition_means_already_handled(code: str, redelivery: bool) -> None:
    """A conflict on the marker (a duplicate committing right now) is retried, not taken as done."""
    from botocore.exceptions import ClientError
    from exception_playbooks.agents.base import marker_exists
    from exception_playbooks.repository.dynamo import Transaction, TransactionCancelled, translate_errors

    transaction = Transaction()
    transaction.put("state", {"pk": "m"}, label="agent-marker")
    transaction.put("state", {"pk": "x"}, label="exception")
    response: Any = {
        "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
        "CancellationReasons": [{"Code": code}, {"Code": "None"}],
    }
    with pytest.raises(TransactionCancelled) as raised, translate_errors():
        raise ClientError(response, "TransactWriteItems")
    assert marker_exists(raised.value, transaction) is redelivery
