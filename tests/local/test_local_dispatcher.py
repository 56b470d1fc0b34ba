"""local.dispatcher against moto's in-process mock: stream -> envelope -> agents, retries, dead letters."""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from exception_playbooks import bus

from local.dispatcher import Checkpoint, Dispatcher, registry_invoker, streams_client, timeline_event
from local.lambda_runtime import FunctionRegistry

Delivered = list[tuple[str, dict[str, Any]]]


def _item(tenant: str, exception_id: str, seq: int, event_type: str, **payload: Any) -> dict[str, Any]:
    """An events-table item as the repositories write it (DynamoDB JSON)."""
    return {
        "pk": {"S": f"T#{tenant}#EX#{exception_id}"},
        "seq": {"N": str(seq)},
        "tenant_id": {"S": tenant},
        "event_id": {"S": f"{exception_id}-{seq}"},
        "event_type": {"S": event_type},
        "exception_id": {"S": exception_id},
        "actor_type": {"S": "human"},
        "actor_id": {"S": "alice"},
        "created_at": {"S": f"2026-01-01T00:00:0{seq % 10}.000Z"},
        "payload": {
            "M": {
                k: {"N": str(v)} if isinstance(v, int | float) else {"S": str(v)} for k, v in payload.items()
            }
        },
    }


def _dispatcher(
    client: Any, settings: Any, invoke: Callable[[bus.AgentRule, dict[str, Any]], Any], **kw: Any
) -> Dispatcher:
    return Dispatcher(
        dynamodb=client,
        streams=streams_client(region_name="us-east-1"),
        events_table=settings.events_table,
        invoke=invoke,
        backoff_seconds=0.001,
        **kw,
    )


def _recorder(delivered: Delivered) -> Callable[[bus.AgentRule, dict[str, Any]], None]:
    def invoke(rule: bus.AgentRule, envelope: dict[str, Any]) -> None:
        delivered.append((rule.handler, envelope))

    return invoke


def test_an_inserted_event_reaches_the_matching_agent_in_the_eventbridge_envelope(
    moto_dynamodb: Any, settings: Any
) -> None:
    delivered: Delivered = []
    dispatcher = _dispatcher(moto_dynamodb, settings, _recorder(delivered))
    moto_dynamodb.put_item(
        TableName=settings.events_table, Item=_item("acme", "EX-1", 1, "ExceptionCreated", amount=12.5)
    )
    assert dispatcher.drain(5) == 1
    assert [handler for handler, _ in delivered] == ["triage_handler"]
    envelope = delivered[0][1]
    assert envelope["source"] == bus.TIMELINE_SOURCE
    assert envelope["detail-type"] == "ExceptionCreated"
    assert envelope["id"] == "EX-1-1"
    assert envelope["time"] == "2026-01-01T00:00:01.000Z"
    assert envelope["detail"] == {
        "event_id": "EX-1-1",
        "seq": 1,
        "event_type": "ExceptionCreated",
        "exception_id": "EX-1",
        "actor_type": "human",
        "actor_id": "alice",
        "created_at": "2026-01-01T00:00:01.000Z",
        "payload": {"amount": 12.5},
        "pk": "T#acme#EX#EX-1",
        "tenant_id": "acme",
    }
    assert envelope == bus.envelope("acme", {k: v for k, v in envelope["detail"].items() if k != "tenant_id"})
    assert dispatcher.drain(5) == 0  # nothing is delivered twice


def test_records_written_by_transactions_are_delivered(moto_dynamodb: Any, settings: Any) -> None:
    delivered: Delivered = []
    dispatcher = _dispatcher(moto_dynamodb, settings, _recorder(delivered))
    moto_dynamodb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": settings.state_table,
                    "Item": {"pk": {"S": "T#acme#EX#EX-2"}, "sk": {"S": "EXCEPTION"}},
                }
            },
            {
                "Put": {
                    "TableName": settings.events_table,
                    "Item": _item("acme", "EX-2", 1, "PlaybookStarted"),
                }
            },
            {
                "Put": {
                    "TableName": settings.events_table,
                    "Item": _item("acme", "EX-2", 2, "PlaybookCompleted"),
                }
            },
        ]
    )
    dispatcher.drain(5)
    assert [h for h, _ in delivered] == ["resolution_handler", "stats_counter_handler", "feedback_handler"]


