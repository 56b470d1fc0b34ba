"""Outbox pipe (events stream -> bus) and one rule + Lambda + DLQ per bus.AGENTS entry."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from exception_playbooks import bus

from .conftest import Synthesized
from .support import referenced_ids


def _only(resources: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources.items()))


def _timeline(synthesized: Synthesized) -> Any:
    return synthesized.stack.node.find_child("Timeline")


def test_pipe_reads_the_events_stream_and_puts_to_the_bus(synthesized: Synthesized) -> None:
    timeline = _timeline(synthesized)
    events_table = synthesized.logical_id(synthesized.stack.node.find_child("Data").events_table)
    bus_id = synthesized.logical_id(timeline.bus)
    pipe = synthesized.resources[synthesized.logical_id(timeline.pipe)]
    props = pipe["Properties"]

    assert props["Source"] == {"Fn::GetAtt": [events_table, "StreamArn"]}
    assert props["Target"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    stream = props["SourceParameters"]["DynamoDBStreamParameters"]
    assert stream["StartingPosition"] == "LATEST"
    assert stream["DeadLetterConfig"]["Arn"] == {
        "Fn::GetAtt": [synthesized.logical_id(timeline.pipe_dlq), "Arn"]
    }
    assert stream["MaximumRetryAttempts"] > 0
    filters = props["SourceParameters"]["FilterCriteria"]["Filters"]
    assert [json.loads(f["Pattern"]) for f in filters] == [{"eventName": ["INSERT"]}]

    target = props["TargetParameters"]
    assert target["EventBridgeEventBusParameters"] == {
        "Source": bus.TIMELINE_SOURCE,
        "DetailType": "$.dynamodb.NewImage.event_type.S",
    }
    assert len(target["InputTemplate"]) <= 8192  # the service limit
    assert props["LogConfiguration"]["Level"] == "ERROR"


def _resolve(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.removeprefix("$.").split("."):
        value = value[part]
    return value


def _render_input_template(template: str, record: dict[str, Any]) -> Any:
    """What EventBridge Pipes does with the template: quoted placeholders become JSON strings,
    unquoted ones are replaced by the JSON value found at their path."""
    quoted = re.sub(r'"<(\$[^>]+)>"', lambda m: json.dumps(str(_resolve(record, m.group(1)))), template)
    rendered = re.sub(r"<(\$[^>]+)>", lambda m: json.dumps(_resolve(record, m.group(1))), quoted)
    return json.loads(rendered)


def _normalize_pipe_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """The normalisation consumers apply (documented in infra/exception_playbooks_infra/agents.py)."""
    from boto3.dynamodb.types import TypeDeserializer

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    assert detail.pop("encoding") == "dynamodb-stream"
    deserializer = TypeDeserializer()
    return {
        **detail,
        "seq": int(detail["seq"]),
        "payload": {k: plain(deserializer.deserialize(v)) for k, v in detail["payload"].items()},
    }


def test_pipe_template_turns_a_committed_event_item_into_the_agents_envelope(
    synthesized: Synthesized,
) -> None:
    """The contract with the domain core: an event item as it writes it, through the stream and the
    pipe, reaches the agents as bus.envelope() describes (after the documented normalisation)."""
    from boto3.dynamodb.types import TypeSerializer

    tenant_id = "acme"
    event = {
        "event_id": "01HZX0EVENT",
        "seq": 7,
        "event_type": "ExceptionCreated",
        "exception_id": "ex-1",
        "actor_type": "human",
        "actor_id": "user-1",
        "created_at": "2025-01-02T03:04:05.678Z",
        "payload": {
            "severity": "high",
            "amount": 125,
            "tags": ["a", "b"],
            "note": 'said "hi"\n',
            "nested": {},
        },
    }
    item = {"pk": f"T#{tenant_id}#EX#ex-1", "tenant_id": tenant_id, "chain_depth": 2, **event}
    serializer = TypeSerializer()
    stream_record = {
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"pk": serializer.serialize(item["pk"]), "seq": serializer.serialize(7)},
            "NewImage": {k: serializer.serialize(v) for k, v in item.items()},
        },
    }

    pipe = synthesized.resources[synthesized.logical_id(_timeline(synthesized).pipe)]
    target = pipe["Properties"]["TargetParameters"]
    detail = _normalize_pipe_detail(_render_input_template(target["InputTemplate"], stream_record))
    detail_type = _resolve(stream_record, target["EventBridgeEventBusParameters"]["DetailType"])

    expected = bus.envelope(tenant_id, event)
    # Plus the key (agents check the tenant against it) and the agent-hop count (loop guard).
    assert detail == {**expected["detail"], "pk": item["pk"], "chain_depth": "2"}
    assert detail_type == expected["detail-type"]
    assert [rule.name for rule in bus.rules_for(expected)] == ["TriageAgent"]


def test_one_rule_per_agent_with_its_pattern_retries_and_dead_letter_queue(synthesized: Synthesized) -> None:
    timeline = _timeline(synthesized)
    agents = synthesized.stack.node.find_child("Agents")
    rules = synthesized.of_type("AWS::Events::Rule")
    assert len(rules) == len(bus.AGENTS) + 1  # and the SLA clock's sync rule (test_sla.py)
    bus_id = synthesized.logical_id(timeline.bus)

    for agent in bus.AGENTS:
        rule = synthesized.resources[synthesized.logical_id(agents.rules[agent.name])]["Properties"]
        function_id = synthesized.logical_id(agents.functions[agent.name])
        dlq_id = synthesized.logical_id(agents.dead_letter_queues[agent.name])

        assert rule["EventPattern"] == agent.pattern
        assert rule["EventBusName"] == {"Ref": bus_id}
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] > 0

        function = synthesized.resources[function_id]["Properties"]
        assert function["Handler"] == f"handler.{agent.handler}"


def test_agent_async_failures_land_in_the_agents_queue(synthesized: Synthesized) -> None:
    agents = synthesized.stack.node.find_child("Agents")
    configs = synthesized.of_type("AWS::Lambda::EventInvokeConfig")
    assert len(configs) == len(bus.AGENTS) + 1  # and the SLA function's (test_sla.py)
    by_function = {
        config["Properties"]["FunctionName"]["Ref"]: config["Properties"] for config in configs.values()
    }
    for agent in bus.AGENTS:
        config = by_function[synthesized.logical_id(agents.functions[agent.name])]
        destination = config["DestinationConfig"]["OnFailure"]["Destination"]
        assert referenced_ids(destination) == {synthesized.logical_id(agents.dead_letter_queues[agent.name])}
        assert config["MaximumRetryAttempts"] >= 1
        assert config["MaximumEventAgeInSeconds"] > 0


def test_dead_letter_queues_are_encrypted_and_refuse_plain_http(synthesized: Synthesized) -> None:
    timeline = _timeline(synthesized)
    agents = synthesized.stack.node.find_child("Agents")
    sla = synthesized.stack.node.find_child("SlaClock")
    queues = [
        timeline.pipe_dlq,
        timeline.tamper_queue,
        *agents.dead_letter_queues.values(),
        sla.schedule_dlq,
        sla.sync_dlq,
    ]
    queue_ids = {synthesized.logical_id(q) for q in queues}
    assert queue_ids == set(synthesized.of_type("AWS::SQS::Queue"))

    policies = synthesized.of_type("AWS::SQS::QueuePolicy").values()
    for queue_id in queue_ids:
        assert synthesized.resources[queue_id]["Properties"]["SqsManagedSseEnabled"] is True
        statements = [
            s
            for p in policies
            if queue_id in referenced_ids(p["Properties"]["Queues"])
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), queue_id
