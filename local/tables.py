"""The DynamoDB tables (and event bus) of the service, defined once for the local stack and tests.

Mirrors the key design documented in ``exception_playbooks.keys``: the state table with the
``by_tenant`` and ``playbooks`` GSIs and a TTL on ``expires_at``, and the append-only events
table whose stream (NEW_IMAGE) feeds the bus. Nothing here knows about servers: pass any
DynamoDB client (moto ``mock_aws``, a moto server, or real AWS).
"""

from __future__ import annotations

from typing import Any

from exception_playbooks.config import Settings

BY_TENANT_INDEX = "by_tenant"
PLAYBOOKS_INDEX = "playbooks"
TTL_ATTRIBUTE = "expires_at"


def _gsi(name: str, pk: str, sk: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"},
    }


def state_table_definition(name: str) -> dict[str, Any]:
    """``create_table`` arguments of the state table (on-demand, like the CDK stack)."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": attr, "AttributeType": "S"}
            for attr in ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            _gsi(BY_TENANT_INDEX, "gsi1pk", "gsi1sk"),
            _gsi(PLAYBOOKS_INDEX, "gsi2pk", "gsi2sk"),
        ],
    }


def events_table_definition(name: str) -> dict[str, Any]:
    """``create_table`` arguments of the events table: the stream is the transactional outbox."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "seq", "AttributeType": "N"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "seq", "KeyType": "RANGE"},
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    }


def create_tables(dynamodb_client: Any, settings: Settings) -> dict[str, str]:
    """Create both tables (idempotent: existing tables are kept) and return ``{name: stream arn or ""}``."""
    existing = set(_table_names(dynamodb_client))
    for definition in (
        state_table_definition(settings.state_table),
        events_table_definition(settings.events_table),
    ):
        if definition["TableName"] not in existing:
            dynamodb_client.create_table(**definition)
    waiter = dynamodb_client.get_waiter("table_exists")
    for name in (settings.state_table, settings.events_table):
        # moto answers ACTIVE at once; the waiter keeps this correct against real DynamoDB too.
        waiter.wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    _enable_ttl(dynamodb_client, settings.state_table)
    return {
        name: dynamodb_client.describe_table(TableName=name)["Table"].get("LatestStreamArn", "")
        for name in (settings.state_table, settings.events_table)
    }


def create_barrier_table(dynamodb_client: Any, name: str) -> None:
    """The local stack's one-item table that ``local.environments.durability_barrier`` writes."""
    if name in _table_names(dynamodb_client):
        return
    dynamodb_client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    waiter = dynamodb_client.get_waiter("table_exists")
    waiter.wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def create_event_bus(events_client: Any, settings: Settings) -> str:
    """Create the custom EventBridge bus (NotificationRequested is published there); returns its ARN."""
    try:
        return str(events_client.describe_event_bus(Name=settings.event_bus_name)["Arn"])
    except events_client.exceptions.ResourceNotFoundException:
        return str(events_client.create_event_bus(Name=settings.event_bus_name)["EventBusArn"])


def events_stream_arn(dynamodb_client: Any, settings: Settings) -> str:
    arn = dynamodb_client.describe_table(TableName=settings.events_table)["Table"].get("LatestStreamArn")
    if not arn:
        raise RuntimeError(f"table {settings.events_table} has no stream")
    return str(arn)


def _table_names(dynamodb_client: Any) -> list[str]:
    names: list[str] = []
    for page in dynamodb_client.get_paginator("list_tables").paginate():
        names.extend(page.get("TableNames", []))
    return names


def _enable_ttl(dynamodb_client: Any, table: str) -> None:
    current = dynamodb_client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return
    dynamodb_client.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )
