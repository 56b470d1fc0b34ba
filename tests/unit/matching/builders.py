"""Builders for matching tests: records, playbooks and packs with sensible defaults, a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from exception_playbooks.matching.facts import FactSheet, fact_sheet
from exception_playbooks.models.exception import ExceptionRecord
from exception_playbooks.models.packs import DomainPack, PackSet, PolicyPack
from exception_playbooks.models.playbook import PlaybookVersion

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
NOTIFY = {"name": "Notify desk", "action_type": "notify", "params": {"channel": "slack", "group": "desk"}}


def iso_in(minutes: float) -> str:
    return (NOW + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def record(**overrides: Any) -> ExceptionRecord:
    data: dict[str, Any] = {
        "exception_id": "EX-1",
        "domain": "Finance",
        "exception_type": "TradeSettlementFailure",
        "created_at": "2026-11-25T11:00:00.000Z",
        "updated_at": "2026-11-25T11:00:00.000Z",
    }
    data.update(overrides)
    return ExceptionRecord.model_validate(data)


def playbook(
    playbook_id: str = "pb-1",
    match: dict[str, Any] | None = None,
    priority: int = 0,
    *,
    version: int = 1,
    name: str | None = None,
    created_at: str = "2026-01-01T00:00:00.000Z",
    steps: list[dict[str, Any]] | None = None,
    active: bool = True,
) -> PlaybookVersion:
    ordered = [{"step_order": i, **step} for i, step in enumerate(steps or [NOTIFY], start=1)]
    return PlaybookVersion.model_validate(
        {
            "playbook_id": playbook_id,
            "version": version,
            "name": name or f"Playbook {playbook_id}",
            "conditions": {"match": match or {}, "priority": priority},
            "steps": ordered,
            "created_at": created_at,
            "active": active,
        }
    )


def call_tool(tool_id: str) -> dict[str, Any]:
    return {
        "name": f"Call {tool_id}",
        "action_type": "call_tool",
        "params": {"tool_id": tool_id, "payload": {}},
    }


def packs(policy: dict[str, Any] | None = None, domain: dict[str, Any] | None = None) -> PackSet:
    domain_pack = None
    if domain is not None:
        domain_pack = DomainPack.model_validate({"domain": "Finance", "version": 1, **domain})
    return PackSet(policy=PolicyPack.model_validate(policy or {}), domain=domain_pack)


def facts(**overrides: Any) -> FactSheet:
    data: dict[str, Any] = {
        "domain": "Finance",
        "exception_type": "TradeSettlementFailure",
        "severity": "high",
        "tags": ("vip",),
        "sla_minutes_remaining": 45.0,
        "attributes": {
            "amount": 2_500_000,
            "currency": "USD",
            "counterparty": {"name": "ACME Bank", "region": "EMEA"},
            "flagged": True,
            "note": None,
        },
    }
    data.update(overrides)
    return fact_sheet(**data)
