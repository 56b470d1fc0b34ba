"""Least privilege: no wildcard actions, an append-only events table, exactly the listed data grants."""

from __future__ import annotations

from typing import Any

from exception_playbooks import bus
from exception_playbooks.bus import NOTIFICATION_SOURCE

from .conftest import Synthesized
from .support import as_list, referenced_ids
from .test_functions import service_functions

STREAM_READS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
EVENTS_TABLE_ACTIONS = {"dynamodb:PutItem", "dynamodb:Query", "dynamodb:GetItem"}


def _statements(synthesized: Synthesized) -> list[tuple[str, list[str], dict[str, Any]]]:
    """(policy logical id, role logical ids, statement) for every identity policy statement."""
    found = []
    for logical_id, policy in synthesized.of_type("AWS::IAM::Policy").items():
        roles = sorted(referenced_ids(policy["Properties"].get("Roles", [])))
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            found.append((logical_id, roles, statement))
    for logical_id, role in synthesized.of_type("AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            for statement in inline["PolicyDocument"]["Statement"]:
                found.append((logical_id, [logical_id], statement))
    return found


def _role_id(synthesized: Synthesized, function_id: str) -> str:
    (role_id,) = referenced_ids(synthesized.resources[function_id]["Properties"]["Role"])
    return role_id


def test_no_policy_grants_a_wildcard_action(synthesized: Synthesized) -> None:
    statements = _statements(synthesized)
    assert statements
    for policy_id, _, statement in statements:
        assert "NotAction" not in statement, policy_id
        for action in as_list(statement["Action"]):
            assert "*" not in action, (policy_id, action)


def _pipe_roles(synthesized: Synthesized) -> list[str]:
    timeline = synthesized.stack.node.find_child("Timeline")
    tamper_role = timeline.node.find_child("TamperPipeRole")
    return sorted(synthesized.logical_id(role) for role in (timeline.pipe_role, tamper_role))


def _tenant_role(synthesized: Synthesized) -> str:
    return synthesized.logical_id(synthesized.stack.node.find_child("TenantData").role)


def test_events_table_is_append_only(synthesized: Synthesized) -> None:
    events_table = synthesized.logical_id(synthesized.stack.node.find_child("Data").events_table)
    for policy_id, roles, statement in _statements(synthesized):
        for resource in as_list(statement["Resource"]):
            if events_table not in referenced_ids(resource):
                continue
            actions = set(as_list(statement["Action"]))
            if resource == {"Fn::GetAtt": [events_table, "StreamArn"]}:
                assert roles[0] in _pipe_roles(synthesized), (policy_id, "only the pipes read the stream")
                assert actions <= STREAM_READS, (policy_id, actions)
            else:
                assert resource == {"Fn::GetAtt": [events_table, "Arn"]}, (policy_id, resource)
                assert roles == [_tenant_role(synthesized)], policy_id
                assert actions <= EVENTS_TABLE_ACTIONS, (policy_id, actions)


def test_every_functions_listed_actions_are_within_the_tenant_data_role(synthesized: Synthesized) -> None:
    """access.py still lists what each function uses; the one tenant-data role must cover it."""
    from exception_playbooks.tenant_guard import TENANT_DATA_ACTIONS
    from exception_playbooks_infra.access import API_ACCESS, agent_access

    accesses = [*API_ACCESS.values(), *(agent_access(agent) for agent in bus.AGENTS)]
    for access in accesses:
        if access.state is not None:
            assert access.state.table_actions <= TENANT_DATA_ACTIONS["state"]
        if access.events is not None:
            assert access.events.table_actions <= TENANT_DATA_ACTIONS["events"]


def test_only_the_relay_and_the_pipe_put_events_on_the_bus(synthesized: Synthesized) -> None:
    functions = service_functions(synthesized)
    relay_role = _role_id(synthesized, functions["agent:NotificationRelay"])
    pipe_role = synthesized.logical_id(synthesized.stack.node.find_child("Timeline").pipe_role)
    bus_id = synthesized.logical_id(synthesized.stack.node.find_child("Timeline").bus)
    putters = set()
    for _, roles, statement in _statements(synthesized):
        if "events:PutEvents" in as_list(statement["Action"]):
            assert referenced_ids(statement["Resource"]) == {bus_id}
            putters.update(roles)
            if roles == [relay_role]:
                assert statement["Condition"] == {"StringEquals": {"events:source": NOTIFICATION_SOURCE}}
    assert putters == {relay_role, pipe_role}
