"""Data that survives a restart: both tables dumped to ``<state dir>/state.json`` and loaded back.

Items are kept in DynamoDB's own JSON (what Scan returns), so nothing is lost in conversion;
binary values are base64-tagged. The file is written atomically (temp file + rename).
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

from exception_playbooks.config import Settings

STATE_FILE = "state.json"
FORMAT = 1
_B64 = "$b64"


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {_B64: base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_B64}:
            return base64.b64decode(value[_B64])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def scan_all(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page.get("Items", []))
    return items


def snapshot(dynamodb: Any, settings: Settings, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "meta": meta or {},
        "tables": {
            "state": _encode(scan_all(dynamodb, settings.state_table)),
            "events": _encode(scan_all(dynamodb, settings.events_table)),
        },
    }


def save(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w") as handle:
        json.dump(data, handle, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def load(path: Path) -> dict[str, Any] | None:
    """The saved state, or None when there is none (or it is unreadable: then start over)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("tables"), dict):
        raise ValueError(f"{path} is not a state file this version understands; run 'make dev-reset'")
    return data


def restore(dynamodb: Any, settings: Settings, data: dict[str, Any]) -> dict[str, int]:
    """Write the saved items back (BatchWriteItem, 25 at a time); returns item counts per table."""
    counts = {}
    for role, table in (("state", settings.state_table), ("events", settings.events_table)):
        items = _decode(data["tables"].get(role, []))
        for start in range(0, len(items), 25):
            _batch_put(dynamodb, table, items[start : start + 25])
        counts[role] = len(items)
    return counts


def _batch_put(dynamodb: Any, table: str, items: list[dict[str, Any]]) -> None:
    requests: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in items]}
    for _ in range(10):
        unprocessed = dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
        if not unprocessed:
            return
        requests = unprocessed
        time.sleep(0.05)
    raise RuntimeError(f"could not restore every item of {table}")
