"""The SLA clock: schedules created, moved and deleted in (moto's) EventBridge Scheduler, and what a
mark does when it rings: SlaWarning / SlaBreached, a re-match of an untouched run, a notification
to the escalation target, at most once per (exception, threshold, deadline)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest
from exception_playbooks.execution import operations
from exception_playbooks.models.enums import EventType, ExceptionStatus
from exception_playbooks.models.exception import ExceptionPatch
from exception_playbooks.models.packs import DomainPackInput, PolicyPackInput
from exception_playbooks.ports import iso
from exception_playbooks.sla import marks
from exception_playbooks.sla.clock import ring, sync_schedules
from exception_playbooks.sla.scheduler import EventBridgeScheduler
from exception_playbooks.usecases.exceptions import patch_exception

from ..execution.world import OPERATOR, TENANT, create
from ..factories import playbook, step
from ..support import START, FakeClock, stored_items

GROUP = "exception-playbooks-sla"
TARGET = "arn:aws:lambda:us-east-1:123456789012:function:sla-clock"
ROLE = "arn:aws:iam::123456789012:role/sla-scheduler"
DLQ = "arn:aws:sqs:us-east-1:123456789012:sla-dlq"
DEADLINE = START + timedelta(hours=2)
POLICY = {
    "sla_clock": {"warn_minutes": [15, 60], "escalation": {"channel": "slack", "group": "ops-duty"}},
}


@pytest.fixture
def scheduler(dynamodb: Any) -> EventBridgeScheduler:
    client = boto3.client("scheduler", region_name="us-east-1")
    client.create_schedule_group(Name=GROUP)
    return EventBridgeScheduler(group=GROUP, target_arn=TARGET, role_arn=ROLE, dlq_arn=DLQ, client=client)


@pytest.fixture
def sla_world(repos: Any) -> Any:
    repos.packs.put_policy(TENANT, PolicyPackInput.model_validate(POLICY))
    repos.packs.put_domain(TENANT, "Finance", DomainPackInput.model_validate({}))
    steps = [step(1, "add_comment", {"text": "looked"}), step(2, "add_comment", {"text": "fixed"})]
    repos.playbooks.save_version(TENANT, playbook("pb-normal", steps=steps, match={"domain": "Finance"}))
    repos.playbooks.save_version(
        TENANT,
        playbook("pb-breaching", steps=steps, match={"sla_minutes_remaining_lt": 20}, priority=10),
    )
    create(repos, "EX-1", sla_deadline=iso(DEADLINE))
    operations.recalculate(repos, OPERATOR, "EX-1")
    return repos


def _schedules(scheduler: EventBridgeScheduler) -> dict[str, dict[str, Any]]:
    client = scheduler.client
    names = [s["Name"] for s in client.list_schedules(GroupName=GROUP)["Schedules"]]
    return {name: client.get_schedule(Name=name, GroupName=GROUP) for name in names}


def _timeline(repos: Any) -> list[tuple[str, dict[str, Any]]]:
    from exception_playbooks import config, keys

    items = stored_items(config.settings().events_table, keys.events_pk(TENANT, "EX-1"))
    return [(item["event_type"], item["payload"]) for item in sorted(items, key=lambda i: i["seq"])]


def test_schedules_are_created_moved_and_deleted(sla_world: Any, scheduler: EventBridgeScheduler) -> None:
    created = sync_schedules(sla_world, scheduler, TENANT, "EX-1")
    assert len(created.put) == 3 and not created.rung
    schedules = _schedules(scheduler)
    by_threshold = {json.loads(s["Target"]["Input"])["threshold"]: s for s in schedules.values()}
    assert by_threshold["warn:60"]["ScheduleExpression"] == "at(2026-01-05T10:00:00)"
    assert by_threshold["warn:15"]["ScheduleExpression"] == "at(2026-01-05T10:45:00)"
    assert by_threshold["breach"]["ScheduleExpression"] == "at(2026-01-05T11:00:00)"
    breach = by_threshold["breach"]
    assert breach["Target"]["Arn"] == TARGET and breach["Target"]["RoleArn"] == ROLE
    assert breach["Target"]["DeadLetterConfig"] == {"Arn": DLQ}
    assert breach["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 10
    assert breach["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert json.loads(breach["Target"]["Input"]) == {
        "kind": "sla_mark",
        "tenant_id": TENANT,
        "exception_id": "EX-1",
        "threshold": "breach",
        "deadline": "2026-01-05T11:00:00.000Z",
    }

    # The deadline moves: the same schedules (names) move with it.
    patch_exception(sla_world, OPERATOR, "EX-1", ExceptionPatch(sla_deadline=DEADLINE + timedelta(hours=1)))
    sync_schedules(sla_world, scheduler, TENANT, "EX-1")
    moved = _schedules(scheduler)
    assert set(moved) == set(schedules)
    assert {s["ScheduleExpression"] for s in moved.values()} == {
        "at(2026-01-05T11:00:00)",
        "at(2026-01-05T11:45:00)",
        "at(2026-01-05T12:00:00)",
    }

    # Resolved: every schedule is gone (deleting again is harmless).
    record = operations.load_exception(sla_world, TENANT, "EX-1")
    stored = record.model_copy(update={"status": ExceptionStatus.RESOLVED})
    change = operations.Change(stored)
    change.events.append(
        operations.NewEvent(event_type=EventType.STATUS_CHANGED, actor=operations.SYSTEM_ACTOR, payload={})
    )
    operations.commit_change(sla_world, TENANT, change)
    deleted = sync_schedules(sla_world, scheduler, TENANT, "EX-1")
    assert len(deleted.deleted) == 3 and _schedules(scheduler) == {}
    assert len(sync_schedules(sla_world, scheduler, TENANT, "EX-1").deleted) == 3


def test_a_tenant_without_the_clock_gets_no_schedules(repos: Any, scheduler: EventBridgeScheduler) -> None:
    create(repos, "EX-1", sla_deadline=iso(DEADLINE))
    assert sync_schedules(repos, scheduler, TENANT, "EX-1").put == []
    assert _schedules(scheduler) == {}


def test_a_warning_re_matches_an_untouched_run_once(sla_world: Any, clock: FakeClock) -> None:
    record = operations.load_exception(sla_world, TENANT, "EX-1")
    assert record.current_playbook_id == "pb-normal"
    clock.now = DEADLINE - timedelta(minutes=15)

    outcome = ring(sla_world, TENANT, "EX-1", "warn:15", iso(DEADLINE))

    assert outcome.status == "written"
    assert outcome.event_types == (
        "SlaWarning",
        "NotificationSent",
        "PlaybookRecalculated",
        "PlaybookStarted",
    )
    record = operations.load_exception(sla_world, TENANT, "EX-1")
    assert record.current_playbook_id == "pb-breaching" and record.current_step == 1
    warning = dict(_timeline(sla_world))["SlaWarning"]
    assert warning["threshold"] == "warn:15" and warning["minutes_remaining"] == 15.0
    assert warning["notified"]["group"] == "ops-duty" and warning["notified"]["channel"] == "slack"
    before = _timeline(sla_world)
    again = ring(sla_world, TENANT, "EX-1", "warn:15", iso(DEADLINE))
    assert again.status == "already_handled" and _timeline(sla_world) == before


def test_a_breach_leaves_a_started_run_alone(sla_world: Any, clock: FakeClock) -> None:
    operations.act_on_step(sla_world, OPERATOR, "EX-1", 1, operations.StepCommand(), skip=False)
    clock.now = DEADLINE + timedelta(seconds=1)

    outcome = ring(sla_world, TENANT, "EX-1", "breach", iso(DEADLINE))

    assert outcome.event_types == ("SlaBreached", "NotificationSent")
    record = operations.load_exception(sla_world, TENANT, "EX-1")
    assert (record.current_playbook_id, record.current_step) == ("pb-normal", 2)


def test_the_warning_re_evaluates_the_effective_severity(sla_world: Any, clock: FakeClock) -> None:
    rule = {"when": {"sla_minutes_remaining_lt": 30}, "severity": "critical"}
    sla_world.packs.put_domain(TENANT, "Finance", DomainPackInput.model_validate({"severity_rules": [rule]}))
    clock.now = DEADLINE - timedelta(minutes=15)
    ring(sla_world, TENANT, "EX-1", "warn:15", iso(DEADLINE))
    warning = dict(_timeline(sla_world))["SlaWarning"]
    assert (warning["previous_severity"], warning["severity"]) == ("high", "critical")
    assert operations.load_exception(sla_world, TENANT, "EX-1").severity == "critical"


def test_stale_and_closed_marks_do_nothing(sla_world: Any, clock: FakeClock) -> None:
    before = _timeline(sla_world)
    stale = ring(sla_world, TENANT, "EX-1", "breach", iso(DEADLINE - timedelta(hours=1)))
    unknown = ring(sla_world, TENANT, "EX-1", "warn:30", iso(DEADLINE))
    assert (stale.status, unknown.status) == ("ignored", "ignored")
    assert _timeline(sla_world) == before


def test_a_mark_already_passed_when_synced_rings_at_once(
    sla_world: Any, scheduler: EventBridgeScheduler, clock: FakeClock
) -> None:
    clock.now = DEADLINE - timedelta(minutes=30)  # warn:60 passed, warn:15 and breach ahead
    result = sync_schedules(sla_world, scheduler, TENANT, "EX-1")
    assert len(result.put) == 2 and len(result.deleted) == 1
    assert [outcome.event_types[0] for outcome in result.rung] == ["SlaWarning"]
    assert marks.schedule_name(TENANT, "EX-1", "warn:60") in result.deleted


def test_an_approval_request_gets_an_expiry_schedule_that_records_the_expiry(
    sla_world: Any, scheduler: EventBridgeScheduler, clock: FakeClock
) -> None:
    """Through functions/sla/handler.py: the bus event syncs, the schedule's payload expires."""
    import importlib.util
    from pathlib import Path

    from exception_playbooks import bus
    from exception_playbooks.sla import entry

    policy = {**POLICY, "two_person_approval": {"action_types": ["add_comment"], "ttl_minutes": 30}}
    sla_world.packs.put_policy(TENANT, PolicyPackInput.model_validate(policy))
    operations.act_on_step(sla_world, OPERATOR, "EX-1", 1, operations.StepCommand(), skip=False)
    [requested] = [e for e in _stored_events() if e["event_type"] == "ApprovalRequested"]

    path = Path(__file__).resolve().parents[3] / "functions" / "sla" / "handler.py"
    spec = importlib.util.spec_from_file_location("_sla_handler_under_test", path)
    assert spec is not None and spec.loader is not None
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    handler.repositories = lambda: sla_world
    handler._schedulers[TARGET] = scheduler
    context = type("Context", (), {"invoked_function_arn": TARGET})()

    synced = handler.lambda_handler(bus.envelope(TENANT, requested), context)
    name = marks.approval_schedule_name(TENANT, "EX-1")
    assert name in synced["put"]
    expiry = _schedules(scheduler)[name]
    assert expiry["ScheduleExpression"] == "at(2026-01-05T09:30:00)"
    payload = json.loads(expiry["Target"]["Input"])
    assert payload == {"kind": "approval_expiry", "tenant_id": TENANT, "exception_id": "EX-1"}

    assert entry.handle(payload, sla_world, scheduler) == {"kind": "approval_expiry", "expired": False}
    clock.now = START + timedelta(minutes=31)
    assert handler.lambda_handler(payload, context) == {"kind": "approval_expiry", "expired": True}
    assert [e["event_type"] for e in _stored_events()][-1] == "ApprovalExpired"


def _stored_events() -> list[dict[str, Any]]:
    from exception_playbooks import config, keys

    items = stored_items(config.settings().events_table, keys.events_pk(TENANT, "EX-1"))
    return sorted(items, key=lambda item: item["seq"])
