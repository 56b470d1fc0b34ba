"""local.aws_calls: the per-context AWS call counter used for the cost budgets."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from local.aws_calls import add_listener, count_aws_calls, install


def test_counts_each_operation_once(moto_dynamodb: Any, settings: Any) -> None:
    import boto3

    install()
    client = boto3.client("dynamodb", region_name="us-east-1")
    key = {"pk": {"S": "T#a#EX#1"}, "sk": {"S": "EXCEPTION"}}
    with count_aws_calls() as calls:
        client.put_item(TableName=settings.state_table, Item=key)
        client.get_item(TableName=settings.state_table, Key=key)
        client.get_item(TableName=settings.state_table, Key=key)
    assert calls.total == 3
    assert calls.count("dynamodb") == 3
    assert calls.count("dynamodb", "GetItem") == 2
    assert calls.count(operation="PutItem") == 1
    assert calls.by_operation() == {"dynamodb.GetItem": 2, "dynamodb.PutItem": 1}
    assert calls.names == ["dynamodb.PutItem", "dynamodb.GetItem", "dynamodb.GetItem"]


def test_counts_failed_calls_and_resource_calls(moto_dynamodb: Any, settings: Any) -> None:
    import boto3
    from botocore.exceptions import ClientError

    table = boto3.resource("dynamodb", region_name="us-east-1").Table(settings.state_table)
    with count_aws_calls() as calls:
        table.put_item(Item={"pk": "a", "sk": "b"})
        with pytest.raises(ClientError):
            table.put_item(Item={"pk": "a", "sk": "b"}, ConditionExpression="attribute_not_exists(pk)")
    assert calls.count("dynamodb", "PutItem") == 2


def test_counters_nest_and_stop_counting_when_the_block_ends(moto_dynamodb: Any, settings: Any) -> None:
    with count_aws_calls() as outer:
        moto_dynamodb.list_tables()
        with count_aws_calls() as inner:
            moto_dynamodb.describe_table(TableName=settings.state_table)
        moto_dynamodb.list_tables()
    moto_dynamodb.list_tables()
    assert inner.names == ["dynamodb.DescribeTable"]
    assert outer.total == 3


def test_each_thread_counts_only_its_own_calls(moto_dynamodb: Any, settings: Any) -> None:
    results: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def work(name: str, n: int) -> None:
        with count_aws_calls() as calls:
            barrier.wait()
            for _ in range(n):
                moto_dynamodb.describe_table(TableName=settings.state_table)
        results[name] = calls.total

    threads = [threading.Thread(target=work, args=("a", 2)), threading.Thread(target=work, args=("b", 5))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"a": 2, "b": 5}


def test_clients_created_before_install_of_a_new_session_are_counted(aws_env: None) -> None:
    """Sessions created after install() inherit the hook through botocore's built-in handlers."""
    import boto3
    from moto import mock_aws

    install()
    with mock_aws():
        client = boto3.session.Session().client("sqs", region_name="us-east-1")
        with count_aws_calls() as calls:
            client.list_queues()
    assert calls.names == ["sqs.ListQueues"]


def test_listeners_see_every_call_until_removed(moto_dynamodb: Any, settings: Any) -> None:
    seen: list[tuple[str, str]] = []
    remove = add_listener(lambda service, operation: seen.append((service, operation)))
    moto_dynamodb.put_item(TableName=settings.state_table, Item={"pk": {"S": "x"}, "sk": {"S": "y"}})
    remove()
    moto_dynamodb.list_tables()
    assert seen == [("dynamodb", "PutItem")]


def test_a_failing_listener_never_breaks_the_call(moto_dynamodb: Any) -> None:
    def broken(service: str, operation: str) -> None:
        raise RuntimeError("boom")

    remove = add_listener(broken)
    try:
        assert "TableNames" in moto_dynamodb.list_tables()
    finally:
        remove()
