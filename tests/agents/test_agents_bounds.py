"""Fault test (issue 13): a trigger whose natural output is oversized still records a decision.

A policy change forbids an action that hundreds of matching playbooks use: PolicyEvaluated would
list every passed-over playbook with every violation, past DynamoDB's item limit, and the agent
would fail on every delivery (dead letters, no decision ever). Now the lists are capped with a
count of what was left out, and every payload is bounded before it is written.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from exception_playbooks.agents.base import Reads
from exception_playbooks.agents.envelope import TimelineDetail, Trigger
from exception_playbooks.agents.policy import PolicyAgent
from exception_playbooks.bounds import MAX_EVENT_LIST_ITEMS, MAX_EVENT_PAYLOAD_WIRE_BYTES, wire_size
from exception_playbooks.models.enums import ActionType, EventType
from exception_playbooks.models.packs import PolicyPackInput
from exception_playbooks.models.playbook import Conditions, PlaybookVersion, Step
from exception_playbooks.repository.bundle import Repositories

from .support import DOMAIN, TENANT, create_exception, invoke, last_of

# Natural PolicyEvaluated: 300 passed-over playbooks x 100 violations (~3 MB). The candidates come
# from memory (writing such playbooks into moto would take minutes); the decision is written
# for real, through the agent's one transaction.
PLAYBOOKS = 300
STEPS = 100


def _blocked_playbook(n: int) -> PlaybookVersion:
    steps = tuple(
        Step(
            step_order=i,
            name=f"Notify {i} " + "n" * 150,
            action_type=ActionType.NOTIFY,
            params={"channel": "email", "recipient": "desk@example.com", "subject": "s", "message": "m"},
        )
        for i in range(1, STEPS + 1)
    )
    return PlaybookVersion(
        playbook_id=f"pb-{n:03d}",
        version=1,
        name=f"Playbook {n} " + "x" * 180,
        conditions=Conditions(match={"domain": DOMAIN}, priority=n),
        steps=steps,
        created_at="2026-01-01T00:00:00.000Z",
    )


def test_an_oversized_policy_decision_is_still_recorded_capped(
    handler: ModuleType, repos: Repositories, monkeypatch: pytest.MonkeyPatch
) -> None:
    repos.packs.put_policy(TENANT, PolicyPackInput(blocked_action_types=[ActionType.NOTIFY]))
    _, created = create_exception(repos)
    invoke(handler, "TriageAgent", created)
    candidates = [_blocked_playbook(n) for n in range(PLAYBOOKS)]
    monkeypatch.setattr(Reads, "candidates", lambda self, domain: candidates)
    triaged = last_of(repos, EventType.TRIAGE_COMPLETED)
    detail: dict[str, Any] = {**triaged.model_dump(mode="json"), "tenant_id": TENANT}

    outcome = PolicyAgent(repos).handle(Trigger.from_detail(TimelineDetail.model_validate(detail)))

    assert outcome.status == "written"
    decision = last_of(repos, EventType.POLICY_EVALUATED).payload
    assert decision["decision"] == "no_compliant_playbook"
    assert len(decision["violations"]) == MAX_EVENT_LIST_ITEMS
    assert decision["violations_omitted"] == PLAYBOOKS - MAX_EVENT_LIST_ITEMS
    assert all(item["violations_omitted"] > 0 for item in decision["violations"])
    assert wire_size(decision) <= MAX_EVENT_PAYLOAD_WIRE_BYTES
