"""Tenant isolation and the append-only timeline, enforced by AWS: the policies in the template.

* no function role holds any DynamoDB data action; table users may only assume the tenant-data
  role, with exactly one session tag (tenant_id);
* the tenant-data role's every DynamoDB statement carries the LeadingKeys condition, on every
  table and index ARN it names, and it trusts exactly the table-using function roles;
* the events table's resource policy denies changes to everyone but the break-glass role;
* the bus denies the timeline source to everyone but the outbox pipe's role.
"""

from __future__ import annotations

import json
from typing import Any

from exception_playbooks import bus
from exception_playbooks.tenant_guard import EVENTS, STATE, TENANT_DATA_ACTIONS

from .conftest import Synthesized
from .support import as_list, referenced_ids
from .test_functions import service_functions
from .test_iam import _role_id, _statements

LEADING_KEYS = {
    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["T#${aws:PrincipalTag/tenant_id}#*"]},
    "Null": {"dynamodb:LeadingKeys": "false"},
}
TAG_CONDITIONS = {
    "StringLike": {"aws:RequestTag/tenant_id": "?*"},
    "ForAllValues:StringEquals": {"aws:TagKeys": ["tenant_id"]},
}
DATA_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)


def _tenant_role(synthesized: Synthesized) -> str:
    return synthesized.logical_id(synthesized.stack.node.find_child("TenantData").role)


def _table_ids(synthesized: Synthesized) -> tuple[str, str]:
    data = synthesized.stack.node.find_child("Data")
    return synthesized.logical_id(data.state_table), synthesized.logical_id(data.events_table)


def _table_users(synthesized: Synthesized) -> set[str]:
    """Role ids of the functions access.py lists with any table access."""
    from exception_playbooks_infra.access import AGENT_ACCESS, API_ACCESS, agent_access

    agents = {agent.name: agent for agent in bus.AGENTS}
    users = set()
    for name, function_id in service_functions(synthesized).items():
        kind, key = name.split(":")
        if kind == "auth":
            continue  # the Cognito trigger reads no table
        if kind == "sla":  # the SLA clock writes like an agent (infra/.../sla.py)
            access = AGENT_ACCESS
        else:
            access = API_ACCESS[key] if kind == "api" else agent_access(agents[key])
        if access.state is not None or access.events is not None:
            users.add(_role_id(synthesized, function_id))
    return users


def test_no_role_but_the_tenant_data_role_holds_a_dynamodb_data_action(synthesized: Synthesized) -> None:
    tenant_role = _tenant_role(synthesized)
    holders = set()
    for policy_id, roles, statement in _statements(synthesized):
        if set(as_list(statement["Action"])) & set(DATA_ACTIONS):
            assert roles == [tenant_role], policy_id
            holders.update(roles)
    assert holders == {tenant_role}


def test_every_tenant_data_statement_is_bound_to_the_session_tenant(synthesized: Synthesized) -> None:
    state, events = _table_ids(synthesized)
    tenant_role = _tenant_role(synthesized)
    granted: dict[str, set[str]] = {}
    for policy_id, roles, statement in _statements(synthesized):
        if roles != [tenant_role]:
            continue
        assert statement["Effect"] == "Allow"
        assert statement["Condition"] == LEADING_KEYS, policy_id
        for resource in as_list(statement["Resource"]):
            if resource == {"Fn::GetAtt": [state, "Arn"]}:
                target = "state"
            elif resource == {"Fn::GetAtt": [events, "Arn"]}:
                target = "events"
            else:
                table_arn, suffix = resource["Fn::Join"][1]
                assert table_arn == {"Fn::GetAtt": [state, "Arn"]} and suffix == "/index/*", resource
                target = "state/index/*"
            granted.setdefault(target, set()).update(as_list(statement["Action"]))
    assert granted == {
        "state": set(TENANT_DATA_ACTIONS[STATE]),
        "state/index/*": {"dynamodb:Query"},
        "events": set(TENANT_DATA_ACTIONS[EVENTS]),
    }
    assert not any(
        "Scan" in action or "PartiQL" in action for actions in granted.values() for action in actions
    )


