"""The state and events tables match the key schema of exception_playbooks.keys."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Synthesized


def _table(synthesized: Synthesized, name: str) -> tuple[str, dict[str, Any]]:
    data = synthesized.stack.node.find_child("Data")
    table = getattr(data, name)
    logical_id = synthesized.logical_id(table)
    return logical_id, synthesized.resources[logical_id]


def _key_schema(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(key["AttributeName"], key["KeyType"]) for key in schema]


@pytest.mark.parametrize("name", ["state_table", "events_table"])
def test_tables_are_on_demand_recoverable_encrypted_and_retained(synthesized: Synthesized, name: str) -> None:
    _, table = _table(synthesized, name)
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_state_table_keys_indexes_and_ttl(synthesized: Synthesized) -> None:
    _, table = _table(synthesized, "state_table")
    props = table["Properties"]
    assert _key_schema(props["KeySchema"]) == [("pk", "HASH"), ("sk", "RANGE")]
    queue_keys = ("gsi3pk", "gsi3sk", "gsi4pk", "gsi4sk", "gsi5pk", "gsi5sk")
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == {
        name: "S" for name in ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", *queue_keys)
    }
    indexes = {gsi["IndexName"]: gsi for gsi in props["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"by_tenant", "playbooks", "queue_created", "queue_severity", "queue_sla"}
    assert _key_schema(indexes["by_tenant"]["KeySchema"]) == [("gsi1pk", "HASH"), ("gsi1sk", "RANGE")]
    assert _key_schema(indexes["playbooks"]["KeySchema"]) == [("gsi2pk", "HASH"), ("gsi2sk", "RANGE")]
    assert _key_schema(indexes["queue_sla"]["KeySchema"]) == [("gsi5pk", "HASH"), ("gsi5sk", "RANGE")]
    assert all(
        indexes[name]["Projection"] == {"ProjectionType": "ALL"} for name in ("by_tenant", "playbooks")
    )
    # The work queue's indexes are slim: the list columns, never the playbook copy (issue 17).
    for name in ("queue_created", "queue_severity", "queue_sla"):
        projection = indexes[name]["Projection"]
        assert projection["ProjectionType"] == "INCLUDE"
        assert "projection" not in projection["NonKeyAttributes"]
        assert {"exception_id", "status", "owner", "sla_deadline"} <= set(projection["NonKeyAttributes"])
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert "StreamSpecification" not in props


def test_events_table_keys_and_stream(synthesized: Synthesized) -> None:
    _, table = _table(synthesized, "events_table")
    props = table["Properties"]
    assert _key_schema(props["KeySchema"]) == [("pk", "HASH"), ("seq", "RANGE")]
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == {
        "pk": "S",
        "seq": "N",
    }
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert "GlobalSecondaryIndexes" not in props


def test_tables_match_the_local_stack_definitions(synthesized: Synthesized) -> None:
    """AWS and the local stack must agree on keys and indexes, or code tested locally breaks in AWS."""
    local_tables = pytest.importorskip("local.tables")
    for name, definition in (
        ("state_table", local_tables.state_table_definition("state")),
        ("events_table", local_tables.events_table_definition("events")),
    ):
        props = _table(synthesized, name)[1]["Properties"]
        assert props["KeySchema"] == definition["KeySchema"]
        assert sorted(props["AttributeDefinitions"], key=str) == sorted(
            definition["AttributeDefinitions"], key=str
        )
        deployed = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
        local = {g["IndexName"]: g for g in definition.get("GlobalSecondaryIndexes", [])}
        assert set(deployed) == set(local)
        for index_name, index in local.items():
            assert deployed[index_name]["KeySchema"] == index["KeySchema"]
