"""Low-level DynamoDB access: a lazily created client, (de)serialisation, typed errors, transactions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..config import Settings, settings
from ..errors import Conflict, Unavailable
from ..tenancy import ClientProvider, SharedClient, current_tenant, default_client_provider

_THROTTLING = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
}
# The codes of TransactionCanceledException ``CancellationReasons`` are spelled differently.
_THROTTLING_REASONS = {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}


def to_dynamo_value(value: Any) -> Any:
    """JSON-compatible Python -> DynamoDB-compatible (floats become Decimal)."""
    if isinstance(value, bytes):
        return value  # a Binary attribute
    return json.loads(json.dumps(value), parse_float=Decimal)


def from_dynamo_value(value: Any) -> Any:
    """Decimals back to int/float so the rest of the code sees plain JSON types."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo_value(v) for v in value]
    if isinstance(value, set):
        return sorted(from_dynamo_value(v) for v in value)
    return value


class Dynamo:
    """The table names and the client of the bound tenant (``tenancy``), created on first use.

    ``client``: one client for every tenant (tests install ``tenant_guard`` on it themselves);
    ``clients``: a ``tenancy.ClientProvider``; neither: ``tenancy.default_client_provider``.
    """

    def __init__(
        self, config: Settings | None = None, client: Any = None, clients: ClientProvider | None = None
    ):
        self._config = config
        self._clients: ClientProvider | None = SharedClient(client) if client is not None else clients
        self._serializer: Any = None
        self._deserializer: Any = None

    @property
    def config(self) -> Settings:
        if self._config is None:
            self._config = settings()
        return self._config

    @property
    def state_table(self) -> str:
        return self.config.state_table

    @property
    def events_table(self) -> str:
        return self.config.events_table

    @property
    def client_provider(self) -> ClientProvider:
        if self._clients is None:
            self._clients = default_client_provider(self.config)
        return self._clients

    @property
    def client(self) -> Any:
        """The client for the tenant bound by the entry point (API token, checked agent event)."""
        return self.client_provider.client(current_tenant())

    def serialize(self, item: dict[str, Any]) -> dict[str, Any]:
        if self._serializer is None:
            from boto3.dynamodb.types import TypeSerializer

            self._serializer = TypeSerializer()
        return {k: self._serializer.serialize(to_dynamo_value(v)) for k, v in item.items() if v is not None}

    def deserialize(self, item: dict[str, Any]) -> dict[str, Any]:
        if self._deserializer is None:
            from boto3.dynamodb.types import TypeDeserializer

            self._deserializer = TypeDeserializer()
        return {k: from_dynamo_value(self._deserializer.deserialize(v)) for k, v in item.items()}

    def call(self, operation: str, **kwargs: Any) -> Any:
        with translate_errors():
            return getattr(self.client, operation)(**kwargs)

    def get(self, table: str, key: dict[str, Any], *, consistent: bool = True) -> dict[str, Any] | None:
        response = self.call("get_item", TableName=table, Key=self.serialize(key), ConsistentRead=consistent)
        item = response.get("Item")
        return self.deserialize(item) if item else None

    def batch_get(self, table: str, wanted: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        """Several items of one table in one strongly consistent BatchGetItem, in ``wanted`` order.

        Keys DynamoDB leaves unprocessed (throttling) are read one by one rather than answered wrongly.
        """
        response = self.call(
            "batch_get_item",
            RequestItems={table: {"Keys": [self.serialize(k) for k in wanted], "ConsistentRead": True}},
        )
        by_key: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in response.get("Responses", {}).get(table, []):
            item = self.deserialize(raw)
            by_key[(item["pk"], item["sk"])] = item
        unprocessed = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        for raw_key in unprocessed:
            key = self.deserialize(raw_key)
            found = self.get(table, key)
            if found:
                by_key[(key["pk"], key["sk"])] = found
        return [by_key.get((k["pk"], k["sk"])) for k in wanted]

    def transact_get(self, requests: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any] | None]:
        """Read several items (any tables) in one strongly consistent TransactGetItems call.

        Lets a use case stay inside its DynamoDB call budget when it needs two items; IAM
        evaluates each Get as ``dynamodb:GetItem``, so no extra grant is needed.
        """
        response = self.call(
            "transact_get_items",
            TransactItems=[
                {"Get": {"TableName": table, "Key": self.serialize(key)}} for table, key in requests
            ],
        )
        return [
            self.deserialize(entry["Item"]) if entry.get("Item") else None
            for entry in response.get("Responses", [])
        ]

    def query_page(
        self,
        table: str,
        *,
        key_condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
        index: str | None = None,
        filter_expression: str | None = None,
        limit: int | None = None,
        start_key: dict[str, Any] | None = None,
        forward: bool = True,
        consistent: bool = False,
        projection: str | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": self.serialize(values),
            "ScanIndexForward": forward,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if index:
            kwargs["IndexName"] = index
        elif consistent:
            kwargs["ConsistentRead"] = True
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
        if limit:
            kwargs["Limit"] = limit
        if start_key:
            kwargs["ExclusiveStartKey"] = self.serialize(start_key)
        if projection:
            kwargs["ProjectionExpression"] = projection
        response = self.call("query", **kwargs)
        items = [self.deserialize(i) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return items, (self.deserialize(last) if last else None)

    def query_all(self, table: str, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            page, start = self.query_page(table, start_key=start, **kwargs)
            items.extend(page)
            if not start:
                return items

    def commit(self, transaction: Transaction) -> None:
        """One TransactWriteItems: all of it or nothing."""
        if not transaction.items:
            return
        self.call("transact_write_items", TransactItems=[i.to_request(self) for i in transaction.items])


@dataclass
class TxItem:
    kind: str  # Put | Update | Delete | ConditionCheck
    table: str
    item: dict[str, Any] | None = None
    key: dict[str, Any] | None = None
    update: str | None = None
    condition: str | None = None
    names: dict[str, str] | None = None
    values: dict[str, Any] | None = None
    label: str = ""  # names the item in a Conflict raised on its failure

    def to_request(self, dynamo: Dynamo) -> dict[str, Any]:
        body: dict[str, Any] = {"TableName": self.table}
        if self.item is not None:
            body["Item"] = dynamo.serialize(self.item)
        if self.key is not None:
            body["Key"] = dynamo.serialize(self.key)
        if self.update:
            body["UpdateExpression"] = self.update
        if self.condition:
            body["ConditionExpression"] = self.condition
        if self.names:
            body["ExpressionAttributeNames"] = self.names
        if self.values:
            body["ExpressionAttributeValues"] = dynamo.serialize(self.values)
        return {self.kind: body}


@dataclass
class Transaction:
    """Items of one atomic write; repositories add to it, the use case commits it once."""

    items: list[TxItem] = field(default_factory=list)

    def put(
        self,
        table: str,
        item: dict[str, Any],
        *,
        condition: str | None = None,
        label: str = "",
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        self.items.append(
            TxItem("Put", table, item=item, condition=condition, names=names, values=values, label=label)
        )

    def update(
        self,
        table: str,
        key: dict[str, Any],
        expression: str,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        label: str = "",
    ) -> None:
        self.items.append(
            TxItem(
                "Update",
                table,
                key=key,
                update=expression,
                condition=condition,
                names=names,
                values=values,
                label=label,
            )
        )

    def delete(
        self,
        table: str,
        key: dict[str, Any],
        *,
        condition: str | None = None,
        values: dict[str, Any] | None = None,
        label: str = "",
    ) -> None:
        self.items.append(TxItem("Delete", table, key=key, condition=condition, values=values, label=label))

    def labels(self) -> list[str]:
        return [i.label for i in self.items]


class TransactionCancelled(Conflict):
    """A transaction was cancelled; ``failed_labels`` names the items whose condition failed."""

    def __init__(self, message: str, failed_labels: list[str]):
        super().__init__(message, code="CONCURRENT_MODIFICATION")
        self.failed_labels = failed_labels


class ConditionFailed(Conflict):
    """A single-item write's own condition did not hold (not a conflict with another transaction)."""


@contextmanager
def translate_errors() -> Iterator[None]:
    """botocore errors -> typed domain errors; never decided by message text."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed("The item changed concurrently", code="CONCURRENT_MODIFICATION") from error
        if code == "TransactionCanceledException":
            reasons = error.response.get("CancellationReasons") or []
            codes = [r.get("Code", "None") for r in reasons]
            if any(c in _THROTTLING or c in _THROTTLING_REASONS for c in codes):
                raise Unavailable("The data store is busy; nothing was written; retry") from error
            raise TransactionCancelled(
                "Another change was committed first; nothing was written",
                [str(i) for i, c in enumerate(codes) if c not in ("None", "")],
            ) from error
        if code in ("TransactionConflictException", "TransactionInProgressException"):
            # A lost race like a cancelled transaction: nothing written, safe to re-run from a read.
            raise TransactionCancelled(
                "Another change was committed first; nothing was written", []
            ) from error
        if code in _THROTTLING:
            raise Unavailable("The data store is busy; nothing was written; retry") from error
        raise
    except (ConnectionError, HTTPClientError) as error:
        # Network trouble only; other botocore errors (e.g. ParamValidationError) are our bugs
        # and must surface as such, not as a retryable 503.
        raise Unavailable("The data store is unreachable; nothing was written; retry") from error


def failed_labels(error: TransactionCancelled, transaction: Transaction) -> set[str]:
    labels = transaction.labels()
    return {labels[int(i)] for i in error.failed_labels if int(i) < len(labels)}


class CountingDynamo(Dynamo):
    """The same client and tables, counting the calls made through it (one per request: the count
    is that request's own; the shared ``Dynamo`` is never touched)."""

    def __init__(self, inner: Dynamo):
        super().__init__(inner.config, clients=inner.client_provider)  # the same tenant sessions
        self.calls: dict[str, int] = {}

    def call(self, operation: str, **kwargs: Any) -> Any:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        return super().call(operation, **kwargs)

    @property
    def total(self) -> int:
        return sum(self.calls.values())
