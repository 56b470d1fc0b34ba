"""The local tenant guard decides like the tenant-data role's policy, call shape by call shape."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from exception_playbooks.config import Settings
from exception_playbooks.tenant_guard import TenantGuard

CONFIG = Settings(state_table="state", events_table="events")
MINE = {"pk": {"S": "T#acme#EX#1"}, "sk": {"S": "EXCEPTION"}}
THEIRS = {"pk": {"S": "T#globex#EX#1"}, "sk": {"S": "EXCEPTION"}}
EVENT = {"pk": {"S": "T#acme#EX#1"}, "seq": {"N": "1"}}
NO_OVERWRITE = "attribute_not_exists(pk)"


def _guard(tenant: str | None = "acme", *, allow_unscoped: bool = False) -> TenantGuard:
    return TenantGuard(CONFIG, lambda: tenant, allow_unscoped=allow_unscoped)


def _refused(operation: str, params: dict[str, Any], guard: TenantGuard | None = None) -> bool:
    try:
        (guard or _guard()).check(operation, params)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDeniedException"
        assert error.operation_name == operation
        return True
    return False


def _query(
    pk: str, *, index: str | None = None, table: str = "state", attribute: str = "pk"
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#p = :p AND begins_with(sk, :s)",
        "ExpressionAttributeNames": {"#p": attribute},
        "ExpressionAttributeValues": {":p": {"S": pk}, ":s": {"S": "V#"}},
    }
    if index:
        params["IndexName"] = index
    return params


@pytest.mark.parametrize("operation", ["GetItem", "UpdateItem"])
def test_single_item_calls_stay_in_the_tenant(operation: str) -> None:
    assert not _refused(operation, {"TableName": "state", "Key": MINE})
    assert _refused(operation, {"TableName": "state", "Key": THEIRS})


def test_put_item_checks_the_items_key() -> None:
    assert not _refused("PutItem", {"TableName": "state", "Item": {**MINE, "x": {"S": "1"}}})
    assert _refused("PutItem", {"TableName": "state", "Item": {**THEIRS, "x": {"S": "1"}}})


def test_a_tenant_whose_id_prefixes_another_is_not_confused() -> None:
    assert _refused("GetItem", {"TableName": "state", "Key": {"pk": {"S": "T#acme2#EX#1"}}})


def test_query_checks_the_partition_key_of_table_and_indexes() -> None:
    assert not _refused("Query", _query("T#acme#PB#1"))
    assert _refused("Query", _query("T#globex#PB#1"))
    assert not _refused("Query", _query("T#acme#EXCEPTIONS", index="by_tenant", attribute="gsi1pk"))
    assert _refused("Query", _query("T#globex#EXCEPTIONS", index="by_tenant", attribute="gsi1pk"))
    assert _refused("Query", _query("T#globex#PLAYBOOKS", index="playbooks", attribute="gsi2pk"))
    # A key condition on something that is not a partition key proves nothing: refused.
    assert _refused("Query", _query("T#acme#PB#1", attribute="owner"))
    assert _refused("Query", _query("T#acme#EX#1", index="any", table="events"))  # events: no index


def test_batch_get_checks_every_key() -> None:
    assert not _refused("BatchGetItem", {"RequestItems": {"state": {"Keys": [MINE, MINE]}}})
    assert _refused("BatchGetItem", {"RequestItems": {"state": {"Keys": [MINE, THEIRS]}}})


def test_transactions_check_every_item_and_its_action() -> None:
    mine_put = {"Put": {"TableName": "state", "Item": MINE}}
    theirs_check = {"ConditionCheck": {"TableName": "state", "Key": THEIRS, "ConditionExpression": "x"}}
    assert not _refused("TransactWriteItems", {"TransactItems": [mine_put]})
    assert _refused("TransactWriteItems", {"TransactItems": [mine_put, theirs_check]})
    assert _refused(
        "TransactWriteItems", {"TransactItems": [{"Delete": {"TableName": "events", "Key": EVENT}}]}
    )
    assert not _refused("TransactGetItems", {"TransactItems": [{"Get": {"TableName": "state", "Key": MINE}}]})
    assert _refused("TransactGetItems", {"TransactItems": [{"Get": {"TableName": "state", "Key": THEIRS}}]})


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("Scan", {"TableName": "state"}),
        ("DeleteItem", {"TableName": "events", "Key": EVENT}),
        ("BatchWriteItem", {"RequestItems": {"state": [{"PutRequest": {"Item": MINE}}]}}),
        ("ExecuteStatement", {"Statement": "SELECT * FROM state"}),
        ("DescribeTable", {"TableName": "state"}),
        ("GetItem", {"TableName": "other-table", "Key": MINE}),
    ],
)
def test_actions_the_role_does_not_hold_are_refused(operation: str, params: dict[str, Any]) -> None:
    assert _refused(operation, params)


def test_the_timeline_is_append_only() -> None:
    put = {"TableName": "events", "Item": EVENT}
    assert _refused("PutItem", put)  # could overwrite
    assert not _refused("PutItem", {**put, "ConditionExpression": NO_OVERWRITE})
    in_transaction = {"Put": {"TableName": "events", "Item": EVENT}}
    assert _refused("TransactWriteItems", {"TransactItems": [in_transaction]})
    in_transaction["Put"]["ConditionExpression"] = NO_OVERWRITE
    assert not _refused("TransactWriteItems", {"TransactItems": [in_transaction]})
    assert _refused("UpdateItem", {"TableName": "events", "Key": EVENT})


def test_no_session_means_no_access_unless_the_test_setup_says_so() -> None:
    assert _refused("GetItem", {"TableName": "state", "Key": MINE}, _guard(None))
    assert not _refused("Scan", {"TableName": "state"}, _guard(None, allow_unscoped=True))
