"""local.backfill_queue: exceptions written before the work queue get into its indexes."""

from __future__ import annotations

from typing import Any

from exception_playbooks import config

from local.backfill_queue import backfill

from .conftest import ApiClient
from .scenario import EXCEPTIONS, create


def test_backfill_puts_old_exceptions_in_the_queue_and_is_idempotent(
    api: ApiClient, repos: Any, aws: Any
) -> None:
    create(api, "EX-OLD", severity="high", summary="Written before the queue")
    create(api, "EX-NEW")
    table = config.settings().state_table
    old_attributes = [
        "gsi3pk",
        "gsi3sk",
        "gsi4pk",
        "gsi4sk",
        "gsi5pk",
        "gsi5sk",
        "search_id",
        "search_summary",
    ]
    aws.update_item(  # as an item written by the previous version looks
        TableName=table,
        Key={"pk": {"S": "T#tenant-a#EX#EX-OLD"}, "sk": {"S": "EXCEPTION"}},
        UpdateExpression="REMOVE " + ", ".join(old_attributes),
    )
    listed = [e["exception_id"] for e in api.call("GET", EXCEPTIONS).body["items"]]
    assert listed == ["EX-NEW"]

    assert backfill(repos.dynamo) == 1
    assert backfill(repos.dynamo) == 0
    listed = [e["exception_id"] for e in api.call("GET", EXCEPTIONS).body["items"]]
    assert listed == ["EX-NEW", "EX-OLD"]
    found = api.call("GET", EXCEPTIONS, query={"q": "written before", "sort": "sla_deadline"}).body["items"]
    assert [e["exception_id"] for e in found] == ["EX-OLD"]
