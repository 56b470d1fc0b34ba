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


def decode(tenant_id: str, scope: str, cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if data["t"] != _tag(tenant_id, scope) or not isinstance(data["k"], dict):
            raise ValueError("foreign cursor")
        return data["k"]  # type: ignore[no-any-return]
    except (ValueError, KeyError, TypeError) as error:
        raise ValidationFailed([Problem("cursor", "is not a valid cursor for this listing")]) from error
