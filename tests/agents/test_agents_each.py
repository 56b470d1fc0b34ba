"""Each agent on its own, through ``functions/agents/handler.py`` on moto."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from exception_playbooks.agents.triage import changed_fields
from exception_playbooks.models.enums import ActorType, EventType, Severity
from exception_playbooks.ports import deterministic_id
from exception_playbooks.repository.bundle import Repositories

from .support import (
    FORCE,
    STANDARD,
    TENANT,
    FakeClock,
    FakePublisher,
    complete_step,
    count_stats,
    create_exception,
    invoke,
    last_of,
    of_type,
    patch_severity,
    patch_summary,
    seed,
    timeline,
)


def _triaged(handler: ModuleType, repos: Repositories, **kwargs: Any) -> None:
    _, created = create_exception(repos, **kwargs)
    invoke(handler, "TriageAgent", created)


def _assigned(handler: ModuleType, repos: Repositories) -> None:
    _triaged(handler, repos)
    invoke(handler, "PolicyAgent", last_of(repos, EventType.TRIAGE_COMPLETED))


# -- TriageAgent -----------------------------------------------------------------------------------
def test_triage_sets_severity_tags_and_suggests_without_assigning(
    handler: ModuleType, seeded: Repositories
) -> None:
    _, created = create_exception(seeded, attributes={"trade_id": "T-1", "counterparty_tier": 1})

    outcome = invoke(handler, "TriageAgent", created)

    assert outcome["status"] == "written"
    event = last_of(seeded, EventType.TRIAGE_COMPLETED)
    assert (event.actor_type, event.actor_id) == (ActorType.AGENT, "TriageAgent")
    assert event.event_id == deterministic_id("TriageAgent", created.event_id, "0")
    payload = event.payload
    assert payload["severity"] == "high"  # the type's default severity (none was given)
    assert payload["severity_source"] == "domain.exception_types"
    assert payload["tags"] == ["tier1"]  # added by the tenant's tag rule
    # The suggestion is the best match; the policy check is the PolicyAgent's job.
    assert payload["suggested_playbook"] == {
        "playbook_id": FORCE,
        "version": 1,
        "name": "Settlement fail - force",
    }
    assert "Selected 'Settlement fail - force'" in payload["reasoning_summary"]
    assert payload["trigger_event_id"] == created.event_id
    record = seeded.exceptions.get(TENANT, "EX-1")
    assert record is not None
    assert record.severity is Severity.HIGH  # the API record shows the triaged severity
    assert record.current_playbook_id is None  # triage assigns nothing


def test_triage_applies_domain_rules_and_never_overrides_a_human(
    handler: ModuleType, seeded: Repositories
) -> None:
    _, created = create_exception(
        seeded, severity=Severity.LOW, attributes={"trade_id": "T-1", "days_aged": 5}
    )
    invoke(handler, "TriageAgent", created)
    assert last_of(seeded, EventType.TRIAGE_COMPLETED).payload["severity"] == "critical"
    record = seeded.exceptions.get(TENANT, "EX-1")
    assert record is not None and record.severity is Severity.CRITICAL

    # A person's severity stands: triage reports it and leaves the record as it is.
    _, created_two = create_exception(seeded, "EX-2", severity=Severity.LOW, attributes={"days_aged": 5})
    updated = patch_severity(seeded, "EX-2", Severity.MEDIUM)
    for trigger in (created_two, updated):
        invoke(handler, "TriageAgent", trigger)
        assert last_of(seeded, EventType.TRIAGE_COMPLETED, "EX-2").payload["severity"] == "medium"
    after = seeded.exceptions.get(TENANT, "EX-2")
    assert after is not None and after.severity is Severity.MEDIUM


def test_triage_ignores_updates_that_do_not_affect_matching(
    handler: ModuleType, seeded: Repositories, dynamodb: Any
) -> None:
    create_exception(seeded)
    updated = patch_summary(seeded, "EX-1", "counterparty confirmed")
    before = len(timeline(seeded))

    outcome = invoke(handler, "TriageAgent", updated)

    assert outcome["status"] == "ignored"
    assert len(timeline(seeded)) == before


# -- PolicyAgent -----------------------------------------------------------------------------------
def test_policy_assigns_the_best_compliant_playbook_in_one_transaction(
    handler: ModuleType, seeded: Repositories
) -> None:
    _triaged(handler, seeded)
    triage = last_of(seeded, EventType.TRIAGE_COMPLETED)

    outcome = invoke(handler, "PolicyAgent", triage)

    assert outcome["event_types"] == ["PolicyEvaluated", "PlaybookStarted"]
    evaluated, started = timeline(seeded)[-2:]
    assert evaluated.event_type is EventType.POLICY_EVALUATED
    assert started.event_type is EventType.PLAYBOOK_STARTED
    assert started.seq == evaluated.seq + 1 and started.created_at == evaluated.created_at  # one commit
    assert evaluated.payload["decision"] == "assigned"
    assert evaluated.payload["playbook"] == {
        "playbook_id": STANDARD,
        "version": 1,
        "name": "Settlement fail - standard",
    }
    assert evaluated.payload["violations"] == [
        {
            "playbook_id": FORCE,
            "version": 1,
            "name": "Settlement fail - force",
            "violations": ["tool 'force_settle' is not approved by the tenant policy (step 1)"],
        }
    ]
    assert evaluated.payload["suggested_playbook"]["playbook_id"] == FORCE
    assert (started.actor_type, started.actor_id) == (ActorType.AGENT, "PolicyAgent")
    assert started.event_id == deterministic_id("PolicyAgent", triage.event_id, "1")
    record = seeded.exceptions.get(TENANT, "EX-1")
    assert record is not None
    assert (record.current_playbook_id, record.current_step, record.status.value) == (
        STANDARD,
        1,
        "in_progress",
    )
    assert seeded.stats.get(TENANT, STANDARD)["runs_started"] == 0  # counted from the timeline
    assert invoke(handler, "StatsCounter", started)["status"] == "written"
    assert seeded.stats.get(TENANT, STANDARD)["runs_started"] == 1


def test_policy_leaves_an_assigned_exception_alone(handler: ModuleType, seeded: Repositories) -> None:
    _triaged(handler, seeded)
    triage = last_of(seeded, EventType.TRIAGE_COMPLETED)
    from exception_playbooks.execution import operations

    from .support import OPERATOR

    operations.recalculate(seeded, OPERATOR, "EX-1")  # an operator was faster
    before = seeded.exceptions.get(TENANT, "EX-1")

    outcome = invoke(handler, "PolicyAgent", triage)

    assert outcome["event_types"] == ["PolicyEvaluated"]
    evaluated = last_of(seeded, EventType.POLICY_EVALUATED)
    assert evaluated.payload["decision"] == "already_assigned"
    assert evaluated.payload["playbook"]["playbook_id"] == STANDARD
    after = seeded.exceptions.get(TENANT, "EX-1")
    assert before is not None and after is not None
    assert after.projection == before.projection and after.status == before.status
    assert len(of_type(timeline(seeded), EventType.PLAYBOOK_STARTED)) == 1


def test_policy_records_why_nothing_was_assigned(handler: ModuleType, repos: Repositories) -> None:
    seed(repos, TENANT, with_standard=False)  # only the playbook that calls an unapproved tool
    _triaged(handler, repos)

    invoke(handler, "PolicyAgent", last_of(repos, EventType.TRIAGE_COMPLETED))

    evaluated = last_of(repos, EventType.POLICY_EVALUATED)
    assert evaluated.payload["decision"] == "no_compliant_playbook"
    assert evaluated.payload["playbook"] is None
    assert [v["playbook_id"] for v in evaluated.payload["violations"]] == [FORCE]
    assert "violates the tenant policy" in evaluated.payload["reasoning_summary"]
    record = repos.exceptions.get(TENANT, "EX-1")
    assert record is not None and record.current_playbook_id is None and record.status.value == "open"


def test_policy_records_a_completed_playbook_and_changes_nothing(
    handler: ModuleType, seeded: Repositories
) -> None:
    _assigned(handler, seeded)
    for order in (1, 2, 3, 4):
        complete_step(seeded, "EX-1", order)
    updated = patch_severity(seeded, "EX-1", Severity.CRITICAL)  # no re-match once completed
    invoke(handler, "TriageAgent", updated)
    before = seeded.exceptions.get(TENANT, "EX-1")

    outcome = invoke(handler, "PolicyAgent", last_of(seeded, EventType.TRIAGE_COMPLETED))

    assert outcome["event_types"] == ["PolicyEvaluated"]
    evaluated = last_of(seeded, EventType.POLICY_EVALUATED)
    assert evaluated.payload["decision"] == "completed"
    assert evaluated.payload["playbook"]["playbook_id"] == STANDARD
    after = seeded.exceptions.get(TENANT, "EX-1")
    assert before is not None and after is not None
    assert (after.projection, after.status) == (before.projection, before.status)


def test_changed_fields_reads_both_shapes() -> None:
    assert changed_fields({"changes": {"severity": {"from": "low", "to": "high"}}}) == {"severity"}
    assert changed_fields({"changes": ["sla_deadline", {"field": "policy_tags"}]}) == {
        "sla_deadline",
        "policy_tags",
    }
    assert changed_fields({}) == set()


# -- ResolutionAgent -------------------------------------------------------------------------------
def test_resolution_suggests_the_next_step_rendered(handler: ModuleType, seeded: Repositories) -> None:
    _assigned(handler, seeded)
    invoke(handler, "ResolutionAgent", last_of(seeded, EventType.PLAYBOOK_STARTED))
    first = last_of(seeded, EventType.RESOLUTION_SUGGESTED).payload["next_step"]
    assert first["suggestion"] == (
        "Next: 'Fetch settlement status' — call tool get_settlement with {trade_id: T-1}; no approval needed"
    )
    assert (first["step_order"], first["requires_approval"], first["needs_human"]) == (1, False, False)

    complete_step(seeded, "EX-1", 1)
    complete_step(seeded, "EX-1", 2)
    outcome = invoke(handler, "ResolutionAgent", last_of(seeded, EventType.PLAYBOOK_STEP_COMPLETED))

    assert outcome["status"] == "written"
    third = last_of(seeded, EventType.RESOLUTION_SUGGESTED)
    assert (third.actor_type, third.actor_id) == (ActorType.AGENT, "ResolutionAgent")
    assert third.payload["next_step"] == {
        "step_order": 3,
        "name": "Retry settlement",
        "action_type": "call_tool",
        "requires_approval": True,  # retry_settlement is a high-risk tool
        "needs_human": True,
        "suggestion": "Next: 'Retry settlement' — call tool retry_settlement with "
        "{trade_id: T-1, ssi_id: SSI-9}; needs human approval",
        "missing": [],
        "blockers": [],
    }
    record = seeded.exceptions.get(TENANT, "EX-1")
    assert record is not None and record.current_step == 3  # executes nothing


def test_resolution_names_what_a_step_lacks(handler: ModuleType, seeded: Repositories) -> None:
    _, created = create_exception(seeded, attributes={"ssi_id": "SSI-9"})  # no trade_id
    invoke(handler, "TriageAgent", created)
    invoke(handler, "PolicyAgent", last_of(seeded, EventType.TRIAGE_COMPLETED))
    invoke(handler, "ResolutionAgent", last_of(seeded, EventType.PLAYBOOK_STARTED))
    step = last_of(seeded, EventType.RESOLUTION_SUGGESTED).payload["next_step"]
    assert step["needs_human"] is True and step["requires_approval"] is False
    assert step["missing"] == ["exception.attributes.trade_id"]
    assert step["suggestion"].endswith("cannot run as it stands: missing exception.attributes.trade_id")


def test_resolution_ignores_stale_triggers(handler: ModuleType, seeded: Repositories, dynamodb: Any) -> None:
    _assigned(handler, seeded)
    started = last_of(seeded, EventType.PLAYBOOK_STARTED)
    complete_step(seeded, "EX-1", 1)
    step_one = last_of(seeded, EventType.PLAYBOOK_STEP_COMPLETED)
    complete_step(seeded, "EX-1", 2)
    before = len(timeline(seeded))

    # Late deliveries: the run has moved on to step 3 since either was committed.
    assert invoke(handler, "ResolutionAgent", started)["status"] == "ignored"
    assert invoke(handler, "ResolutionAgent", step_one)["status"] == "ignored"
    assert len(timeline(seeded)) == before


def test_resolution_writes_nothing_after_the_last_step(handler: ModuleType, seeded: Repositories) -> None:
    _assigned(handler, seeded)
    for order in (1, 2, 3, 4):
        complete_step(seeded, "EX-1", order)
    before = len(timeline(seeded))
    outcome = invoke(handler, "ResolutionAgent", last_of(seeded, EventType.PLAYBOOK_STEP_COMPLETED))
    assert outcome["status"] == "ignored"
    assert len(timeline(seeded)) == before


# -- FeedbackAgent ---------------------------------------------------------------------------------
def test_feedback_captures_the_run_and_updates_stats(
    handler: ModuleType, seeded: Repositories, clock: FakeClock
) -> None:
    _assigned(handler, seeded)
    clock.advance(60)
    complete_step(seeded, "EX-1", 1)
    clock.advance(60)
    complete_step(seeded, "EX-1", 2, skip=True)
    clock.advance(120)
    complete_step(seeded, "EX-1", 3)
    clock.advance(60)
    complete_step(seeded, "EX-1", 4)
    completed = last_of(seeded, EventType.PLAYBOOK_COMPLETED)

    outcome = invoke(handler, "FeedbackAgent", completed)

    assert outcome["event_types"] == ["FeedbackCaptured"]
    feedback = last_of(seeded, EventType.FEEDBACK_CAPTURED)
    assert (feedback.actor_type, feedback.actor_id) == (ActorType.AGENT, "FeedbackAgent")
    assert feedback.payload == {
        "playbook_id": STANDARD,
        "playbook_version": 1,
        "steps_completed": 3,
        "steps_skipped": 1,
        "time_to_complete_seconds": 300.0,
        "actors": ["human:alice"],
        "trigger_event_id": completed.event_id,
    }
    count_stats(handler, seeded)
    stats = seeded.stats.get(TENANT, STANDARD)
    assert stats["runs_started"] == 1 and stats["runs_completed"] == 1
    assert stats["steps_completed"] == 3 and stats["steps_skipped"] == 1
    assert stats["mean_time_to_complete_seconds"] == 300.0
    assert stats["p90_time_to_complete_seconds"] == 300.0


# -- NotificationRelay -----------------------------------------------------------------------------
def test_relay_publishes_notification_requested(
    handler: ModuleType, seeded: Repositories, publisher: FakePublisher
) -> None:
    _assigned(handler, seeded)
    for order in (1, 2, 3, 4):
        complete_step(seeded, "EX-1", order)
    sent = last_of(seeded, EventType.NOTIFICATION_SENT)

    outcome = invoke(handler, "NotificationRelay", sent)

    assert outcome["status"] == "published"
    assert publisher.published == [
        {
            "source": "exception-playbooks.notifications",
            "detail_type": "NotificationRequested",
            "detail": {
                "channel": "slack",
                "recipient": None,
                "group": "SettlementsOps",
                "subject": "Retry submitted for T-1",
                "message": "Trade T-1 was resubmitted with State Street.",
                "step_order": 4,
                "tenant_id": TENANT,
                "exception_id": "EX-1",
                "dedupe_id": sent.event_id,
            },
        }
    ]
