"""Alarms on API 5xx, every function's errors and throttles, and every dead-letter queue's depth."""

from __future__ import annotations

from typing import Any

from .conftest import Synthesized
from .support import referenced_ids
from .test_functions import service_functions


def _alarms(synthesized: Synthesized) -> list[dict[str, Any]]:
    return [alarm["Properties"] for alarm in synthesized.of_type("AWS::CloudWatch::Alarm").values()]


def _watching(alarms: list[dict[str, Any]], metric: str, logical_id: str) -> list[dict[str, Any]]:
    return [
        a
        for a in alarms
        if a["MetricName"] == metric and logical_id in referenced_ids([d["Value"] for d in a["Dimensions"]])
    ]


def test_every_alarm_fires_on_any_occurrence_and_notifies_the_topic(synthesized: Synthesized) -> None:
    topic = synthesized.logical_id(synthesized.stack.node.find_child("Monitoring").topic)
    alarms = _alarms(synthesized)
    assert alarms
    for alarm in alarms:
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["Threshold"] == 0
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == [{"Ref": topic}]


def test_api_5xx_alarm(synthesized: Synthesized) -> None:
    rest_api = synthesized.logical_id(synthesized.stack.node.find_child("Api").rest_api)
    api_name = synthesized.resources[rest_api]["Properties"]["Name"]
    (alarm,) = [a for a in _alarms(synthesized) if a["MetricName"] == "5XXError"]
    assert alarm["Namespace"] == "AWS/ApiGateway"
    assert alarm["Dimensions"] == [{"Name": "ApiName", "Value": api_name}]


def test_function_error_and_throttle_alarms(synthesized: Synthesized) -> None:
    alarms = _alarms(synthesized)
    for name, logical_id in service_functions(synthesized).items():
        assert len(_watching(alarms, "Errors", logical_id)) == 1, name
        assert len(_watching(alarms, "Throttles", logical_id)) == 1, name


def test_dead_letter_queue_depth_alarms(synthesized: Synthesized) -> None:
    alarms = _alarms(synthesized)
    for logical_id in synthesized.of_type("AWS::SQS::Queue"):
        (alarm,) = _watching(alarms, "ApproximateNumberOfMessagesVisible", logical_id)
        assert alarm["Statistic"] == "Maximum"


def test_alarm_topic_is_encrypted_and_ssl_only(synthesized: Synthesized) -> None:
    (topic,) = synthesized.of_type("AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    (key,) = synthesized.of_type("AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True
    (policy,) = synthesized.of_type("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in str(s.get("Condition")) for s in statements)
