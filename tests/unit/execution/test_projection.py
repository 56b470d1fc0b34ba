"""projection: the step state is a pure fold over timeline events."""

from __future__ import annotations

from exception_playbooks.execution.projection import MAX_PROJECTED_NOTES, apply, apply_to_record, fold
from exception_playbooks.models.enums import ActorType, EventType, StepStatus
from exception_playbooks.models.event import TimelineEvent
from exception_playbooks.models.exception import ExceptionRecord, PlaybookProjection, StepState
from hypothesis import given, settings
from hypothesis import strategies as st

_seq = iter(range(1, 10**9))


def ev(
    event_type: EventType,
    payload: dict | None = None,
    *,
    actor=("human", "alice"),
    at="2026-01-01T00:00:00.000Z",
):
    n = next(_seq)
    return TimelineEvent(
        event_id=f"e{n}",
        seq=n,
        event_type=event_type,
        exception_id="EX-1",
        actor_type=actor[0],
        actor_id=actor[1],
        created_at=at,
        payload=payload or {},
    )


def started(playbook_id="pb", version=1, count=3, at="2026-01-01T00:00:00.000Z"):
    return ev(
        EventType.PLAYBOOK_STARTED,
        {"playbook_id": playbook_id, "playbook_version": version, "step_count": count},
        at=at,
    )


def done(order, *, skipped=False, notes=None, actor=("human", "alice"), at="2026-01-01T00:01:00.000Z"):
    kind = EventType.PLAYBOOK_STEP_SKIPPED if skipped else EventType.PLAYBOOK_STEP_COMPLETED
    return ev(kind, {"step_order": order, "notes": notes}, actor=actor, at=at)


def test_nothing_happened_is_the_empty_projection():
    assert fold([]) == PlaybookProjection()
    assert (
        fold([ev(EventType.EXCEPTION_CREATED), ev(EventType.COMMENT_ADDED, {"text": "x"})])
        == PlaybookProjection()
    )


def test_started_lists_every_step_pending_and_points_at_step_1():
    projection = fold([started(count=3, at="2026-01-02T00:00:00.000Z")])
    assert projection == PlaybookProjection(
        playbook_id="pb",
        playbook_version=1,
        current_step=1,
        completed=False,
        started_at="2026-01-02T00:00:00.000Z",
        steps=[StepState(step_order=n) for n in (1, 2, 3)],
    )


def test_completed_and_skipped_steps_record_who_when_and_notes():
    projection = fold(
        [
            started(count=3),
            done(1, notes="ok", at="2026-01-01T00:05:00.000Z"),
            done(2, skipped=True, notes="n/a", actor=("system", "sys")),
        ]
    )
    first, second, third = projection.steps
    assert first == StepState(
        step_order=1,
        status=StepStatus.COMPLETED,
        actor_type=ActorType.HUMAN,
        actor_id="alice",
        at="2026-01-01T00:05:00.000Z",
        notes="ok",
    )
    assert (second.status, second.actor_type, second.actor_id, second.notes) == (
        StepStatus.SKIPPED,
        ActorType.SYSTEM,
        "sys",
        "n/a",
    )
    assert third == StepState(step_order=3)
    assert projection.current_step == 3
    assert projection.completed is False


def test_long_notes_are_kept_as_an_excerpt():
    limit = MAX_PROJECTED_NOTES
    projection = fold(
        [started(count=3), done(1, notes="x" * limit), done(2, notes="y" * (limit + 1)), done(3, notes="")]
    )
    assert projection.steps[0].notes == "x" * limit
    assert projection.steps[1].notes == "y" * (limit - 1) + "\u2026"
    assert projection.steps[2].notes == ""


def test_the_last_step_clears_current_and_completion_marks_it_done():
    after_last = fold([started(count=2), done(1), done(2)])
    assert (after_last.current_step, after_last.completed) == (None, False)
    completed = apply(after_last, ev(EventType.PLAYBOOK_COMPLETED, {"step_count": 2}))
    assert (completed.current_step, completed.completed) == (None, True)
    assert [s.status for s in completed.steps] == [StepStatus.COMPLETED] * 2


