"""Ready-made data for the exceptions / status / match / execute API tests."""

from __future__ import annotations

import os
from typing import Any

from exception_playbooks.repository.bundle import Repositories
from hypothesis import HealthCheck, settings

from .conftest import ApiClient, ApiResponse, seed_packs, seed_playbook, step

EXCEPTIONS = "/api/exceptions"
EXCEPTION = "/api/exceptions/{exception_id}"
COMMENTS = "/api/exceptions/{exception_id}/comments"
EVENTS = "/api/exceptions/{exception_id}/events"
STATUS = "/api/exceptions/{exception_id}/playbook"
RECALCULATE = "/api/exceptions/{exception_id}/playbook/recalculate"
SIMULATE = "/api/playbooks/simulate"
COMPLETE = "/api/exceptions/{exception_id}/playbook/steps/{step_order}/complete"
SKIP = "/api/exceptions/{exception_id}/playbook/steps/{step_order}/skip"


def search_settings(env_var: str, default_examples: int) -> settings:
    """Hypothesis settings for the API searches: fixed and short by default; ``env_var=N`` runs a
    longer, randomised search of N examples."""
    examples = os.environ.get(env_var)
    return settings(
        max_examples=int(examples or default_examples),
        deadline=None,
        derandomize=examples is None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


DOMAIN = "Finance"


def exception_body(exception_id: str | None = "EX-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "domain": DOMAIN,
        "exception_type": "TradeSettlementFailure",
        "source_system": "Murex",
        "summary": "Trade T-1 failed to settle",
        "attributes": {"trade_id": "T-1", "amount": 1250000, "counterparty": {"name": "ACME", "lei": "L1"}},
    }
    if exception_id is not None:
        body["exception_id"] = exception_id
    body.update(overrides)
    return body


def create(api: ApiClient, exception_id: str = "EX-1", **overrides: Any) -> dict[str, Any]:
    response = api.call("POST", EXCEPTIONS, body=exception_body(exception_id, **overrides))
    assert response.status == 201, response.body
    return response.body  # type: ignore[no-any-return]


NOTIFY = step(
    "Notify desk",
    "notify",
    {
        "channel": "email",
        "recipient": "desk@example.com",
        "subject": "{exception.exception_id}",
        "message": "m",
    },
)
ASSIGN = step("Assign to ops", "assign_owner", {"queue": "settlement-ops"})
COMMENT = step("Log", "add_comment", {"text": "Handled {exception.exception_type}"})
APPROVAL = step("Approve write-off", "add_comment", {"text": "approved"}, requires_approval=True)
MANDATORY = step("Mandatory check", "add_comment", {"text": "checked"}, skippable=False)


def seed_standard(repos: Repositories, tenant_id: str, *, policy: dict[str, Any] | None = None) -> None:
    """Two playbooks: a catch-all (3 steps) and a high-severity one that wins for high/critical."""
    seed_packs(repos, tenant_id, policy=policy or {})
    seed_playbook(repos, tenant_id, "pb-catch-all", [NOTIFY, ASSIGN, COMMENT], match={}, priority=0)
    seed_playbook(
        repos,
        tenant_id,
        "pb-high",
        [NOTIFY, APPROVAL, MANDATORY, COMMENT],
        match={"domain": DOMAIN, "severity_in": ["high", "critical"]},
        priority=100,
    )


def assigned(api: ApiClient, exception_id: str = "EX-1", **overrides: Any) -> dict[str, Any]:
    """Create an exception and assign its playbook through recalculate; returns the recalc answer."""
    create(api, exception_id, **overrides)
    response = api.call("POST", RECALCULATE, {"exception_id": exception_id})
    assert response.status == 200 and response.body["changed"] is True, response.body
    return response.body  # type: ignore[no-any-return]


def act(
    api: ApiClient,
    order: int,
    exception_id: str = "EX-1",
    *,
    skip: bool = False,
    body: Any = None,
    key: str | None = None,
    user: tuple[str, str, tuple[str, ...]] | None = None,
) -> ApiResponse:
    if body is None and skip:
        body = {"notes": "not needed"}
    return api.call(
        "POST",
        SKIP if skip else COMPLETE,
        {"exception_id": exception_id, "step_order": str(order)},
        body=body,
        headers={"Idempotency-Key": key} if key else None,
        user=user,
    )


def events(api: ApiClient, exception_id: str = "EX-1") -> list[dict[str, Any]]:
    response = api.call("GET", EVENTS, {"exception_id": exception_id}, query={"limit": "200"})
    assert response.status == 200, response.body
    return response.body["items"]  # type: ignore[no-any-return]


def event_types(api: ApiClient, exception_id: str = "EX-1") -> list[str]:
    return [event["event_type"] for event in events(api, exception_id)]