def test_every_event_type_goes_exactly_where_the_bus_rules_say(moto_dynamodb: Any, settings: Any) -> None:
    from exception_playbooks.models.enums import EventType

    delivered: Delivered = []
    dispatcher = _dispatcher(moto_dynamodb, settings, _recorder(delivered))
    for seq, event_type in enumerate(EventType, start=1):
        moto_dynamodb.put_item(
            TableName=settings.events_table, Item=_item("acme", "EX-3", seq, event_type.value)
        )
    dispatcher.drain(5)
    expected = [
        (rule.handler, event_type.value)
        for event_type in EventType
        for rule in bus.AGENTS
        if event_type in rule.event_types
    ]
    assert [(h, e["detail-type"]) for h, e in delivered] == expected
    assert ("triage_handler", "ExceptionCreated") in expected  # sanity: the table is not empty


def test_events_agents_write_are_delivered_within_the_same_drain_in_order(
    moto_dynamodb: Any, settings: Any
) -> None:
    delivered: list[str] = []

    def agents(rule: bus.AgentRule, envelope: dict[str, Any]) -> None:
        detail = envelope["detail"]
        delivered.append(f"{rule.name}:{detail['exception_id']}:{detail['seq']}")
        if rule.name == "TriageAgent":
            item = _item("acme", detail["exception_id"], detail["seq"] + 1, "TriageCompleted")
            moto_dynamodb.put_item(TableName=settings.events_table, Item=item)

    dispatcher = _dispatcher(moto_dynamodb, settings, agents)
    for exception_id in ("A", "B"):
        moto_dynamodb.put_item(
            TableName=settings.events_table, Item=_item("acme", exception_id, 1, "ExceptionCreated")
        )
    dispatcher.drain(5)
    assert delivered == ["TriageAgent:A:1", "TriageAgent:B:1", "PolicyAgent:A:2", "PolicyAgent:B:2"]


def test_a_failing_agent_is_retried_then_dead_lettered_and_delivery_goes_on(
    moto_dynamodb: Any, settings: Any
) -> None:
    attempts: dict[str, int] = {}

    def flaky(rule: bus.AgentRule, envelope: dict[str, Any]) -> None:
        exception_id = envelope["detail"]["exception_id"]
        attempts[exception_id] = attempts.get(exception_id, 0) + 1
        if exception_id == "BROKEN" or attempts[exception_id] < 2:
            raise RuntimeError(f"agent failed for {exception_id}")

    dispatcher = _dispatcher(moto_dynamodb, settings, flaky, max_attempts=3)
    for exception_id in ("FLAKY", "BROKEN", "LATER"):
        moto_dynamodb.put_item(
            TableName=settings.events_table, Item=_item("acme", exception_id, 1, "ExceptionCreated")
        )
    dispatcher.drain(5)
    assert attempts == {"FLAKY": 2, "BROKEN": 3, "LATER": 2}
    [letter] = dispatcher.dead_letters
    assert (letter.agent, letter.exception_id, letter.tenant_id, letter.attempts) == (
        "TriageAgent",
        "BROKEN",
        "acme",
        3,
    )
    assert "agent failed for BROKEN" in letter.error
    assert letter.envelope["detail"]["exception_id"] == "BROKEN"
    assert [(d.exception_id, d.ok, d.attempts) for d in dispatcher.deliveries] == [
        ("FLAKY", True, 2),
        ("BROKEN", False, 3),
        ("LATER", True, 2),
    ]


def test_latest_skips_what_was_committed_before(moto_dynamodb: Any, settings: Any) -> None:
    moto_dynamodb.put_item(TableName=settings.events_table, Item=_item("acme", "OLD", 1, "ExceptionCreated"))
    delivered: Delivered = []
    dispatcher = _dispatcher(moto_dynamodb, settings, _recorder(delivered), start_at="LATEST")
    dispatcher.drain(5)
    moto_dynamodb.put_item(TableName=settings.events_table, Item=_item("acme", "NEW", 1, "ExceptionCreated"))
    dispatcher.drain(5)
    assert [e["detail"]["exception_id"] for _, e in delivered] == ["NEW"]


