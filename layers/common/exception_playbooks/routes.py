"""The API's routes and which function group serves each: one table for CDK and the local stack."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource path, e.g. /api/exceptions/{exception_id}
    function: str  # folder under functions/


ROUTES: tuple[Route, ...] = (
    Route("POST", "/api/exceptions", "exceptions"),
    Route("GET", "/api/exceptions", "exceptions"),
    Route("GET", "/api/exceptions/{exception_id}", "exceptions"),
    Route("PATCH", "/api/exceptions/{exception_id}", "exceptions"),
    Route("POST", "/api/exceptions/{exception_id}/comments", "exceptions"),
    Route("GET", "/api/exceptions/{exception_id}/events", "exceptions"),
    Route("GET", "/api/exceptions/{exception_id}/playbook", "status"),
    Route("POST", "/api/exceptions/{exception_id}/playbook/recalculate", "match"),
    Route("POST", "/api/playbooks/simulate", "match"),
    Route("POST", "/api/exceptions/{exception_id}/playbook/steps/{step_order}/complete", "execute"),
    Route("POST", "/api/exceptions/{exception_id}/playbook/steps/{step_order}/skip", "execute"),
    Route("POST", "/api/playbooks", "playbooks"),
    Route("GET", "/api/playbooks", "playbooks"),
    Route("GET", "/api/playbooks/{playbook_id}", "playbooks"),
    Route("PUT", "/api/playbooks/{playbook_id}", "playbooks"),
    Route("DELETE", "/api/playbooks/{playbook_id}", "playbooks"),
    Route("GET", "/api/playbooks/{playbook_id}/stats", "playbooks"),
    Route("GET", "/api/packs/policy", "playbooks"),
    Route("PUT", "/api/packs/policy", "playbooks"),
    Route("GET", "/api/packs/domains/{domain}", "playbooks"),
    Route("PUT", "/api/packs/domains/{domain}", "playbooks"),
)

API_FUNCTIONS: tuple[str, ...] = tuple(dict.fromkeys(r.function for r in ROUTES))
AGENT_FUNCTION = "agents"
