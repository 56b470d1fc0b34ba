"""Opaque pagination cursors: the DynamoDB start key, bound to the tenant, base64url-encoded."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from ..errors import Problem, ValidationFailed


def _tag(tenant_id: str, scope: str) -> str:
    # A cursor from another tenant or another listing is refused instead of silently followed.
    return hashlib.sha256(f"{tenant_id}|{scope}".encode()).hexdigest()[:12]


def encode(tenant_id: str, scope: str, start_key: dict[str, Any] | None) -> str | None:
    if not start_key:
        return None
    raw = json.dumps({"t": _tag(tenant_id, scope), "k": start_key}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(
    tenant_id: str,
    scope: str,
    cursor: str | None,
    *,
    key_types: dict[str, type] | None = None,
    partition: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The start key of ``cursor``; ValidationFailed unless it is one of this listing's own.

    The tag is not a signature, so the key itself is checked too: exactly ``key_types`` attributes
    of those types, inside ``partition`` (a forged key would otherwise reach DynamoDB as a 500).
    """
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        key = data["k"]
        if data["t"] != _tag(tenant_id, scope) or not isinstance(key, dict):
            raise ValueError("foreign cursor")
        if key_types is not None and (
            set(key) != set(key_types) or any(type(key[name]) is not kind for name, kind in key_types.items())
        ):
            raise ValueError("not a start key of this listing")
        if any(key.get(name) != value for name, value in (partition or {}).items()):
            raise ValueError("start key outside this listing's partition")
        return key
    except (ValueError, KeyError, TypeError) as error:
        raise ValidationFailed([Problem("cursor", "is not a valid cursor for this listing")]) from error
