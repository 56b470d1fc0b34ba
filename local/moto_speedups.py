"""Two speed-ups for moto 5.2's DynamoDB, installed by the local stack (measured on the seed).

1. TransactWriteItems in constant time. moto makes a transaction undoable by deep-copying every
   table it touches, once per item, stream records included: a step completion on a seeded
   stack cost ~250 ms and grew with the data. Here the undo record holds only what a
   transaction can change: deep copies of the items it names and the length of each touched
   table's stream. moto's table copy is skipped (the ``copy`` module it uses sees tables as
   immutable); on any failure the wrapper puts those items back and drops the stream records
   the failed attempt appended: the outcome of moto's full copy. Valid only while calls are
   serialised, which ``local.moto_backend`` guarantees.
2. Item-bearing reads (GetItem, Query, Scan, BatchGetItem, TransactGetItems, and the stream's
   GetRecords) answered with a plain JSON dump. moto's generic, model-driven response
   serializer walked every attribute value (17 ms for a 2 KB GetItem, 120 ms for a 12 KB
   Query); moto already hands over these results in DynamoDB's wire format, so only the
   top-level members of the output shape are kept, bytes are base64-encoded and datetimes
   become epoch seconds (millisecond precision), as the JSON protocol wants.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Undo = Callable[[], None]

FAST_READS = frozenset(
    {
        ("dynamodb", "GetItem"),
        ("dynamodb", "Query"),
        ("dynamodb", "Scan"),
        ("dynamodb", "BatchGetItem"),
        ("dynamodb", "TransactGetItems"),
        ("dynamodbstreams", "GetRecords"),
    }
)


class _SkipTableCopies:
    """Stands in for the ``copy`` module inside ``moto.dynamodb.models``."""

    def __init__(self, table_type: type):
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, self._table_type):
            return value  # the transaction wrapper restores exactly what changed
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _undo_record(backend: Any, transact_items: list[dict[str, Any]]) -> Undo:
    saved: list[tuple[Any, Any, Any, Any]] = []  # (table, hash key, range key, item before or None)
    stream_lengths: dict[str, tuple[Any, int]] = {}
    for entry in transact_items:
        try:
            ((op_type, op),) = entry.items()
            table = backend.tables[op["TableName"]]
            keys = op["Item"] if op_type == "Put" else op["Key"]
            hash_key, range_key = backend.get_keys_value(table, keys)
        except Exception:
            continue  # moto rejects a malformed entry before writing anything for it
        before = table.get_item(hash_key, range_key)
        saved.append((table, hash_key, range_key, copy.deepcopy(before)))
        if table.stream_shard is not None:
            stream_lengths.setdefault(table.name, (table, len(table.stream_shard.items)))

    def undo() -> None:
        # Reversed, so that with a key named twice the state before the first write wins.
        for table, hash_key, range_key, before in reversed(saved):
            if range_key is not None:
                bucket = table.items[hash_key]
                if before is None:
                    bucket.pop(range_key, None)
                else:
                    bucket[range_key] = before
            elif before is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = before
        for table, length in stream_lengths.values():
            del table.stream_shard.items[length:]

    return undo


def _wire(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)  # moto keeps naive UTC times
        return int(moment.timestamp() * 1000) / 1000
    return value


def install() -> Undo:
    """Install both speed-ups (idempotent); returns a function that removes them."""
    remove_transactions = _install_constant_time_transactions()
    remove_reads = _install_fast_reads()

    def uninstall() -> None:
        remove_reads()
        remove_transactions()

    return uninstall


def _install_fast_reads() -> Undo:
    from moto.core.serialize import JSONSerializer

    original = JSONSerializer._serialize_result
    if getattr(original, "_local_fast", False):
        return lambda: None

    def _serialize_result(self: Any, resp: Any, result: Any) -> Any:
        shape = self.operation_model.output_shape
        if (
            (self.service_model.service_name, self.operation_name) not in FAST_READS
            or not isinstance(result, dict)
            or shape is None
        ):
            return original(self, resp, result)
        members = shape.members
        body = {key: _wire(value) for key, value in result.items() if key in members and value is not None}
        resp["body"] = json.dumps(body)
        resp["headers"]["Content-Type"] = self._get_protocol_specific_content_type()
        return resp

    _serialize_result._local_fast = True  # type: ignore[attr-defined]
    JSONSerializer._serialize_result = _serialize_result  # type: ignore[method-assign]

    def uninstall() -> None:
        JSONSerializer._serialize_result = original  # type: ignore[method-assign]

    return uninstall


def _install_constant_time_transactions() -> Undo:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    backend_type = models.DynamoDBBackend
    original = backend_type.transact_write_items
    if getattr(original, "_local_constant_time", False):
        return lambda: None

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        undo = _undo_record(self, transact_items)
        try:
            original(self, transact_items)
        except BaseException:
            undo()
            raise

    transact_write_items._local_constant_time = True  # type: ignore[attr-defined]
    backend_type.transact_write_items = transact_write_items  # type: ignore[method-assign]
    models.copy = _SkipTableCopies(Table)  # type: ignore[assignment]

    def uninstall() -> None:
        backend_type.transact_write_items = original  # type: ignore[method-assign]
        models.copy = copy

    return uninstall
