"""Agents trust a timeline event only after checking it: source, account/region, tenant vs key.

And an agent-caused event never re-triggers agents beyond ``MAX_CHAIN_DEPTH`` (the loop guard).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError
from exception_playbooks import config, keys
from exception_playbooks.agents import ForgedEvent
from exception_playbooks.agents.base import MAX_CHAIN_DEPTH
from exception_playbooks.models.enums import EventType
from exception_playbooks.repository.bundle import Repositories
from pydantic import ValidationError

from local.lambda_runtime import make_context

from .support import (
    create_exception,
    envelope_of,
    invoke,
    item_counts,
    last_of,
    of_type,
    pipe_envelope_of,
    timeline,
)

VICTIM = "globex"


def _context() -> Any:
    return make_context("agents-triage", timeout_seconds=60)


def _refused(handler: ModuleType, envelope: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        handler.triage_handler(envelope, _context())


def test_events_from_another_account_or_region_are_refused(
    handler: ModuleType, seeded: Repositories, dynamodb: Any
) -> None:
    _, created = create_exception(seeded)
    before = item_counts(dynamodb, seeded)
    _refused(handler, {**envelope_of(created), "account": "999999999999"}, ForgedEvent)
    _refused(handler, {**envelope_of(created), "region": "eu-west-1"}, ForgedEvent)
    assert item_counts(dynamodb, seeded) == before


def test_a_tenant_id_that_disagrees_with_the_items_key_is_refused(
    handler: ModuleType, seeded: Repositories, dynamodb: Any
) -> None:
    """A writer of its own tenant's key cannot make agents act for another tenant."""
    _, created = create_exception(seeded)
    before = item_counts(dynamodb, seeded)
    forged = pipe_envelope_of(created)
    forged["detail"]["tenant_id"] = VICTIM  # the key still says TENANT
    _refused(handler, forged, ValidationError)
    missing_key = pipe_envelope_of(created)
    del missing_key["detail"]["pk"]
    _refused(handler, missing_key, ValidationError)
    assert item_counts(dynamodb, seeded) == before


def test_deployed_agents_accept_only_the_pipes_shape(
    handler: ModuleType, seeded: Repositories, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, created = create_exception(seeded)
    monkeypatch.setenv("TENANT_DATA_ROLE_ARN", "arn:aws:iam::000000000000:role/tenant-data")
    config.reset_settings()
    try:
        _refused(handler, envelope_of(created), ForgedEvent)  # plain JSON: no key to check the tenant
        assert handler.triage_handler(pipe_envelope_of(created), _context())["status"] == "written"
    finally:
        monkeypatch.delenv("TENANT_DATA_ROLE_ARN")
        config.reset_settings()


def test_the_agent_runs_in_the_events_tenant_session_only(handler: ModuleType, seeded: Repositories) -> None:
    _, created = create_exception(seeded)
    create_exception(seeded, tenant=VICTIM)

    def reads_another_tenant(trigger: Any) -> Any:
        return seeded.exceptions.get(VICTIM, trigger.exception_id)

    with pytest.raises(ClientError) as raised:
        handler._run("TriageAgent", envelope_of(created), reads_another_tenant, _context())
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert keys.exception_pk(VICTIM, "EX-1") in str(raised.value)


def test_agent_writes_carry_the_chain_depth(handler: ModuleType, seeded: Repositories) -> None:
    _, created = create_exception(seeded)
    assert created.chain_depth == 0
    invoke(handler, "TriageAgent", created)
    triaged = last_of(seeded, EventType.TRIAGE_COMPLETED)
    assert triaged.chain_depth == 1
    invoke(handler, "PolicyAgent", triaged)
    assert last_of(seeded, EventType.PLAYBOOK_STARTED).chain_depth == 2
    assert "chain_depth" not in triaged.to_api()  # stored, never in an API answer


def test_the_loop_guard_stops_a_chain_at_the_fixed_depth(
    handler: ModuleType, seeded: Repositories, dynamodb: Any
) -> None:
    _, created = create_exception(seeded)
    looping = created.model_copy(update={"chain_depth": MAX_CHAIN_DEPTH})
    before = item_counts(dynamodb, seeded)
    outcome = invoke(handler, "TriageAgent", looping)
    assert outcome["status"] == "ignored" and outcome["reason"].startswith("loop guard")
    assert item_counts(dynamodb, seeded) == before
    assert of_type(timeline(seeded), EventType.TRIAGE_COMPLETED) == []
    just_below = created.model_copy(update={"chain_depth": MAX_CHAIN_DEPTH - 1})
    assert invoke(handler, "TriageAgent", just_below)["status"] == "written"
    assert last_of(seeded, EventType.TRIAGE_COMPLETED).chain_depth == MAX_CHAIN_DEPTH
