"""Where an exception's SLA clock rings: pure computation of marks, schedule names and payloads.

A *mark* is one threshold of the tenant policy's ``sla_clock`` on one exception: ``warn:60``
(60 minutes before the deadline), ``warn:15``, and ``breach`` (at the deadline). Each mark has one
schedule whose name is derived from (tenant, exception, threshold), so a moved deadline updates
the same schedule, and whose payload names the deadline it was computed for, so a schedule that
fires for a deadline since changed is recognised as stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..models.enums import ExceptionStatus
from ..models.exception import ExceptionRecord
from ..models.packs import SlaClock
from ..ports import deterministic_id, iso, parse_iso

BREACH = "breach"
WARN_PREFIX = "warn:"
KIND_MARK = "sla_mark"
KIND_APPROVAL_EXPIRY = "approval_expiry"
CLOSED_STATUSES = frozenset({ExceptionStatus.RESOLVED, ExceptionStatus.CLOSED})


@dataclass(frozen=True)
class Mark:
    threshold: str  # "warn:60" or "breach"
    at: datetime

    @property
    def minutes_before(self) -> int:
        return 0 if self.threshold == BREACH else int(self.threshold.removeprefix(WARN_PREFIX))


def thresholds(clock: SlaClock) -> list[str]:
    return [f"{WARN_PREFIX}{minutes}" for minutes in clock.warn_minutes] + [BREACH]


def marks(deadline: datetime, clock: SlaClock) -> list[Mark]:
    """The marks in time order: the earliest warning first, the breach last."""
    return [
        Mark(threshold, deadline - timedelta(minutes=Mark(threshold, deadline).minutes_before))
        for threshold in thresholds(clock)
    ]


def schedule_name(tenant_id: str, exception_id: str, threshold: str) -> str:
    """EventBridge Scheduler names: at most 64 of [0-9a-zA-Z-_.]; tenant and id are hashed in."""
    label = "breach" if threshold == BREACH else threshold.replace(":", "")
    return f"sla-{deterministic_id('sla', tenant_id, exception_id, threshold)}-{label}"


def approval_schedule_name(tenant_id: str, exception_id: str) -> str:
    return f"apx-{deterministic_id('approval-expiry', tenant_id, exception_id)}"


def mark_payload(tenant_id: str, exception_id: str, mark: Mark, deadline: datetime) -> dict[str, Any]:
    return {
        "kind": KIND_MARK,
        "tenant_id": tenant_id,
        "exception_id": exception_id,
        "threshold": mark.threshold,
        "deadline": iso(deadline),
    }


def is_running(record: ExceptionRecord) -> bool:
    return record.status not in CLOSED_STATUSES


def deadline_of(record: ExceptionRecord) -> datetime | None:
    return parse_iso(record.sla_deadline) if record.sla_deadline else None


def trigger_id(tenant_id: str, exception_id: str, threshold: str, deadline: str) -> str:
    """One firing per (exception, threshold, deadline): the idempotency key of the SLA agent."""
    return deterministic_id("sla-mark", tenant_id, exception_id, threshold, iso(parse_iso(deadline)))
