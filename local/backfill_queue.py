"""Give exceptions written before the work queue existed their queue attributes (one-off).

    python -m local.backfill_queue [--endpoint-url URL]   # STATE_TABLE names the table

The queue indexes (``queue_created``, ``queue_severity``, ``queue_sla``) only list items that
carry their keys; every write sets them, so only exceptions untouched since the upgrade lack
them. This scans the state table once for such exception items (a migration, never a request
path) and sets the attributes with an UpdateItem guarded by the item's ``version``, so a
concurrent write wins and is left alone (it set the attributes itself).
"""

from __future__ import annotations

import argparse
from typing import Any

from exception_playbooks import config
from exception_playbooks.keys import EXCEPTION_SK
from exception_playbooks.models.exception import ExceptionRecord
from exception_playbooks.repository.dynamo import ConditionFailed, Dynamo
from exception_playbooks.repository.exceptions import queue_attributes


def backfill(dynamo: Dynamo) -> int:
    """Update every exception item without queue keys; returns how many were updated."""
    table = dynamo.state_table
    updated = 0
    kwargs: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "sk = :sk AND attribute_not_exists(gsi3pk)",
        "ExpressionAttributeValues": {":sk": {"S": EXCEPTION_SK}},
    }
    while True:
        page = dynamo.call("scan", **kwargs)
        for raw in page.get("Items", []):
            item = dynamo.deserialize(raw)
            attributes = {
                k: v
                for k, v in queue_attributes(item["tenant_id"], ExceptionRecord.model_validate(item)).items()
                if v
            }
            names = {f"#a{n}": name for n, name in enumerate(attributes)}
            values = {f":a{n}": value for n, value in enumerate(attributes.values())}
            try:
                dynamo.call(
                    "update_item",
                    TableName=table,
                    Key=dynamo.serialize({"pk": item["pk"], "sk": item["sk"]}),
                    UpdateExpression="SET " + ", ".join(f"#a{n} = :a{n}" for n in range(len(attributes))),
                    ConditionExpression="#version = :version",
                    ExpressionAttributeNames={**names, "#version": "version"},
                    ExpressionAttributeValues=dynamo.serialize({**values, ":version": item["version"]}),
                )
                updated += 1
            except ConditionFailed:  # a concurrent write already set the keys: leave it
                pass
        if "LastEvaluatedKey" not in page:
            return updated
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoint-url", help="DynamoDB endpoint (DynamoDB Local); default: AWS")
    args = parser.parse_args(argv)
    client = None
    if args.endpoint_url:
        import boto3

        client = boto3.client(
            "dynamodb", endpoint_url=args.endpoint_url, region_name=config.settings().aws_region
        )
    print(f"updated {backfill(Dynamo(client=client))} exception(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
