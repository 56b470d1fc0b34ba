"""Idempotency records for retried commands (complete/skip): stored in the command's own transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import keys
from ..models.exception import ExceptionRecord
from ..ports import Clock, system_clock
from .dynamo import Dynamo, Transaction

IDEMPOTENCY_LABEL = "idempotency"


def request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def stored_response(item: dict[str, Any] | None, now: datetime) -> StoredResponse | None:
    """The answer an idempotency item holds, unless there is none or it expired: DynamoDB's TTL
    deletes expired items only lazily (hours to days later), so an expired record reads as absent."""
    if not item:
        return None
    expires_at = item.get("expires_at")
    if expires_at is not None and int(expires_at) <= int(now.timestamp()):
        return None
    return StoredResponse(item["request_hash"], json.loads(item["response"]))


@dataclass(frozen=True)
class StoredResponse:
    request_hash: str
    response: dict[str, Any]


class IdempotencyRepository:
    def __init__(self, dynamo: Dynamo, clock: Clock = system_clock):
        self.dynamo = dynamo
        self.clock = clock

    def get_with_exception(
        self, tenant_id: str, scope: str, key: str, exception_id: str
    ) -> tuple[StoredResponse | None, ExceptionRecord | None]:
        """Read the idempotency record and the exception in ONE BatchGetItem."""
        table = self.dynamo.state_table
        wanted = [keys.idempotency_key(tenant_id, scope, key), keys.exception_key(tenant_id, exception_id)]
        response = self.dynamo.call(
            "batch_get_item",
            RequestItems={
                table: {"Keys": [self.dynamo.serialize(k) for k in wanted], "ConsistentRead": True}
            },
        )
        stored: StoredResponse | None = None
        record: ExceptionRecord | None = None
        for raw in response.get("Responses", {}).get(table, []):
            item = self.dynamo.deserialize(raw)
            if item["sk"] == keys.IDEMPOTENCY_SK:
                stored = self._live(item)
            else:
                record = ExceptionRecord.model_validate(item)
        if response.get("UnprocessedKeys"):
            # Rare (throttling); fall back to single reads rather than answer wrongly.
            stored = stored or self.get(tenant_id, scope, key)
            if record is None:
                found = self.dynamo.get(table, keys.exception_key(tenant_id, exception_id))
                record = ExceptionRecord.model_validate(found) if found else None
        return stored, record

    def get(self, tenant_id: str, scope: str, key: str) -> StoredResponse | None:
        item = self.dynamo.get(self.dynamo.state_table, keys.idempotency_key(tenant_id, scope, key))
        return self._live(item) if item else None

    def _live(self, item: dict[str, Any]) -> StoredResponse | None:
        return stored_response(item, self.clock())

    def stage(
        self,
        tenant_id: str,
        scope: str,
        key: str,
        body_hash: str,
        response: dict[str, Any],
        transaction: Transaction,
    ) -> None:
        now = int(self.clock().timestamp())
        expires = now + self.dynamo.config.idempotency_ttl_seconds
        transaction.put(
            self.dynamo.state_table,
            {
                **keys.idempotency_key(tenant_id, scope, key),
                "request_hash": body_hash,
                "response": json.dumps(response, separators=(",", ":")),
                "expires_at": expires,
                "tenant_id": tenant_id,
            },
            # An expired record that TTL has not deleted yet may be replaced.
            condition="attribute_not_exists(pk) OR expires_at <= :now",
            values={":now": now},
            label=IDEMPOTENCY_LABEL,
        )
