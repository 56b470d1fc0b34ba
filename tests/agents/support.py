"""Test helpers: seed data, exception writes through the core use cases, envelopes, counting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from exception_playbooks import bus, keys
from exception_playbooks.auth import Principal
from exception_playbooks.execution import operations
from exception_playbooks.execution.operations import StepCommand
from exception_playbooks.models.enums import ActionType, ActorType, EventType, Role, Severity
from exception_playbooks.models.event import Actor, TimelineEvent
from exception_playbooks.models.exception import (
    CommentCreate,
    ExceptionCreate,
    ExceptionPatch,
    ExceptionRecord,
)
from exception_playbooks.models.packs import DomainPackInput, PolicyPackInput
from exception_playbooks.models.playbook import Conditions, PlaybookVersion, Step
from exception_playbooks.ports import iso
from exception_playbooks.repository.bundle import Repositories
from exception_playbooks.usecases import exceptions

from local.lambda_runtime import make_context

TENANT = "northwind"
DOMAIN = "CapitalMarkets"
OPERATOR = Principal(tenant_id=TENANT, username="alice", roles=frozenset({Role.OPERATOR}))
HUMAN = Actor(actor_type=ActorType.HUMAN, actor_id="alice")
STANDARD = "settlement-standard"
FORCE = "settlement-force"


class FakeClock:
    """A clock the test moves: event times and run durations become exact."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class FakePublisher:
    published: list[dict[str, Any]] = field(default_factory=list)

    def publish(self, *, source: str, detail_type: str, detail: dict[str, Any]) -> None:
        self.published.append({"source": source, "detail_type": detail_type, "detail": detail})


def _step(order: int, name: str, action: str, **params: Any) -> Step:
    return Step(step_order=order, name=name, action_type=ActionType(action), params=params)


def standard_playbook(created_at: str) -> PlaybookVersion:
    return PlaybookVersion(
        playbook_id=STANDARD,
        version=1,
        name="Settlement fail - standard",
        conditions=Conditions(
            match={
                "domain": DOMAIN,
                "exception_type": "SETTLEMENT_FAIL",
                "severity_in": ["medium", "high", "critical"],
            },
            priority=100,
        ),
        steps=(
            _step(
                1,
                "Fetch settlement status",
                "call_tool",
                tool_id="get_settlement",
                payload={"trade_id": "{exception.attributes.trade_id}"},
            ),
            _step(2, "Assign to settlements queue", "assign_owner", queue="SettlementsOps"),
            _step(
                3,
                "Retry settlement",
                "call_tool",
                tool_id="retry_settlement",
                payload={
                    "trade_id": "{exception.attributes.trade_id}",
                    "ssi_id": "{exception.attributes.ssi_id}",
                },
            ),
            _step(
                4,
                "Tell the desk",
                "notify",
                channel="slack",
                group="SettlementsOps",
                subject="Retry submitted for {exception.attributes.trade_id}",
                message="Trade {exception.attributes.trade_id} was resubmitted with {domain.custodian}.",
            ),
        ),
        created_at=created_at,
        created_by="admin",
    )


def force_playbook(created_at: str) -> PlaybookVersion:
    """Matches first (higher priority) but calls a tool the tenant never approved."""
    return PlaybookVersion(
        playbook_id=FORCE,
        version=1,
        name="Settlement fail - force",
        conditions=Conditions(match={"domain": DOMAIN, "exception_type": "SETTLEMENT_*"}, priority=200),
        steps=(_step(1, "Force settle", "call_tool", tool_id="force_settle", payload={}),),
        created_at=created_at,
        created_by="admin",
    )


def seed(repos: Repositories, tenant: str, *, with_standard: bool = True) -> None:
    repos.packs.put_domain(
        tenant,
        DOMAIN,
        DomainPackInput.model_validate(
            {
                "exception_types": {"SETTLEMENT_FAIL": {"default_severity": "high"}},
                "severity_rules": [
                    {
                        "when": {"exception_type": "SETTLEMENT_FAIL", "attributes": {"days_aged": {"gt": 2}}},
                        "severity": "critical",
                    }
                ],
                "tools": {
                    "get_settlement": {
                        "risk": "low",
                        "parameters": {"type": "object", "required": ["trade_id"]},
                    },
                    "retry_settlement": {
                        "risk": "high",
                        "parameters": {"type": "object", "required": ["trade_id", "ssi_id"]},
                    },
                    "force_settle": {"risk": "high"},
                },
                "fields": {"custodian": "State Street"},
            }
        ),
    )
    repos.packs.put_policy(
        tenant,
        PolicyPackInput.model_validate(
            {
                "approved_tools": ["get_settlement", "retry_settlement"],
                "human_approval": {"severities": ["critical"]},
                "tag_rules": [{"when": {"attributes": {"counterparty_tier": {"eq": 1}}}, "tags": ["tier1"]}],
                "auto_resolve_on_completion": True,
            }
        ),
    )
    created = iso(repos.clock())
    repos.playbooks.save_version(tenant, force_playbook(created))
    if with_standard:
        repos.playbooks.save_version(tenant, standard_playbook(created))


