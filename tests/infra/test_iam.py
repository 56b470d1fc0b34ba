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


def test_events_table_is_append_only(synthesized: Synthesized) -> None:
    events_table = synthesized.logical_id(synthesized.stack.node.find_child("Data").events_table)
    pipe_role = synthesized.logical_id(synthesized.stack.node.find_child("Timeline").pipe_role)
    for policy_id, roles, statement in _statements(synthesized):
        for resource in as_list(statement["Resource"]):
            if events_table not in referenced_ids(resource):
                continue
            actions = set(as_list(statement["Action"]))
            if resource == {"Fn::GetAtt": [events_table, "StreamArn"]}:
                assert roles == [pipe_role], (policy_id, "only the pipe reads the stream")
                assert actions <= STREAM_READS, (policy_id, actions)
            else:
                assert resource == {"Fn::GetAtt": [events_table, "Arn"]}, (policy_id, resource)
                assert actions <= EVENTS_TABLE_ACTIONS, (policy_id, actions)


def _data_grants(synthesized: Synthesized, role_id: str) -> set[tuple[str, str]]:
    """{(target, action)}: target is "state", "state/index/<name>" or "events"."""
    data = synthesized.stack.node.find_child("Data")
    names = {
        synthesized.logical_id(data.state_table): "state",
        synthesized.logical_id(data.events_table): "events",
    }
    grants: set[tuple[str, str]] = set()
    for _, roles, statement in _statements(synthesized):
        actions = [a for a in as_list(statement["Action"]) if a.startswith("dynamodb:")]
        if role_id not in roles or not actions:
            continue
        for resource in as_list(statement["Resource"]):
            if "Fn::GetAtt" in resource:
                target = names[resource["Fn::GetAtt"][0]]
            else:
                table_arn, suffix = resource["Fn::Join"][1]
                target = names[table_arn["Fn::GetAtt"][0]] + suffix
            grants.update((target, action) for action in actions)
    return grants


def _expected_grants(access: Any) -> set[tuple[str, str]]:
    expected: set[tuple[str, str]] = set()
    for target, table_access in (("state", access.state), ("events", access.events)):
        if table_access is None:
            continue
        expected.update((target, action) for action in table_access.table_actions)
        expected.update((f"{target}/index/{index}", "dynamodb:Query") for index in table_access.query_indexes)
    return expected


def test_each_function_holds_exactly_its_listed_data_grants(synthesized: Synthesized) -> None:
    from exception_playbooks_infra.access import AGENT_ACCESS, API_ACCESS, agent_access

    agents = {agent.name: agent for agent in bus.AGENTS}
    functions = service_functions(synthesized)
    roles = {name: _role_id(synthesized, logical_id) for name, logical_id in functions.items()}
    assert len(set(roles.values())) == len(roles), "one role per function"

    for name, role_id in roles.items():
        kind, key = name.split(":")
        if kind == "sla":  # the SLA clock writes like an agent (infra/.../sla.py)
            access = AGENT_ACCESS
        else:
            access = API_ACCESS[key] if kind == "api" else agent_access(agents[key])
        assert _data_grants(synthesized, role_id) == _expected_grants(access), name


def test_spot_check_of_the_issue_table(synthesized: Synthesized) -> None:
    """The grants the issue lists, spelled out, so a change to access.py is a visible decision."""
    roles = {name: _role_id(synthesized, fid) for name, fid in service_functions(synthesized).items()}
    assert _data_grants(synthesized, roles["api:status"]) == {("state", "dynamodb:GetItem")}
    assert ("state/index/playbooks", "dynamodb:Query") in _data_grants(synthesized, roles["api:playbooks"])
    assert ("state", "dynamodb:Query") in _data_grants(synthesized, roles["api:playbooks"])
    assert ("events", "dynamodb:PutItem") in _data_grants(synthesized, roles["api:execute"])
    assert ("events", "dynamodb:Query") not in _data_grants(synthesized, roles["api:execute"])
    assert _data_grants(synthesized, roles["agent:NotificationRelay"]) == set()


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
