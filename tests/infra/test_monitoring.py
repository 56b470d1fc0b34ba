"""Alarms on the API (5xx rate, p99), every function, the async path, the tables and every queue."""

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
        if a.get("MetricName") == metric
        and logical_id in referenced_ids([d["Value"] for d in a["Dimensions"]])
    ]


def _expression_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    return [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]


def test_every_alarm_notifies_the_topic(synthesized: Synthesized) -> None:
    topic = synthesized.logical_id(synthesized.stack.node.find_child("Monitoring").topic)
    alarms = _alarms(synthesized)
    assert alarms
    for alarm in alarms:
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == [{"Ref": topic}]
    # Failures fire on any occurrence; only the API rate and latency have a tolerance.
    tolerant = sorted(a["AlarmDescription"] for a in alarms if a["Threshold"] != 0)
    assert len(tolerant) == 2 and any("5xx" in d for d in tolerant) and any("p99" in d for d in tolerant)


def test_api_5xx_rate_and_p99_latency_alarms(synthesized: Synthesized) -> None:
    rest_api = synthesized.logical_id(synthesized.stack.node.find_child("Api").rest_api)
    api_name = synthesized.resources[rest_api]["Properties"]["Name"]
    alarms = _alarms(synthesized)
    (rate,) = [a for a in alarms if "5XXError" in [m["MetricName"] for m in _expression_metrics(a)]]
    assert {m["MetricName"] for m in _expression_metrics(rate)} == {"5XXError", "Count"}
    assert all(m["Dimensions"] == [{"Name": "ApiName", "Value": api_name}] for m in _expression_metrics(rate))
    (latency,) = [a for a in alarms if a.get("MetricName") == "Latency"]
    assert latency["ExtendedStatistic"] == "p99" and latency["EvaluationPeriods"] == 3


def test_async_path_alarms(synthesized: Synthesized) -> None:
    alarms = _alarms(synthesized)
    timeline = synthesized.stack.node.find_child("Timeline")
    agents = synthesized.stack.node.find_child("Agents")
    for pipe in (timeline.pipe, timeline.tamper_pipe):
        pipe_id = synthesized.logical_id(pipe)
        for metric in ("ExecutionFailed", "TargetStageFailed"):
            (alarm,) = _watching(alarms, metric, pipe_id)
            assert alarm["Namespace"] == "AWS/EventBridge/Pipes"
    for name, rule in agents.rules.items():
        for metric in ("FailedInvocations", "InvocationsFailedToBeSentToDlq"):
            (alarm,) = _watching(alarms, metric, synthesized.logical_id(rule))
            assert alarm["Namespace"] == "AWS/Events", name
        function_id = synthesized.logical_id(agents.functions[name])
        assert len(_watching(alarms, "AsyncEventsDropped", function_id)) == 1, name


def test_table_throttle_and_system_error_alarms(synthesized: Synthesized) -> None:
    data = synthesized.stack.node.find_child("Data")
    for table in (data.state_table, data.events_table):
        table_id = synthesized.logical_id(table)
        for metric in ("ThrottledRequests", "SystemErrors"):
            watching = [
                a
                for a in _alarms(synthesized)
                if any(
                    m["MetricName"] == metric and table_id in referenced_ids(m["Dimensions"])
                    for m in _expression_metrics(a)
                )
            ]
            assert len(watching) == 1, (table_id, metric)


def test_a_dashboard_shows_every_alarm(synthesized: Synthesized) -> None:
    (dashboard,) = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body = str(dashboard["Properties"]["DashboardBody"])
    for alarm_id in synthesized.of_type("AWS::CloudWatch::Alarm"):
        assert alarm_id in body


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
