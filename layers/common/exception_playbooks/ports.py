"""Ports with production defaults: clock and id generator (repositories live in ``repository``)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
IdGenerator = Callable[[], str]


def system_clock() -> datetime:
    return datetime.now(UTC)


def random_id() -> str:
    """Time-ordered unique id (ULID-like: 48-bit ms timestamp + 80 random bits, hex)."""
    millis = int(time.time() * 1000)
    return f"{millis:012x}{os.urandom(10).hex()}"


def deterministic_id(*parts: str) -> str:
    """Stable id derived from its inputs (used to make redelivered agent writes idempotent)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)).hex


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with millisecond precision and a ``Z`` suffix."""
    utc = moment.astimezone(UTC)  # callers hold validated dates (years 1970..9999 in UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}."
        f"{utc.microsecond // 1000:03d}Z"
    )


def parse_iso(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
