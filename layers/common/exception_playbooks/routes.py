"""The API's routes and which function group serves each: one table for CDK and the local stack."""

from __future__ import annotations

from dataclasses import dataclass

from .auth import ACT_ON_STEPS, AUTHOR, CREATE_EXCEPTION, DECIDE_APPROVAL, OPERATE, VIEW
from .models.enums import Role


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource path, e.g. /api/exceptions/{exception_id}
    function: str  # folder under functions/
    roles: frozenset[Role]  # any one of these may call it (API.md, roles)


ROUTES: tuple[Route, ...] = (
    Route("POST", "/api/exceptions", "exceptions", CREATE_EXCEPTION),
    Route("GET", "/api/exceptions", "exceptions", VIEW),
    Route("GET", "/api/exceptions/{exception_id}", "exceptions", VIEW),
    Route("PATCH", "/api/exceptions/{exception_id}", "exceptions", OPERATE),
    Route("POST", "/api/exceptions/{exception_id}/comments", "exceptions", OPERATE),
    Route("GET", "/api/exceptions/{exception_id}/events", "exceptions", VIEW),
    Route("GET", "/api/exceptions/{exception_id}/playbook", "status", VIEW),
    Route("POST", "/api/exceptions/{exception_id}/playbook/recalculate", "match", OPERATE),
    Route("POST", "/api/playbooks/simulate", "match", VIEW),
    Route(
        "POST", "/api/exceptions/{exception_id}/playbook/steps/{step_order}/complete", "execute", ACT_ON_STEPS
    ),
    Route("POST", "/api/exceptions/{exception_id}/playbook/steps/{step_order}/skip", "execute", ACT_ON_STEPS),
    Route(
        "POST",
        "/api/exceptions/{exception_id}/playbook/steps/{step_order}/approve",
        "execute",
        DECIDE_APPROVAL,
    ),
    Route(
        "POST",
        "/api/exceptions/{exception_id}/playbook/steps/{step_order}/reject",
        "execute",
        DECIDE_APPROVAL,
    ),
    Route("POST", "/api/playbooks", "playbooks", AUTHOR),
    Route("GET", "/api/playbooks", "playbooks", VIEW),
    Route("GET", "/api/playbooks/{playbook_id}", "playbooks", VIEW),
    Route("PUT", "/api/playbooks/{playbook_id}", "playbooks", AUTHOR),
    Route("DELETE", "/api/playbooks/{playbook_id}", "playbooks", AUTHOR),
    Route("GET", "/api/playbooks/{playbook_id}/stats", "playbooks", VIEW),
    Route("POST", "/api/playbooks/lint", "playbooks", VIEW),
    Route("GET", "/api/playbooks/{playbook_id}/diff", "playbooks", VIEW),
    Route("GET", "/api/playbook-drafts", "playbooks", VIEW),
    Route("POST", "/api/playbook-drafts", "playbooks", AUTHOR),
    Route("GET", "/api/playbook-drafts/{draft_id}", "playbooks", VIEW),
    Route("PUT", "/api/playbook-drafts/{draft_id}", "playbooks", AUTHOR),
    Route("DELETE", "/api/playbook-drafts/{draft_id}", "playbooks", AUTHOR),
    Route("POST", "/api/playbook-drafts/{draft_id}/publish", "playbooks", AUTHOR),
    Route("GET", "/api/playbook-drafts/{draft_id}/impact", "playbooks", VIEW),
    Route("GET", "/api/playbook-drafts/{draft_id}/diff", "playbooks", VIEW),
    Route("POST", "/api/playbook-drafts/{draft_id}/simulate", "playbooks", VIEW),
    Route("GET", "/api/packs/policy", "playbooks", VIEW),
    Route("PUT", "/api/packs/policy", "playbooks", AUTHOR),
    Route("GET", "/api/packs/domains/{domain}", "playbooks", VIEW),
    Route("PUT", "/api/packs/domains/{domain}", "playbooks", AUTHOR),
)

API_FUNCTIONS: tuple[str, ...] = tuple(dict.fromkeys(r.function for r in ROUTES))
AGENT_FUNCTION = "agents"
