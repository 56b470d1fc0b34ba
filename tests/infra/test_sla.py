"""The SLA clock construct: schedule group, the SLA function and its sync rule, the scheduler role."""

from __future__ import annotations

import json
from typing import Any

from exception_playbooks import bus

from .conftest import Synthesized


def _sla(synthesized: Synthesized) -> Any:
    return synthesized.stack.node.find_child("SlaClock")


def _statements(synthesized: Synthesized, role_id: str) -> list[dict[str, Any]]:
    found = []
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        roles = policy["Properties"].get("Roles", [])
        if {"Ref": role_id} in roles:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def test_one_schedule_group_per_stack(synthesized: Synthesized) -> None:
    groups = synthesized.of_type("AWS::Scheduler::ScheduleGroup")
    assert len(groups) == 1
    [group] = groups.values()
    assert group["Properties"]["Name"] == {"Fn::Sub": "${AWS::StackName}-sla"}


def test_the_scheduler_role_may_only_invoke_the_sla_function_and_dead_letter(
    synthesized: Synthesized,
) -> None:
    sla = _sla(synthesized)
    role_id = synthesized.logical_id(sla.scheduler_role)
    role = synthesized.resources[role_id]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    function_id = synthesized.logical_id(sla.function)
    statements = _statements(synthesized, role_id)
    assert sorted((s["Action"], json.dumps(s["Resource"])) for s in statements) == sorted(
        [
            ("lambda:InvokeFunction", json.dumps({"Fn::GetAtt": [function_id, "Arn"]})),
            (
                "sqs:SendMessage",
                json.dumps({"Fn::GetAtt": [synthesized.logical_id(sla.schedule_dlq), "Arn"]}),
            ),
        ]
    )


def test_the_sla_function_manages_only_its_groups_schedules_and_passes_only_that_role(
    synthesized: Synthesized,
) -> None:
    sla = _sla(synthesized)
    function = synthesized.resources[synthesized.logical_id(sla.function)]
    env = function["Properties"]["Environment"]["Variables"]
    group_id = synthesized.logical_id(sla.group)
    assert env["SLA_SCHEDULE_GROUP"] == {"Ref": group_id}
    assert env["SLA_SCHEDULER_ROLE_ARN"] == {
        "Fn::GetAtt": [synthesized.logical_id(sla.scheduler_role), "Arn"]
    }
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = _statements(synthesized, role_id)
    scheduling = [s for s in statements if any(str(a).startswith("scheduler:") for a in _list(s["Action"]))]
    assert len(scheduling) == 1
    assert sorted(_list(scheduling[0]["Action"])) == [
        "scheduler:CreateSchedule",
        "scheduler:DeleteSchedule",
        "scheduler:GetSchedule",
        "scheduler:UpdateSchedule",
    ]
    assert scheduling[0]["Resource"]["Fn::Sub"][1] == {"Group": {"Ref": group_id}}
    assert scheduling[0]["Resource"]["Fn::Sub"][0].endswith(":schedule/${Group}/*")
    [passing] = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert passing["Resource"] == {"Fn::GetAtt": [synthesized.logical_id(sla.scheduler_role), "Arn"]}
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}
    wildcard = [s for s in statements if s["Resource"] == "*"]
    assert all(all(a.startswith("xray:") for a in _list(s["Action"])) for s in wildcard), wildcard


def test_the_sync_rule_sends_clock_moving_events_with_retries_and_a_dlq(synthesized: Synthesized) -> None:
    sla = _sla(synthesized)
    rule = synthesized.resources[synthesized.logical_id(sla.rule)]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern == bus.SLA_SYNC_RULE.pattern
    [target] = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [synthesized.logical_id(sla.function), "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [synthesized.logical_id(sla.sync_dlq), "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
