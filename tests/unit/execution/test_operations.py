"""operations without storage: the planning helpers shared by the endpoints, PATCH and the agents."""

from __future__ import annotations

from dataclasses import dataclass

from exception_playbooks.execution.operations import (
    Change,
    StepCommand,
    plan_rematch,
    plan_start,
    status_view,
)
from exception_playbooks.models.enums import ActorType, EventType, ExceptionStatus
from exception_playbooks.models.event import Actor
from exception_playbooks.models.exception import ExceptionRecord, PlaybookProjection, StepState
from exception_playbooks.models.packs import PackSet, PolicyPack
from exception_playbooks.models.playbook import Conditions, PlaybookVersion, Step

ALICE = Actor(actor_type="human", actor_id="alice")


def _record(**fields) -> ExceptionRecord:
    return ExceptionRecord(
        exception_id="EX-1", domain="d", exception_type="t", created_at="c", updated_at="u", **fields
    )


def _playbook(playbook_id="pb", version=1, steps=2) -> PlaybookVersion:
    return PlaybookVersion(
        playbook_id=playbook_id,
        version=version,
        name=playbook_id.upper(),
        conditions=Conditions(),
        steps=tuple(
            Step(step_order=n, name=f"s{n}", action_type="add_comment", params={"text": "x"})
            for n in range(1, steps + 1)
        ),
        created_at="t",
    )


@dataclass
class FakeResult:
    """Stands in for MatchResult: building the per-candidate reasoning must not be needed."""

    winner: PlaybookVersion | None
    summary: str = "because"

    def reasoning_dict(self):
        raise AssertionError("plan_rematch must not build the full reasoning (costly with many candidates)")


def test_step_command_body_is_what_the_idempotency_hash_sees():
    assert StepCommand().body() == {"actor_type": "human", "actor_id": None, "notes": None}
    assert StepCommand(ActorType.AGENT, "bot", "n").body() == {
        "actor_type": "agent",
        "actor_id": "bot",
        "notes": "n",
    }


def test_plan_start_moves_open_to_in_progress_and_records_the_start():
    change = Change(_record())
    plan_start(change, _playbook(steps=3), ALICE, "why")
    assert change.record.status is ExceptionStatus.IN_PROGRESS
    [event] = change.events
    assert event.event_type is EventType.PLAYBOOK_STARTED
    assert event.payload == {
        "playbook_id": "pb",
        "playbook_version": 1,
        "playbook_name": "PB",
        "step_count": 3,
        "reason": "why",
    }
    escalated = Change(_record(status=ExceptionStatus.ESCALATED))
    plan_start(escalated, _playbook(), ALICE, "why")
    assert escalated.record.status is ExceptionStatus.ESCALATED


def _running(playbook_id="pb", version=1) -> ExceptionRecord:
    return _record(
        status=ExceptionStatus.IN_PROGRESS,
        projection=PlaybookProjection(
            playbook_id=playbook_id, playbook_version=version, current_step=1, steps=[StepState(step_order=1)]
        ),
    )


def test_rematch_without_winner_and_without_assignment_changes_nothing():
    change = Change(_record())
    assert plan_rematch(change, FakeResult(None), ALICE) is False
    assert change.events == []


def test_rematch_to_the_same_playbook_stays_pinned_even_on_a_newer_version():
    change = Change(_running("pb", 1))
    assert plan_rematch(change, FakeResult(_playbook("pb", 7)), ALICE) is False
    assert change.events == []


def test_rematch_to_another_playbook_records_the_switch_then_starts_it():
    change = Change(_running("old", 2))
    assert plan_rematch(change, FakeResult(_playbook("new", 3)), ALICE) is True
    switch, start = change.events
    assert switch.event_type is EventType.PLAYBOOK_RECALCULATED
    assert switch.payload == {
        "from": {"playbook_id": "old", "playbook_version": 2},
        "to": {"playbook_id": "new", "playbook_version": 3},
        "reasoning_summary": "because",
    }
    assert start.event_type is EventType.PLAYBOOK_STARTED
    assert start.payload["reason"] == "because"


def test_rematch_to_nothing_clears_with_to_null():
    change = Change(_running("old", 2))
    assert plan_rematch(change, FakeResult(None), ALICE) is True
    [switch] = change.events
    assert switch.payload["to"] is None
    assert switch.payload["from"] == {"playbook_id": "old", "playbook_version": 2}


def test_status_view_lists_every_step_of_the_pinned_version():
    record = _record(
        projection=PlaybookProjection(
            playbook_id="pb",
            playbook_version=1,
            current_step=2,
            steps=[
                StepState(
                    step_order=1, status="skipped", actor_type="agent", actor_id="bot", at="t1", notes="n"
                ),
                StepState(step_order=2),
            ],
        )
    )
    view = status_view(record, _playbook(), PackSet(policy=PolicyPack()), None)
    assert view["current_step"] == 2 and view["completed"] is False
    first, second = view["steps"]
    assert (first["status"], first["actor_type"], first["actor_id"], first["at"], first["notes"]) == (
        "skipped",
        "agent",
        "bot",
        "t1",
        "n",
    )
    assert second["status"] == "pending" and "actor_type" not in second