def test_the_checkpoint_moves_only_after_the_batch_was_made_durable(
    moto_dynamodb: Any, settings: Any, tmp_path: Path
) -> None:
    """``before_checkpoint`` (the local stack's commit barrier) runs after the batch's agent calls
    and before the checkpoint is written; when it fails, nothing is checkpointed and the batch
    is delivered again (the agents' writes of it may not be durable)."""
    order: list[str] = []
    failures = [RuntimeError("DynamoDB Local did not answer")]

    def invoke(rule: bus.AgentRule, envelope: dict[str, Any]) -> None:
        order.append(f"{rule.handler}:{envelope['detail']['exception_id']}")

    def barrier() -> None:
        order.append("barrier")
        if failures:
            raise failures.pop()

    checkpoint = Checkpoint(tmp_path / "checkpoint.json")
    dispatcher = _dispatcher(
        moto_dynamodb, settings, invoke, checkpoint=checkpoint, before_checkpoint=barrier
    )
    moto_dynamodb.put_item(TableName=settings.events_table, Item=_item("acme", "EX", 1, "ExceptionCreated"))
    with pytest.raises(RuntimeError):
        dispatcher.poll_once()
    assert order == ["triage_handler:EX", "barrier"]
    assert not checkpoint.path.exists()

    assert dispatcher.poll_once() == 1  # the same batch again
    assert order[2:] == ["triage_handler:EX", "barrier"]
    assert checkpoint.path.exists()
    assert dispatcher.poll_once() == 0
    assert order[4:] == []  # an empty read needs no barrier


def test_modified_items_are_not_delivered_again(moto_dynamodb: Any, settings: Any) -> None:
    delivered: Delivered = []
    dispatcher = _dispatcher(moto_dynamodb, settings, _recorder(delivered))
    moto_dynamodb.put_item(TableName=settings.events_table, Item=_item("acme", "EX", 1, "ExceptionCreated"))
    moto_dynamodb.put_item(
        TableName=settings.events_table, Item=_item("acme", "EX", 1, "ExceptionCreated", v=2)
    )
    assert dispatcher.drain(5) == 2
    assert len(delivered) == 1


def test_the_background_thread_delivers_within_a_second(moto_dynamodb: Any, settings: Any) -> None:
    arrived = threading.Event()

    def invoke(rule: bus.AgentRule, envelope: dict[str, Any]) -> None:
        arrived.set()

    dispatcher = _dispatcher(moto_dynamodb, settings, invoke, idle_seconds=0.2)
    dispatcher.start()
    try:
        started = time.monotonic()
        moto_dynamodb.put_item(
            TableName=settings.events_table, Item=_item("acme", "EX", 1, "ExceptionCreated")
        )
        dispatcher.notify()
        assert arrived.wait(5.0)
        # "Within about a second"; the wake-up makes it milliseconds, the slack is for loaded CI hosts.
        assert time.monotonic() - started < 1.5
    finally:
        dispatcher.stop()


def test_timeline_event_from_a_new_image() -> None:
    tenant, event = timeline_event({**_item("acme", "EX-1", 7, "CommentAdded"), "extra": {"S": "ignored"}})
    assert tenant == "acme"
    assert event["seq"] == 7 and isinstance(event["seq"], int)
    assert event["pk"] == "T#acme#EX#EX-1"  # forwarded like the Pipe: agents check the tenant on it
    assert "extra" not in event and "tenant_id" not in event
    image = _item("t-2", "EX-1", 1, "CommentAdded")
    del image["tenant_id"]
    assert timeline_event(image)[0] == "t-2"  # the tenant is also in the key


def test_registry_invoker_calls_the_named_agent_handler(tmp_path: Path) -> None:
    agents = tmp_path / "functions" / "agents"
    agents.mkdir(parents=True)
    (agents / "handler.py").write_text(
        textwrap.dedent(
            """
            CALLS = []

            def triage_handler(event, context):
                remaining = context.get_remaining_time_in_millis()
                CALLS.append((event["detail-type"], context.function_name, remaining))
            """
        )
    )
    registry = FunctionRegistry(tmp_path / "functions")
    invoke = registry_invoker(registry)
    rule = next(r for r in bus.AGENTS if r.handler == "triage_handler")
    invoke(
        rule, bus.envelope("acme", {"event_id": "e", "event_type": "ExceptionCreated", "created_at": "now"})
    )
    [(detail_type, function_name, remaining)] = registry.module("agents").CALLS
    assert detail_type == "ExceptionCreated"
    assert function_name == "exception-playbooks-local-agents-triage"
    assert remaining > 50_000


def test_drain_gives_up_when_agents_never_stop_writing(moto_dynamodb: Any, settings: Any) -> None:
    counter = {"seq": 1}

    def echo(rule: bus.AgentRule, envelope: dict[str, Any]) -> None:
        counter["seq"] += 1
        item = _item("acme", "LOOP", counter["seq"], "ExceptionCreated")
        moto_dynamodb.put_item(TableName=settings.events_table, Item=item)

    dispatcher = _dispatcher(moto_dynamodb, settings, echo)
    moto_dynamodb.put_item(TableName=settings.events_table, Item=_item("acme", "LOOP", 1, "ExceptionCreated"))
    with pytest.raises(TimeoutError):
        dispatcher.drain(0.3)
