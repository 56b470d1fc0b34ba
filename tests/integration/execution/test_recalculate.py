"""recalculate against moto: unchanged writes nothing, a new winner restarts, no winner clears."""

from __future__ import annotations

import pytest
from exception_playbooks.errors import Conflict
from exception_playbooks.execution import operations, projection
from exception_playbooks.models.packs import PolicyPackInput

from ..factories import playbook, step
from ..support import snapshot
from .world import OPERATOR, POLICY_PACK, TENANT, complete, count_stats, create, events_of, types_of


def _recalculate(repos, exception_id="EX-1"):
    return operations.recalculate(repos, OPERATOR, exception_id)


def _record(repos, exception_id="EX-1"):
    return operations.load_exception(repos, TENANT, exception_id)


def test_first_recalculate_assigns_the_winner(world):
    result = _recalculate(world)

    assert result["changed"] is True
    assert result["exception_id"] == "EX-1"
    assert result["current_step"] == 1
    assert result["playbook"]["playbook_id"] == "pb-settle"
    assert set(result["playbook"]) == {"playbook_id", "name", "version", "description", "conditions"}
    assert result["reasoning"]["summary"]
    [candidate] = result["reasoning"]["candidates"]
    assert {"playbook_id", "name", "version", "priority", "matched", "checks"} <= set(candidate)
    assert candidate["matched"] is True
    events = events_of(world)
    assert types_of(events) == ["ExceptionCreated", "PlaybookRecalculated", "PlaybookStarted"]
    assert events[1].payload["from"] is None
    assert events[1].payload["to"] == {"playbook_id": "pb-settle", "playbook_version": 1}
    assert (events[1].actor_type.value, events[1].actor_id) == ("human", "alice")
    assert _record(world).status.value == "in_progress"


def test_same_winner_writes_nothing(world, dynamodb):
    _recalculate(world)
    complete(world, 1)
    before = snapshot(dynamodb)

    result = _recalculate(world)

    assert result["changed"] is False
    assert result["current_step"] == 2
    assert result["playbook"]["playbook_id"] == "pb-settle"
    assert snapshot(dynamodb) == before


def test_same_winner_with_a_newer_version_stays_pinned(world, dynamodb):
    _recalculate(world)
    world.playbooks.save_version(
        TENANT,
        playbook("pb-settle", 2, steps=[step(1, "add_comment", {"text": "v2"})], match={"domain": "Finance"}),
    )
    before = snapshot(dynamodb)
    result = _recalculate(world)
    assert (result["changed"], result["playbook"]["version"]) == (False, 1)
    assert snapshot(dynamodb) == before


def test_no_winner_and_nothing_assigned_writes_nothing(world, dynamodb):
    create(world, "EX-2", domain="Claims")
    before = snapshot(dynamodb)
    result = _recalculate(world, "EX-2")
    assert (result["changed"], result["playbook"], result["current_step"]) == (False, None, None)
    assert result["reasoning"]["candidates"] == []
    assert snapshot(dynamodb) == before


def test_a_different_winner_records_the_switch_then_starts_at_step_1(world):
    _recalculate(world)
    complete(world, 1)
    complete(world, 2)
    world.playbooks.save_version(
        TENANT,
        playbook(
            "pb-urgent",
            steps=[step(1, "add_comment", {"text": "urgent"}), step(2, "add_comment", {"text": "again"})],
            match={"domain": "Finance", "severity_in": ["high", "critical"]},
            priority=100,
        ),
    )

    result = _recalculate(world)

    assert result["changed"] is True
    assert (result["playbook"]["playbook_id"], result["current_step"]) == ("pb-urgent", 1)
    events = events_of(world)
    assert types_of(events)[-2:] == ["PlaybookRecalculated", "PlaybookStarted"]
    switch = events[-2].payload
    assert switch["from"] == {"playbook_id": "pb-settle", "playbook_version": 1}
    assert switch["to"] == {"playbook_id": "pb-urgent", "playbook_version": 1}
    assert switch["reasoning_summary"] == result["reasoning"]["summary"]
    assert events[-1].payload["playbook_id"] == "pb-urgent"
    # Progress on the old run stays in the timeline.
    assert types_of(events).count("PlaybookStepCompleted") == 2
    record = _record(world)
    assert (record.current_playbook_id, record.current_step) == ("pb-urgent", 1)
    assert [s.status.value for s in record.projection.steps] == ["pending", "pending"]
    assert record.projection == projection.fold(events)
    status = operations.playbook_status(world, OPERATOR, "EX-1")
    assert [s["status"] for s in status["steps"]] == ["pending", "pending"]
    count_stats(world)
    assert world.stats.get(TENANT, "pb-urgent")["runs_started"] == 1