def test_table_users_may_only_assume_the_tenant_data_role_with_a_tenant_tag(synthesized: Synthesized) -> None:
    tenant_role = _tenant_role(synthesized)
    users = _table_users(synthesized)
    assert users
    assumers = set()
    for policy_id, roles, statement in _statements(synthesized):
        actions = set(as_list(statement["Action"]))
        if not any(a.startswith("sts:") for a in actions):
            continue
        assert actions == {"sts:AssumeRole", "sts:TagSession"}, policy_id
        assert statement["Resource"] == {"Fn::GetAtt": [tenant_role, "Arn"]}
        assert statement["Condition"] == TAG_CONDITIONS
        assumers.update(roles)
    assert assumers == users  # the relay (no table access) may not


def test_the_tenant_data_role_trusts_exactly_the_table_users(synthesized: Synthesized) -> None:
    role = synthesized.resources[_tenant_role(synthesized)]["Properties"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert set(statement["Action"]) == {"sts:AssumeRole", "sts:TagSession"}
    assert "root" in json.dumps(statement["Principal"])
    conditions = dict(statement["Condition"])
    trusted = conditions.pop("ArnEquals")["aws:PrincipalArn"]
    assert conditions == TAG_CONDITIONS
    assert {ref["Fn::GetAtt"][0] for ref in trusted} == _table_users(synthesized)


def test_functions_are_told_the_tenant_data_role(synthesized: Synthesized) -> None:
    tenant_role = _tenant_role(synthesized)
    for name, function_id in service_functions(synthesized).items():
        environment = synthesized.resources[function_id]["Properties"]["Environment"]["Variables"]
        assert environment["TENANT_DATA_ROLE_ARN"] == {"Fn::GetAtt": [tenant_role, "Arn"]}, name


def _resource_policy_statements(synthesized: Synthesized, table_id: str) -> list[dict[str, Any]]:
    policy = synthesized.resources[table_id]["Properties"].get("ResourcePolicy")
    return list(policy["PolicyDocument"]["Statement"]) if policy else []


def test_events_table_resource_policy_denies_changes_but_to_break_glass(synthesized: Synthesized) -> None:
    _, events = _table_ids(synthesized)
    break_glass = synthesized.logical_id(synthesized.stack.node.find_child("Data").break_glass_role)
    (deny,) = _resource_policy_statements(synthesized, events)
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"}
    assert {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} <= set(deny["Action"])
    assert {a for a in deny["Action"] if a.startswith("dynamodb:PartiQL")} == {
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
        "dynamodb:PartiQLSelect",
    }
    assert "dynamodb:PutItem" not in deny["Action"]
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": [break_glass, "Arn"]}}}
    trust = synthesized.resources[break_glass]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert all(s["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}} for s in trust)
    assert not [p for p, roles, _ in _statements(synthesized) if break_glass in roles]  # no standing rights


def test_only_the_outbox_pipe_may_put_timeline_events_on_the_bus(synthesized: Synthesized) -> None:
    timeline = synthesized.stack.node.find_child("Timeline")
    bus_id = synthesized.logical_id(timeline.bus)
    pipe_role = synthesized.logical_id(timeline.pipe_role)
    statements = [
        p["Properties"]["Statement"]
        for p in synthesized.of_type("AWS::Events::EventBusPolicy").values()
        if referenced_ids(p["Properties"]["EventBusName"]) == {bus_id}
    ]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Action"] == "events:PutEvents"
    assert deny["Principal"] == {"AWS": "*"}
    assert deny["Condition"] == {
        "StringEquals": {"events:source": bus.TIMELINE_SOURCE},
        "ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": [pipe_role, "Arn"]}},
    }


def test_a_second_pipe_sends_changed_or_removed_events_to_an_alarmed_queue(synthesized: Synthesized) -> None:
    timeline = synthesized.stack.node.find_child("Timeline")
    _, events = _table_ids(synthesized)
    pipe = synthesized.resources[synthesized.logical_id(timeline.tamper_pipe)]["Properties"]
    assert pipe["Source"] == {"Fn::GetAtt": [events, "StreamArn"]}
    assert referenced_ids(pipe["Target"]) == {synthesized.logical_id(timeline.tamper_queue)}
    filters = pipe["SourceParameters"]["FilterCriteria"]["Filters"]
    assert [json.loads(f["Pattern"]) for f in filters] == [{"eventName": ["MODIFY", "REMOVE"]}]
    queue_id = synthesized.logical_id(timeline.tamper_queue)
    alarms = [
        a["Properties"]
        for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if queue_id in referenced_ids(a["Properties"].get("Dimensions", []))
    ]
    assert [a["MetricName"] for a in alarms] == ["ApproximateNumberOfMessagesVisible"]
