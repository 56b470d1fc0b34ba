"""local.capacity: the per-context DynamoDB capacity meter, measured against DynamoDB Local."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from local import capacity

STATE = "cap-state"
EVENTS = "cap-events"
SEEDED = ("T#a#0", "A")  # a 5 KB item: 1 read unit eventually consistent, 2 strongly
SEEDED_KEY = {"pk": {"S": SEEDED[0]}, "sk": {"S": SEEDED[1]}}


@pytest.fixture(scope="module")
def ddb_local() -> Iterator[Any]:
    """One in-memory DynamoDB Local for the module, with the service's two tables."""
    import boto3

    from local.dynamodb_local import DynamoDBLocal
    from local.tables import events_table_definition, state_table_definition

    capacity.install()
    server = DynamoDBLocal()
    endpoint = server.start()
    try:
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        client.create_table(**state_table_definition(STATE))
        client.create_table(**events_table_definition(EVENTS))
        client.put_item(TableName=STATE, Item=_item(*SEEDED, 5000))
        yield client
    finally:
        server.stop()


def _item(pk: str, sk: str, size: int = 0, **extra: str) -> dict[str, Any]:
    item = {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in extra.items()}}
    if size:
        item["body"] = {"S": "x" * size}
    return item


def test_reads_and_writes_are_billed_like_dynamodb(ddb_local: Any) -> None:
    key = {"pk": {"S": "T#a#1"}, "sk": {"S": "A"}}
    with capacity.measure() as meter:
        ddb_local.put_item(TableName=STATE, Item=_item("T#a#1", "A", 5000))  # 5 KB: 5 write units
    assert (meter.read, meter.write, meter.calls) == (0, 5, 1)
    with capacity.measure() as meter:
        ddb_local.get_item(TableName=STATE, Key=key, ConsistentRead=True)  # 5 KB strongly: 2 units
        ddb_local.get_item(TableName=STATE, Key=key)  # eventually consistent: half
    assert (meter.read, meter.write, meter.calls) == (3, 0, 2)
    assert meter.by_operation == {"GetItem": [2, 3.0, 0.0]}


def test_index_writes_and_transactions_count(ddb_local: Any) -> None:
    with capacity.measure() as meter:
        # 2 KB item also written to the by_tenant index: 2 + 2 units.
        ddb_local.put_item(TableName=STATE, Item=_item("T#a#2", "A", 1500, gsi1pk="T#a#X", gsi1sk="1"))
    assert meter.write == 4
    with capacity.measure() as meter:
        ddb_local.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": STATE, "Item": _item("T#a#3", "A")}},
                {"Put": {"TableName": EVENTS, "Item": {"pk": {"S": "T#a#3"}, "seq": {"N": "1"}}}},
            ]
        )
    assert (meter.write, meter.calls) == (4, 1)  # two 1-unit items, doubled by the transaction
    assert meter.header_value() == "read=0; write=4"


def test_meters_nest_and_a_failed_write_still_counts_the_call(ddb_local: Any) -> None:
    from botocore.exceptions import ClientError

    with capacity.measure() as outer:
        ddb_local.put_item(TableName=STATE, Item=_item("T#a#4", "A"))
        with capacity.measure() as inner, pytest.raises(ClientError):
            ddb_local.put_item(
                TableName=STATE, Item=_item("T#a#4", "A"), ConditionExpression="attribute_not_exists(pk)"
            )
        ddb_local.get_item(TableName=STATE, Key={"pk": {"S": "T#a#4"}, "sk": {"S": "A"}})
    assert inner.calls == 1
    assert outer.calls == 3
    assert outer.read == 0.5
    assert outer.write >= 1


def test_calls_outside_a_meter_are_unchanged(ddb_local: Any) -> None:
    response = ddb_local.get_item(TableName=STATE, Key=SEEDED_KEY)
    assert "ConsumedCapacity" not in response
    explicit = ddb_local.get_item(TableName=STATE, Key=SEEDED_KEY, ReturnConsumedCapacity="INDEXES")
    assert explicit["ConsumedCapacity"]["Table"]["CapacityUnits"] == 1.0


def test_registering_a_client_too_never_counts_twice(ddb_local: Any) -> None:
    capacity.register(ddb_local)
    with capacity.measure() as meter:
        ddb_local.get_item(TableName=STATE, Key=SEEDED_KEY)
    assert (meter.calls, meter.read) == (1, 1.0)


def test_each_thread_measures_only_its_own_calls(ddb_local: Any) -> None:
    results: dict[str, tuple[int, float]] = {}
    barrier = threading.Barrier(2)

    def work(name: str, n: int) -> None:
        with capacity.measure() as meter:
            barrier.wait()
            for _ in range(n):
                ddb_local.get_item(TableName=STATE, Key=SEEDED_KEY)
        results[name] = (meter.calls, meter.read)

    threads = [threading.Thread(target=work, args=(f"t{n}", n)) for n in (2, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"t2": (2, 2.0), "t5": (5, 5.0)}


def test_split_units_reads_either_shape_of_consumed_capacity() -> None:
    assert capacity.split_units("Query", {"CapacityUnits": 1.5}) == (1.5, 0)
    assert capacity.split_units("TransactWriteItems", [{"CapacityUnits": 2}, {"CapacityUnits": 4}]) == (0, 6)
    split = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 2}
    assert capacity.split_units("ExecuteStatement", split) == (1, 2)
    assert capacity.split_units("GetItem", None) == (0, 0)