def test_no_winner_clears_the_assignment(world):
    _recalculate(world)
    complete(world, 1)
    world.playbooks.deactivate(TENANT, "pb-settle")

    result = _recalculate(world)

    assert (result["changed"], result["playbook"], result["current_step"]) == (True, None, None)
    last = events_of(world)[-1]
    assert last.event_type.value == "PlaybookRecalculated"
    assert last.payload["to"] is None
    assert last.payload["from"] == {"playbook_id": "pb-settle", "playbook_version": 1}
    record = _record(world)
    assert (record.current_playbook_id, record.current_playbook_version, record.current_step) == (
        None,
        None,
        None,
    )
    assert record.projection == projection.fold(events_of(world))
    assert operations.playbook_status(world, OPERATOR, "EX-1")["playbook"] is None
    with pytest.raises(Conflict) as caught:
        complete(world, 2)
    assert caught.value.code == "NO_PLAYBOOK"
    assert _recalculate(world)["changed"] is False  # nothing assigned, still no winner


def test_a_severity_override_changes_the_winner(world):
    """Effective severity comes from the packs: a tenant override is enough to switch playbooks."""
    world.playbooks.save_version(
        TENANT,
        playbook(
            "pb-low", steps=[step(1, "add_comment", {"text": "low"})], match={"severity": "low"}, priority=50
        ),
    )
    first = _recalculate(world)
    assert first["playbook"]["playbook_id"] == "pb-settle"  # EX-1 is high
    world.packs.put_policy(
        TENANT,
        PolicyPackInput.model_validate(
            {**POLICY_PACK, "severity_overrides": {"TradeSettlementFailure": "low"}}
        ),
    )
    second = _recalculate(world)
    assert (second["changed"], second["playbook"]["playbook_id"]) == (True, "pb-low")


def test_a_playbook_violating_the_policy_is_passed_over(world):
    world.playbooks.save_version(
        TENANT,
        playbook(
            "pb-rogue",
            steps=[step(1, "call_tool", {"tool_id": "unapproved_tool", "payload": {}})],
            match={"domain": "Finance"},
            priority=1000,
        ),
    )
    result = _recalculate(world)
    assert result["playbook"]["playbook_id"] == "pb-settle"
    rogue = next(c for c in result["reasoning"]["candidates"] if c["playbook_id"] == "pb-rogue")
    assert (rogue["matched"], rogue["compliant"]) == (True, False)
    assert (
        "pb-rogue" in result["reasoning"]["summary"] or "Playbook pb-rogue" in result["reasoning"]["summary"]
    )


def test_recalculate_after_completion_is_409(world, dynamodb):
    world.playbooks.save_version(
        TENANT, playbook("pb-one", steps=[step(1, "add_comment", {"text": "x"})], match={}, priority=10)
    )
    _recalculate(world)
    complete(world, 1)
    before = snapshot(dynamodb)
    with pytest.raises(Conflict) as caught:
        _recalculate(world)
    assert caught.value.code == "PLAYBOOK_COMPLETED"
    assert snapshot(dynamodb) == before
