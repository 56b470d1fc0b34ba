"""Drafts are invisible to the agents: a draft that would beat every live playbook changes nothing."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from exception_playbooks.auth import Principal
from exception_playbooks.models.enums import EventType, Role
from exception_playbooks.repository.bundle import Repositories
from exception_playbooks.usecases import authoring

from .support import DOMAIN, TENANT, FakePublisher, create_exception, of_type, timeline
from .test_agents_chain import Chain

ADMIN = Principal(tenant_id=TENANT, username="ada", roles=frozenset({Role.ADMIN}))
EVERYTHING = {
    "name": "Draft that would win everything",
    "conditions": {"match": {"domain": DOMAIN}, "priority": 1_000_000},
    "steps": [{"name": "Note", "action_type": "add_comment", "params": {"text": "draft"}}],
}


def test_triage_and_policy_never_see_a_draft(
    handler: ModuleType, seeded: Repositories, dynamodb: Any, publisher: FakePublisher
) -> None:
    draft = authoring.create_draft(seeded, ADMIN, {"playbook": EVERYTHING})
    chain = Chain(handler, dynamodb, seeded)
    create_exception(seeded)
    chain.drain()

    events = timeline(seeded)
    triage = of_type(events, EventType.TRIAGE_COMPLETED)[0].payload
    started = of_type(events, EventType.PLAYBOOK_STARTED)[0].payload
    suggested = triage["suggested_playbook"]["playbook_id"]
    assert suggested != draft["draft_id"] and suggested.startswith("settlement-")
    assert started["playbook_id"].startswith("settlement-")  # the policy may pass the suggestion over
    assert draft["draft_id"] not in str([e.payload for e in events])

    # Published, the same playbook wins for the next exception.
    published = authoring.publish_draft(seeded, ADMIN, draft["draft_id"], None)["playbook"]
    create_exception(seeded, "EX-2")
    chain.drain()
    started_2 = of_type(timeline(seeded, "EX-2"), EventType.PLAYBOOK_STARTED)[0].payload
    assert started_2["playbook_id"] == published["playbook_id"]
