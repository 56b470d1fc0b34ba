"""local.tables: the table definitions other suites reuse."""

from __future__ import annotations

from typing import Any

from exception_playbooks.repository.exceptions import LIST_ATTRIBUTES, QUEUE_INDEXES

from local.tables import create_event_bus, create_tables, events_stream_arn


def test_state_table_matches_the_key_design(moto_dynamodb: Any, settings: Any) -> None:
    table = moto_dynamodb.describe_table(TableName=settings.state_table)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"by_tenant", "playbooks", *(q.name for q in QUEUE_INDEXES.values())}
    assert [k["AttributeName"] for k in indexes["by_tenant"]["KeySchema"]] == ["gsi1pk", "gsi1sk"]
    assert [k["AttributeName"] for k in indexes["playbooks"]["KeySchema"]] == ["gsi2pk", "gsi2sk"]
    assert indexes["by_tenant"]["Projection"]["ProjectionType"] == "ALL"
    assert indexes["playbooks"]["Projection"]["ProjectionType"] == "ALL"
    queue_keys = []
    for queue in QUEUE_INDEXES.values():
        index = indexes[queue.name]
        assert [k["AttributeName"] for k in index["KeySchema"]] == [queue.pk, queue.sk]
        # The work queue reads a slim projection: the list columns, never the steps.
        assert index["Projection"]["ProjectionType"] == "INCLUDE"
        assert set(index["Projection"]["NonKeyAttributes"]) <= set(LIST_ATTRIBUTES)
        queue_keys += [queue.pk, queue.sk]
    attributes = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert attributes == {n: "S" for n in ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", *queue_keys)}
    ttl = moto_dynamodb.describe_time_to_live(TableName=settings.state_table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    assert ttl["TimeToLiveStatus"] in ("ENABLED", "ENABLING")


def test_events_table_has_a_new_image_stream(moto_dynamodb: Any, settings: Any) -> None:
    table = moto_dynamodb.describe_table(TableName=settings.events_table)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "seq": "RANGE"}
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        "pk": "S",
        "seq": "N",
    }
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert events_stream_arn(moto_dynamodb, settings) == table["LatestStreamArn"]


def test_create_tables_is_idempotent(moto_dynamodb: Any, settings: Any) -> None:
    arns = create_tables(moto_dynamodb, settings)
    assert set(arns) == {settings.state_table, settings.events_table}
    assert arns[settings.events_table]
    assert sorted(moto_dynamodb.list_tables()["TableNames"]) == sorted(arns)


def test_create_event_bus_is_idempotent(aws_env: None, settings: Any) -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        first = create_event_bus(events, settings)
        assert first == create_event_bus(events, settings)
        assert first.endswith(f"event-bus/{settings.event_bus_name}")