def create_exception(
    repos: Repositories,
    exception_id: str = "EX-1",
    *,
    tenant: str = TENANT,
    severity: Severity | None = None,
    attributes: dict[str, Any] | None = None,
    tags: list[str] | None = None,
) -> tuple[ExceptionRecord, TimelineEvent]:
    """POST /api/exceptions through its use case: the record and ExceptionCreated, one transaction."""
    body = ExceptionCreate(
        exception_id=exception_id,
        domain=DOMAIN,
        exception_type="SETTLEMENT_FAIL",
        severity=severity,
        policy_tags=tags or [],
        attributes=attributes
        if attributes is not None
        else {"trade_id": "T-1", "ssi_id": "SSI-9", "days_aged": 1},
    )
    principal = Principal(tenant_id=tenant, username="alice", roles=frozenset({Role.OPERATOR}))
    exceptions.create_exception(repos, principal, body)
    record = operations.load_exception(repos, tenant, exception_id)
    created = _events(repos, tenant, exception_id)[0]
    assert created.event_type is EventType.EXCEPTION_CREATED
    return record, created


def _events(repos: Repositories, tenant: str, exception_id: str) -> list[TimelineEvent]:
    return list(repos.exceptions.all_events(tenant, exception_id))


def _patch(repos: Repositories, exception_id: str, body: ExceptionPatch) -> TimelineEvent:
    """PATCH through its use case (ExceptionUpdated, plus the synchronous re-match); its event."""
    before = operations.load_exception(repos, TENANT, exception_id).last_seq
    exceptions.patch_exception(repos, OPERATOR, exception_id, body)
    updated = _events(repos, TENANT, exception_id)[before]
    assert updated.event_type is EventType.EXCEPTION_UPDATED
    return updated


def patch_severity(repos: Repositories, exception_id: str, severity: Severity) -> TimelineEvent:
    return _patch(repos, exception_id, ExceptionPatch(severity=severity))


def patch_summary(repos: Repositories, exception_id: str, summary: str) -> TimelineEvent:
    return _patch(repos, exception_id, ExceptionPatch(summary=summary))


def add_comment(repos: Repositories, exception_id: str, text: str) -> None:
    exceptions.add_comment(repos, OPERATOR, exception_id, CommentCreate(text=text))


def complete_step(repos: Repositories, exception_id: str, step_order: int, *, skip: bool = False) -> None:
    operations.act_on_step(
        repos, OPERATOR, exception_id, step_order, StepCommand(notes="done" if not skip else "n/a"), skip=skip
    )


# -- reading back -------------------------------------------------------------------------------
def timeline(repos: Repositories, exception_id: str = "EX-1") -> list[TimelineEvent]:
    return repos.exceptions.all_events(TENANT, exception_id)


def of_type(events: list[TimelineEvent], event_type: EventType) -> list[TimelineEvent]:
    return [e for e in events if e.event_type is event_type]


def last_of(repos: Repositories, event_type: EventType, exception_id: str = "EX-1") -> TimelineEvent:
    return of_type(timeline(repos, exception_id), event_type)[-1]


def item_counts(dynamodb: Any, repos: Repositories) -> tuple[int, int]:
    """(state items, timeline events): what a duplicate write would change."""
    config = repos.dynamo.config
    return (
        dynamodb.scan(TableName=config.state_table, Select="COUNT")["Count"],
        dynamodb.scan(TableName=config.events_table, Select="COUNT")["Count"],
    )


# -- delivering ---------------------------------------------------------------------------------
def envelope_of(event: TimelineEvent, tenant: str = TENANT) -> dict[str, Any]:
    """The EventBridge event the Pipe would put on the bus for ``event``."""
    return bus.envelope(tenant, {**event.to_api(), "chain_depth": event.chain_depth})


def pipe_envelope_of(event: TimelineEvent, tenant: str = TENANT) -> dict[str, Any]:
    """The same event as the AWS Pipe's input template renders it from the stream image."""
    from boto3.dynamodb.types import TypeSerializer
    from exception_playbooks.repository.dynamo import to_dynamo_value

    envelope = envelope_of(event, tenant)
    serializer = TypeSerializer()
    detail = envelope["detail"]
    envelope["detail"] = {
        **{k: v for k, v in detail.items() if k not in ("seq", "payload")},
        "seq": str(detail["seq"]),
        "payload": {k: serializer.serialize(to_dynamo_value(v)) for k, v in detail["payload"].items()},
        "chain_depth": str(event.chain_depth),
        "pk": keys.events_pk(tenant, event.exception_id),
        "encoding": "dynamodb-stream",
    }
    return envelope


def deliver(handler: ModuleType, event: TimelineEvent, *, tenant: str = TENANT) -> list[dict[str, Any]]:
    """Invoke every agent whose rule matches ``event`` (like EventBridge); their outcomes."""
    envelope = envelope_of(event, tenant)
    return [
        getattr(handler, rule.handler)(envelope, make_context(f"agents-{rule.handler}", timeout_seconds=60))
        for rule in bus.rules_for(envelope)
    ]


def invoke(handler: ModuleType, name: str, event: TimelineEvent) -> dict[str, Any]:
    rule = next(r for r in bus.AGENTS if r.name == name)
    result: dict[str, Any] = getattr(handler, rule.handler)(
        envelope_of(event), make_context(f"agents-{rule.handler}", timeout_seconds=60)
    )
    return result


def count_stats(handler: ModuleType, repos: Repositories, exception_id: str = "EX-1") -> None:
    """Deliver the exception's timeline to the StatsCounter (the bus does it in production)."""
    rule = next(r for r in bus.AGENTS if r.name == "StatsCounter")
    for event in timeline(repos, exception_id):
        if event.event_type in rule.event_types:
            invoke(handler, rule.name, event)
