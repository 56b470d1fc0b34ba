"""Test doubles and helpers: clock, ids, DynamoDB call recording and fault injection, snapshots."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from exception_playbooks.config import settings

START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime = START):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 1.0) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class SequentialIds:
    def __init__(self, prefix: str = "id") -> None:
        self.prefix = prefix
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"{self.prefix}-{self.count:06d}"


def client_error(code: str, operation: str, reasons: list[str] | None = None) -> ClientError:
    """The ClientError botocore raises for ``code`` (with cancellation reasons for transactions)."""
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": f"injected {code}"},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    if reasons is not None:
        response["CancellationReasons"] = [
            {"Code": reason, "Message": "injected"} if reason != "None" else {"Code": "None"}
            for reason in reasons
        ]
    return ClientError(response, operation)  # type: ignore[arg-type]


ErrorFactory = Callable[[str, dict[str, Any]], ClientError]


@dataclass
class _Fault:
    index: int | None
    make: ErrorFactory
    operation: str | None = None
    every: bool = False  # keep failing (a race lost on every attempt) instead of once

    def hits(self, index: int, operation: str) -> bool:
        return index == self.index if self.operation is None else operation == self.operation


class CallRecorder:
    """A botocore ``before-call`` hook on one client: records operation names, injects faults.

    An exception raised from ``before-call`` propagates before anything is sent (and before
    botocore's retries), exactly like a call DynamoDB refused.
    """

    EVENT = "before-call.dynamodb"

    def __init__(self, client: Any):
        self.client = client
        self.operations: list[str] = []
        self._fault: _Fault | None = None
        self._before: dict[int, Callable[[], None]] = {}
        self._paused = False
        client.meta.events.register(self.EVENT, self._hook, unique_id="test-call-recorder")

    def _hook(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if self._paused:
            return
        index = len(self.operations)
        self.operations.append(model.name)
        callback = self._before.pop(index, None)
        if callback is not None:
            self._paused = True
            try:
                callback()
            finally:
                self._paused = False
        fault = self._fault
        if fault is not None and fault.hits(index, model.name):
            if not fault.every:
                self._fault = None
            raise fault.make(model.name, params)

    def reset(self) -> None:
        self.operations.clear()
        self._fault = None
        self._before.clear()

    def fail_at(self, index: int, make: ErrorFactory) -> None:
        """Make call number ``index`` (0-based, counted from the last reset) fail with ``make(op)``."""
        self._fault = _Fault(index, make)

    def fail_on(self, operation: str, make: ErrorFactory, *, every: bool = False) -> None:
        """Make the next ``operation`` call (e.g. ``TransactWriteItems``) fail with ``make(op)``;
        with ``every``, each such call until the next reset."""
        self._fault = _Fault(None, make, operation, every)

    def before(self, index: int, callback: Callable[[], None]) -> None:
        """Run ``callback`` (unrecorded) just before call ``index`` goes out: a concurrent writer."""
        self._before[index] = callback

    def count(self) -> int:
        return len(self.operations)

    def uninstall(self) -> None:
        self.client.meta.events.unregister(self.EVENT, unique_id="test-call-recorder")


def _moto_items(table: str) -> list[Any]:
    """The items of ``table`` straight from moto's in-memory store (sorted by key).

    The ground truth, untouched by the hooks on the clients, and ~20x cheaper than a Scan through
    moto's (slow) response serializer.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return list(dynamodb_backends[DEFAULT_ACCOUNT_ID][settings().aws_region].tables[table].all_items())


def snapshot(client: Any = None) -> dict[str, list[str]]:
    """Every item of both tables, canonicalised, to compare state before and after."""
    return {
        name: sorted(json.dumps(item.to_json(), sort_keys=True, default=str) for item in _moto_items(name))
        for name in (settings().state_table, settings().events_table)
    }


def stored_items(table: str, pk: str | None = None) -> list[dict[str, Any]]:
    """Items of ``table`` (optionally one partition) as plain JSON values, in key order."""
    from boto3.dynamodb.types import TypeDeserializer
    from exception_playbooks.repository.dynamo import from_dynamo_value

    deserializer = TypeDeserializer()
    return [
        from_dynamo_value({k: deserializer.deserialize(v) for k, v in item.to_json()["Attributes"].items()})
        for item in _moto_items(table)
        if pk is None or item.hash_key.value == pk
    ]


def _transaction_or(code: str, reason: str) -> ErrorFactory:
    def make(operation: str, params: dict[str, Any]) -> ClientError:
        if operation == "TransactWriteItems":
            return client_error("TransactionCanceledException", operation, [reason])
        return client_error(code, operation)

    return make


# name -> (error factory, the typed error the core must raise). Conflict kinds only make sense on writes.
THROTTLE_FAULTS: dict[str, ErrorFactory] = {
    "provisioned_throughput": lambda op, _: client_error("ProvisionedThroughputExceededException", op),
    "throttling": lambda op, _: client_error("ThrottlingException", op),
    "internal_error": lambda op, _: client_error("InternalServerError", op),
}
WRITE_THROTTLE_FAULTS: dict[str, ErrorFactory] = {
    "cancelled_by_throttling": _transaction_or("ThrottlingException", "ThrottlingError"),
    "cancelled_by_capacity": _transaction_or(
        "ProvisionedThroughputExceededException", "ProvisionedThroughputExceeded"
    ),
}
CONFLICT_FAULTS: dict[str, ErrorFactory] = {
    "conditional_check_failed": _transaction_or("ConditionalCheckFailedException", "ConditionalCheckFailed"),
    "transaction_conflict_reason": _transaction_or("TransactionConflictException", "TransactionConflict"),
    "transaction_conflict": lambda op, _: client_error("TransactionConflictException", op),
}
WRITE_OPERATIONS = frozenset({"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem"})
