"""The execution tests' world: a tenant, its packs and playbooks, principals and step helpers."""

from __future__ import annotations

from typing import Any

from exception_playbooks import bus
from exception_playbooks.agents import parse_trigger
from exception_playbooks.agents import stats as stats_counter
from exception_playbooks.auth import Principal
from exception_playbooks.execution import operations
from exception_playbooks.execution.operations import Change, StepCommand
from exception_playbooks.models.enums import ActorType, EventType, Role
from exception_playbooks.models.event import SYSTEM_ACTOR, Actor, NewEvent
from exception_playbooks.models.packs import DomainPackInput, PolicyPackInput
from exception_playbooks.models.playbook import PlaybookVersion
from exception_playbooks.repository import packs as packs_module
from exception_playbooks.repository import playbooks as playbooks_module
from exception_playbooks.repository.bundle import Repositories

from ..factories import new_record, playbook, step

TENANT = "acme"
OPERATOR = Principal(tenant_id=TENANT, username="alice", roles=frozenset({Role.OPERATOR}))
OPERATOR_2 = Principal(tenant_id=TENANT, username="bob", roles=frozenset({Role.OPERATOR}))
AUTOMATION = Principal(tenant_id=TENANT, username="robot", roles=frozenset({Role.AUTOMATION}))
OUTSIDER = Principal(tenant_id="globex", username="mallory", roles=frozenset({Role.OPERATOR}))

TOOLS = {
    "retry_settlement": {
        "description": "Retry the settlement",
        "parameters": {
            "type": "object",
            "required": ["trade_id"],
            "properties": {"trade_id": {"type": "string"}, "amount": {"type": "number"}},
        },
        "risk": "low",
    },
    "cancel_trade": {"parameters": {"type": "object"}, "risk": "high"},
    "unapproved_tool": {"parameters": {"type": "object"}, "risk": "low"},
}
DOMAIN_PACK = {"tools": TOOLS, "fields": {"desk": "FX desk", "sla": {"hours": 4}}}
POLICY_PACK = {"approved_tools": ["retry_settlement", "cancel_trade"], "fields": {"escalation": "ops@acme"}}


def settle_steps() -> list:
    """One step of each action type; the settlement playbook used by most tests."""
    return [
        step(
            1,
            "notify",
            {
                "channel": "email",
                "recipient": "{exception.attributes.trader}",
                "subject": "Settlement failed: {exception.exception_id}",
                "message": "Desk {domain.desk}, amount {exception.attributes.amount}, "
                "note {exception.attributes.none}",
            },
            name="Notify trader",
        ),
        step(2, "assign_owner", {"queue": "settlements"}, name="Route to queue"),
        step(
            3,
            "call_tool",
            {
                "tool_id": "retry_settlement",
                "payload": {
                    "trade_id": "{exception.attributes.trade_id}",
                    "amount": "{exception.attributes.amount}",
                },
            },
            name="Retry",
        ),
        step(
            4, "add_comment", {"text": "Retried for {exception.attributes.trader} by {step.name}"}, name="Log"
        ),
        step(5, "set_status", {"status": "pending_review"}, name="Review", skippable=False),
    ]


ATTRIBUTES = {"trader": "ann@acme", "trade_id": "T-1", "amount": 1250.5, "books": ["A", "B"]}


def build_world(repos: Repositories) -> Repositories:
    """Packs, the settlement playbook (v1, Finance) and EX-1 (open, high, nothing assigned)."""
    repos.packs.put_policy(TENANT, PolicyPackInput.model_validate(POLICY_PACK))
    repos.packs.put_domain(TENANT, "Finance", DomainPackInput.model_validate(DOMAIN_PACK))
    repos.playbooks.save_version(
        TENANT, playbook("pb-settle", steps=settle_steps(), match={"domain": "Finance"})
    )
    create(repos, "EX-1")
    return repos


def create(repos: Repositories, exception_id: str, tenant: str = TENANT, **fields: Any):
    fields.setdefault("attributes", ATTRIBUTES)
    record = new_record(exception_id, **fields)
    event = NewEvent(event_type=EventType.EXCEPTION_CREATED, actor=SYSTEM_ACTOR, payload={})
    saved, _ = operations.commit_change(repos, tenant, Change(record, [event]), is_new=True)
    return saved


def assign(
    repos: Repositories, exception_id: str, playbook_id: str = "pb-settle", version: int | None = None
):
    """Start a playbook the way the policy agent does: plan_start + one transaction."""
    record = operations.load_exception(repos, TENANT, exception_id)
    chosen: PlaybookVersion = repos.playbooks.get(TENANT, playbook_id, version)
    change = Change(record)
    operations.plan_start(change, chosen, Actor(actor_type=ActorType.AGENT, actor_id="PolicyAgent"), "test")
    saved, _ = operations.commit_change(repos, TENANT, change)
    return saved


def complete(
    repos,
    order: int,
    principal: Principal = OPERATOR,
    exception_id: str = "EX-1",
    idempotency_key=None,
    **command,
):
    return operations.act_on_step(
        repos,
        principal,
        exception_id,
        order,
        StepCommand(**command),
        skip=False,
        idempotency_key=idempotency_key,
    )


def skip(
    repos,
    order: int,
    principal: Principal = OPERATOR,
    exception_id: str = "EX-1",
    idempotency_key=None,
    **command,
):
    return operations.act_on_step(
        repos,
        principal,
        exception_id,
        order,
        StepCommand(**command),
        skip=True,
        idempotency_key=idempotency_key,
    )


def events_of(repos: Repositories, exception_id: str = "EX-1", tenant: str = TENANT):
    return repos.exceptions.all_events(tenant, exception_id)


def types_of(events) -> list[str]:
    return [e.event_type.value for e in events]


def cold() -> None:
    """Forget every cached playbook version and pack (a cold Lambda)."""
    playbooks_module.clear_cache()
    packs_module.clear_cache()


def count_stats(repos: Repositories, exception_id: str = "EX-1") -> None:
    """Deliver the exception's counted events to the stats consumer, as the bus would."""
    for event in repos.exceptions.all_events(TENANT, exception_id):
        if event.event_type in stats_counter.COUNTERS:
            stats_counter.count(repos, parse_trigger(bus.envelope(TENANT, event.to_api())))