def test_recalculated_to_nothing_clears_and_to_a_playbook_waits_for_its_start():
    running = fold([started("old", count=2), done(1)])
    assert apply(running, ev(EventType.PLAYBOOK_RECALCULATED, {"to": None})) == PlaybookProjection()
    switching = apply(running, ev(EventType.PLAYBOOK_RECALCULATED, {"to": {"playbook_id": "new"}}))
    assert switching == running
    restarted = apply(switching, started("new", version=4, count=1))
    assert (restarted.playbook_id, restarted.playbook_version, restarted.current_step) == ("new", 4, 1)
    assert restarted.steps == [StepState(step_order=1)]


def test_events_that_are_not_about_the_playbook_change_nothing():
    running = fold([started(count=2)])
    for kind in (
        EventType.NOTIFICATION_SENT,
        EventType.STATUS_CHANGED,
        EventType.OWNER_ASSIGNED,
        EventType.TOOL_CALL_RECORDED,
        EventType.RESOLUTION_SUGGESTED,
        EventType.TRIAGE_COMPLETED,
        EventType.POLICY_EVALUATED,
        EventType.FEEDBACK_CAPTURED,
        EventType.EXCEPTION_UPDATED,
    ):
        assert apply(running, ev(kind, {"step_order": 1})) == running


def test_apply_to_record_moves_the_mirrored_api_fields():
    record = ExceptionRecord(
        exception_id="EX-1", domain="d", exception_type="t", created_at="x", updated_at="x"
    )
    moved = apply_to_record(record, [started("pb", 3, count=2), done(1)])
    assert (moved.current_playbook_id, moved.current_playbook_version, moved.current_step) == ("pb", 3, 2)
    assert moved.projection == fold([started("pb", 3, count=2), done(1)])
    cleared = apply_to_record(moved, [ev(EventType.PLAYBOOK_RECALCULATED, {"to": None})])
    assert (cleared.current_playbook_id, cleared.current_playbook_version, cleared.current_step) == (
        None,
        None,
        None,
    )
    assert record.projection == PlaybookProjection()  # the input is not mutated


# A run: start, then some steps in order (completed or skipped), maybe completion; runs may follow
# each other with or without a re-match in between, interleaved with unrelated events.
@st.composite
def timelines(draw):
    events = [ev(EventType.EXCEPTION_CREATED)]
    for run in range(draw(st.integers(0, 3))):
        if run and draw(st.booleans()):
            events.append(
                ev(EventType.PLAYBOOK_RECALCULATED, {"to": draw(st.sampled_from([None, {"x": 1}]))})
            )
        count = draw(st.integers(1, 5))
        events.append(started(f"pb{run}", draw(st.integers(1, 3)), count))
        acted = draw(st.integers(0, count))
        for order in range(1, acted + 1):
            events.append(
                done(order, skipped=draw(st.booleans()), notes=draw(st.none() | st.text(max_size=3)))
            )
            if draw(st.booleans()):
                events.append(ev(EventType.COMMENT_ADDED, {"text": "x"}))
        if acted == count and draw(st.booleans()):
            events.append(ev(EventType.PLAYBOOK_COMPLETED, {"step_count": count}))
    return events


@settings(max_examples=60, deadline=None)
@given(timelines(), st.data())
def test_folding_in_any_batches_equals_folding_at_once(events, data):
    """Operations apply only the events they write, batch by batch; that must equal the full fold."""
    cuts = sorted(data.draw(st.lists(st.integers(0, len(events)), max_size=4)))
    record = ExceptionRecord(
        exception_id="EX-1", domain="d", exception_type="t", created_at="x", updated_at="x"
    )
    start = 0
    for cut in [*cuts, len(events)]:
        record = apply_to_record(record, events[start:cut])
        start = cut
    assert record.projection == fold(events)
    # The stored form survives a JSON round trip unchanged.
    assert PlaybookProjection.model_validate(record.projection.model_dump(mode="json")) == record.projection


@settings(max_examples=60, deadline=None)
@given(timelines())
def test_fold_invariants(events):
    projection = fold(events)
    if projection.playbook_id is None:
        assert projection == PlaybookProjection()
        return
    states = [s.status for s in projection.steps]
    acted = [s for s in states if s is not StepStatus.PENDING]
    assert states == acted + [StepStatus.PENDING] * (len(states) - len(acted))  # acted steps are a prefix
    expected_current = len(acted) + 1 if len(acted) < len(states) else None
    assert projection.current_step == expected_current
    if projection.completed:
        assert projection.current_step is None
