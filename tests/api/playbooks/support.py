"""Helpers of the playbook-authoring and pack API tests (functions/playbooks).

Builds on ``tests/api/conftest.py`` (moto tables, real proxy events, handler invocation, cache
resets): users, a realistic tenant's packs (capital markets, as in the shared examples), playbook
bodies, and checks of answers against their documented models.
"""

from __future__ import annotations

import copy
from typing import Any

from exception_playbooks.usecases.packs import DomainPackOut, PolicyPackOut
from exception_playbooks.usecases.playbooks import PlaybookDetailOut, PlaybookOut

from tests.api.conftest import TENANT_A, TENANT_B, ApiClient, ApiResponse

ADMIN = (TENANT_A, "ada", ("admin",))
VIEWER = (TENANT_A, "vic", ("viewer",))
OPERATOR = (TENANT_A, "olga", ("operator",))
AUTOMATION = (TENANT_A, "robot", ("automation",))
ADMIN_B = (TENANT_B, "bea", ("admin",))

DOMAIN = "CapitalMarkets"

DOMAIN_PACK: dict[str, Any] = {
    "exception_types": {
        "SETTLEMENT_FAIL": {"description": "Trade failed to settle", "default_severity": "high"},
        "POSITION_BREAK": {"description": "Position differs from custodian", "default_severity": "high"},
    },
    "severity_rules": [
        {
            "when": {"exception_type": "SETTLEMENT_FAIL", "attributes": {"days_aged": {"gt": 2}}},
            "severity": "critical",
        }
    ],
    "tools": {
        "get_settlement": {
            "description": "Fetch settlement status from the custodian",
            "risk": "low",
            "parameters": {
                "type": "object",
                "required": ["trade_id"],
                "properties": {"trade_id": {"type": "string"}},
            },
        },
        "retry_settlement": {
            "description": "Resubmit the settlement instruction",
            "risk": "high",
            "parameters": {
                "type": "object",
                "required": ["trade_id", "ssi_id"],
                "properties": {"trade_id": {"type": "string"}, "ssi_id": {"type": "string"}},
                "additionalProperties": False,
            },
        },
        "unapproved_tool": {"description": "Defined but not approved", "parameters": {"type": "object"}},
    },
    "fields": {"ops_desk": "Settlements Ops, London", "custodian": "State Street"},
}

POLICY_PACK: dict[str, Any] = {
    "approved_tools": ["get_settlement", "retry_settlement"],
    "blocked_action_types": [],
    "human_approval": {"action_types": ["call_tool"], "severities": ["critical"]},
    "severity_overrides": {"REG_REPORT_REJECTED": "critical"},
    "tag_rules": [{"when": {"attributes": {"counterparty_tier": {"eq": 1}}}, "tags": ["tier1_counterparty"]}],
    "auto_resolve_on_completion": True,
    "fields": {"escalation_queue": "SettlementsTier2"},
}


def playbook_body(**overrides: Any) -> dict[str, Any]:
    """A valid playbook body using every action type (call_tool needs the tenant's packs)."""
    body: dict[str, Any] = {
        "name": "Settlement fail - standard",
        "description": "Investigate and retry a failed settlement",
        "conditions": {
            "match": {"domain": DOMAIN, "exception_type": "SETTLEMENT_*", "severity_in": ["medium", "high"]},
            "priority": 100,
        },
        "steps": [
            {
                "name": "Fetch settlement status",
                "action_type": "call_tool",
                "params": {
                    "tool_id": "get_settlement",
                    "payload": {"trade_id": "{exception.attributes.trade_id}"},
                },
            },
            {
                "name": "Page the desk",
                "action_type": "notify",
                "params": {
                    "channel": "sms",
                    "group": "SettlementsOnCall",
                    "subject": "SLA at risk: {exception.exception_id}",
                    "message": "Trade {exception.attributes.trade_id} misses SLA at {exception.sla_deadline}",
                },
            },
            {
                "name": "Assign",
                "action_type": "assign_owner",
                "params": {"queue": "{policy.escalation_queue}"},
            },
            {"name": "Escalate", "action_type": "set_status", "params": {"status": "escalated"}},
            {
                "name": "Record outcome",
                "action_type": "add_comment",
                "params": {"text": "Checked with {domain.custodian} (step {step.step_order})"},
                "requires_approval": True,
                "skippable": False,
            },
        ],
    }
    body.update(overrides)
    return body


def simple_body(name: str = "Catch-all", **overrides: Any) -> dict[str, Any]:
    """A valid playbook that needs no packs (no call_tool)."""
    body: dict[str, Any] = {
        "name": name,
        "conditions": {"match": {"domain": DOMAIN}, "priority": 10},
        "steps": [{"name": "Triage note", "action_type": "add_comment", "params": {"text": "Routed"}}],
    }
    body.update(overrides)
    return body


def create(api: ApiClient, body: dict[str, Any] | None = None, user: Any = ADMIN) -> dict[str, Any]:
    response = api.call("POST", "/api/playbooks", body=copy.deepcopy(body or playbook_body()), user=user)
    assert response.status == 201, response.body
    return check_playbook(response)


def check_playbook(response: ApiResponse, model: type[PlaybookOut] = PlaybookOut) -> dict[str, Any]:
    """The answer validates against its documented (extra="forbid") model."""
    model.model_validate(response.body)
    assert isinstance(response.body, dict)
    return response.body


def check_detail(response: ApiResponse) -> dict[str, Any]:
    return check_playbook(response, PlaybookDetailOut)


def check_policy(response: ApiResponse) -> dict[str, Any]:
    PolicyPackOut.model_validate(response.body)
    assert set(response.body) == set(PolicyPackOut.model_fields)
    return dict(response.body)


def check_domain_pack(response: ApiResponse) -> dict[str, Any]:
    DomainPackOut.model_validate(response.body)
    assert set(response.body) == set(DomainPackOut.model_fields)
    return dict(response.body)


def paths(response: ApiResponse) -> list[str]:
    return [error["path"] for error in response.body["details"]["errors"]]


def messages(response: ApiResponse) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in response.body["details"]["errors"]:
        found.setdefault(error["path"], []).append(error["message"])
    return found
