"""local.moto_speedups: the same answers as moto's own code paths, faster."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local import moto_speedups
from local.dispatcher import streams_client

ITEM = {
    "pk": {"S": "T#a#EX#1"},
    "sk": {"S": "EXCEPTION"},
    "gsi1pk": {"S": "T#a#EXCEPTIONS"},
    "gsi1sk": {"S": "2026#1"},
    "n": {"N": "12.50"},
    "blob": {"B": b"\x00\xffbytes"},
    "blobs": {"BS": [b"\x01", b"\x02"]},
    "tags": {"SS": ["b", "a"]},
    "nums": {"NS": ["1", "2.5"]},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "doc": {
        "M": {"nested": {"L": [{"S": "x"}, {"N": "3"}, {"M": {"deep": {"B": b"\x07"}}}]}, "empty": {"M": {}}}
    },
}


@pytest.fixture
def speedups() -> Iterator[Any]:
    """Installs the speed-ups for one test only (other suites share this process)."""
    uninstall = moto_speedups.install()
    try:
        yield uninstall
    finally:
        uninstall()


def _reads(client: Any, table: str, events_table: str) -> dict[str, Any]:
    key = {"pk": ITEM["pk"], "sk": ITEM["sk"]}
    streams = streams_client(region_name="us-east-1")
    arn = client.describe_table(TableName=events_table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    answers = {
        "get": client.get_item(TableName=table, Key=key),
        "get_projected": client.get_item(
            TableName=table,
            Key=key,
            ProjectionExpression="#d.nested, n",
            ExpressionAttributeNames={"#d": "doc"},
        ),
        "get_missing": client.get_item(TableName=table, Key={"pk": {"S": "nope"}, "sk": {"S": "x"}}),
        "query": client.query(
            TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": ITEM["pk"]}
        ),
        "query_page": client.query(
            TableName=table,
            IndexName="by_tenant",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": ITEM["gsi1pk"]},
            Limit=1,
            ScanIndexForward=False,
        ),
        "scan": client.scan(TableName=table),
        "batch": client.batch_get_item(RequestItems={table: {"Keys": [key]}}),
        "transact_get": client.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": key}}]),
        "records": streams.get_records(ShardIterator=iterator["ShardIterator"]),
    }
    answers["records"].pop("NextShardIterator")  # a fresh iterator id on every call
    for answer in answers.values():
        answer.pop("ResponseMetadata", None)
    return answers


def test_fast_reads_answer_exactly_like_moto(moto_dynamodb: Any, settings: Any) -> None:
    moto_dynamodb.put_item(TableName=settings.state_table, Item=ITEM)
    second = {**ITEM, "sk": {"S": "OTHER"}, "gsi1sk": {"S": "2026#2"}}
    moto_dynamodb.put_item(TableName=settings.state_table, Item=second)
    moto_dynamodb.put_item(
        TableName=settings.events_table, Item={**ITEM, "seq": {"N": "1"}, "sk": {"S": "x"}}
    )
    slow = _reads(moto_dynamodb, settings.state_table, settings.events_table)
    uninstall = moto_speedups.install()
    try:
        fast = _reads(moto_dynamodb, settings.state_table, settings.events_table)
    finally:
        uninstall()
    assert fast == slow
    assert fast["get"]["Item"]["blob"] == {"B": b"\x00\xffbytes"}  # bytes survive the round trip
    assert "LastEvaluatedKey" in fast["query_page"]
    [record] = fast["records"]["Records"]
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": b"\x00\xffbytes"}
    assert record["dynamodb"]["ApproximateCreationDateTime"].tzinfo is not None


def _events_item(seq: int) -> dict[str, Any]:
    return {"pk": {"S": "T#a#EX#1"}, "seq": {"N": str(seq)}, "event_type": {"S": "X"}}


def _stream_size(client: Any, settings: Any) -> int:
    streams = streams_client(region_name="us-east-1")
    arn = client.describe_table(TableName=settings.events_table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return len(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])


def test_a_committed_transaction_writes_everything(moto_dynamodb: Any, settings: Any, speedups: Any) -> None:
    moto_dynamodb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": settings.state_table,
                    "Item": ITEM,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": settings.events_table, "Item": _events_item(1)}},
            {"Put": {"TableName": settings.events_table, "Item": _events_item(2)}},
        ]
    )
    assert moto_dynamodb.scan(TableName=settings.state_table)["Count"] == 1
    assert moto_dynamodb.scan(TableName=settings.events_table)["Count"] == 2
    assert _stream_size(moto_dynamodb, settings) == 2


def test_a_cancelled_transaction_leaves_items_and_stream_as_before(
    moto_dynamodb: Any, settings: Any, speedups: Any
) -> None:
    key = {"pk": ITEM["pk"], "sk": ITEM["sk"]}
    moto_dynamodb.put_item(TableName=settings.state_table, Item={**key, "version": {"N": "1"}})
    moto_dynamodb.put_item(TableName=settings.events_table, Item=_events_item(1))
    before_state = moto_dynamodb.scan(TableName=settings.state_table)["Items"]
    with pytest.raises(ClientError) as caught:
        moto_dynamodb.transact_write_items(
            TransactItems=[
                # Applied by moto before the failing check below is reached: must be undone.
                {
                    "Update": {
                        "TableName": settings.state_table,
                        "Key": key,
                        "UpdateExpression": "SET version = :v",
                        "ExpressionAttributeValues": {":v": {"N": "2"}},
                    }
                },
                {"Put": {"TableName": settings.events_table, "Item": _events_item(2)}},
                {
                    "Put": {
                        "TableName": settings.events_table,
                        "Item": _events_item(1),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "ConditionalCheckFailed"]
    assert moto_dynamodb.scan(TableName=settings.state_table)["Items"] == before_state
    assert [i["seq"]["N"] for i in moto_dynamodb.scan(TableName=settings.events_table)["Items"]] == ["1"]
    assert _stream_size(moto_dynamodb, settings) == 1  # the rolled-back INSERT never reaches the agents
    # And the table still works normally afterwards.
    moto_dynamodb.put_item(TableName=settings.events_table, Item=_events_item(2))
    assert _stream_size(moto_dynamodb, settings) == 2


def test_invalid_transactions_change_nothing(moto_dynamodb: Any, settings: Any, speedups: Any) -> None:
    with pytest.raises(ClientError):
        moto_dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": settings.events_table, "Item": _events_item(5)}},
                {"Put": {"TableName": settings.events_table, "Item": _events_item(5)}},  # same key twice
            ]
        )
    assert moto_dynamodb.scan(TableName=settings.events_table)["Count"] == 0
    assert _stream_size(moto_dynamodb, settings) == 0


def test_install_is_idempotent_and_reversible(aws_env: None) -> None:
    from moto.core.serialize import JSONSerializer
    from moto.dynamodb.models import DynamoDBBackend

    before = (DynamoDBBackend.transact_write_items, JSONSerializer._serialize_result)
    uninstall = moto_speedups.install()
    again = moto_speedups.install()
    again()
    assert DynamoDBBackend.transact_write_items is not before[0]
    uninstall()
    assert (DynamoDBBackend.transact_write_items, JSONSerializer._serialize_result) == before
