"""The step-state projection stored on the exception always equals the fold of its timeline
(ARCHITECTURE.md), for random sequences of operations: complete, skip, recalculate, publish a new
playbook version, deactivate, severity changes through the packs or the record (PATCH), and
two-person approval (the policy covers ``assign_owner`` and ``add_comment`` steps): request
(complete), approve, reject, and expire as time moves.

Invariants after every step:
- ``seq`` is contiguous 1..N and the record's ``last_seq`` is N;
- within one run (from a PlaybookStarted to the next start or re-match) the step events are
  exactly steps 1, 2, ..., k of the run's pinned version, none twice, completion once, last;
- approval events name the run's next step; a covered step completes only after ApprovalGranted
  by ``quorum`` different people, none of them the requester, while the request was pending;
- the projection stored on the item == ``projection.fold(all events)``, and the API mirror fields
  (current_playbook_id/_version, current_step) agree with it;
- an operation refused with a domain error made no write call and changed neither the item nor
  the timeline.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any, ClassVar

from exception_playbooks import config, keys
from exception_playbooks.auth import Principal
from exception_playbooks.errors import DomainError
from exception_playbooks.execution import approvals, operations, projection
from exception_playbooks.execution.approvals import ApprovalCommand
from exception_playbooks.execution.operations import StepCommand
from exception_playbooks.models.enums import EventType, Role, Severity
from exception_playbooks.models.event import TimelineEvent
from exception_playbooks.models.exception import ExceptionPatch, ExceptionRecord
from exception_playbooks.models.packs import DomainPackInput, PolicyPackInput
from exception_playbooks.repository import packs as packs_module
from exception_playbooks.repository import playbooks as playbooks_module
from exception_playbooks.repository.bundle import Repositories
from exception_playbooks.usecases.exceptions import patch_exception
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from local.tables import events_table_definition, state_table_definition

from ..factories import playbook, step
from ..support import CallRecorder, FakeClock, stored_items
from .world import DOMAIN_PACK, OPERATOR, POLICY_PACK, TENANT, create

SEVERITIES = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
PLAYBOOKS = {
    # id -> match; which one wins depends on the effective severity and on priorities
    "pb-any": {"domain": "Finance"},
    "pb-hot": {"domain": "Finance", "severity_in": ["high", "critical"]},
    "pb-low": {"severity": "low"},
}
_STEP_KINDS = [
    ("add_comment", {"text": "on {exception.exception_id} at {step.step_order}"}),
    ("notify", {"channel": "log", "group": "desk", "message": "{exception.severity}"}),
    ("set_status", {"status": "pending_review"}),
    ("assign_owner", {"queue": "q-{exception.severity}"}),
    ("set_status", {"status": "in_progress"}),
    ("set_status", {"status": "escalated"}),
]
TTL_MINUTES = 10
COVERED = {"assign_owner", "add_comment"}  # steps under two-person approval
APPROVERS = [
    Principal(tenant_id=TENANT, username="bob", roles=frozenset({Role.APPROVER})),
    Principal(tenant_id=TENANT, username="carol", roles=frozenset({Role.APPROVER, Role.VIEWER})),
    Principal(tenant_id=TENANT, username="alice", roles=frozenset({Role.OPERATOR, Role.APPROVER})),  # asks
    Principal(tenant_id=TENANT, username="dave", roles=frozenset({Role.OPERATOR})),  # wrong role
]
WRITES = frozenset({"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
EX = "EX-1"


def _steps(length: int, offset: int, unskippable: int) -> list:
    kinds = itertools.islice(itertools.cycle(_STEP_KINDS), offset, offset + length)
    return [
        step(n, action, params, skippable=n != unskippable)
        for n, (action, params) in enumerate(kinds, start=1)
    ]


class ExecutionMachine(RuleBasedStateMachine):
    repos: ClassVar[Repositories]
    client: ClassVar[Any]
    recorder: ClassVar[CallRecorder]
    clock: ClassVar[FakeClock]

    def __init__(self) -> None:
        super().__init__()
        self.item: dict[str, Any] = {}
        self.events: list[TimelineEvent] = []
        self.versions: dict[str, int] = {}
        self.refused: tuple[dict[str, Any], int] | None = None  # state before a refused operation

    # -- setup --------------------------------------------------------------------------------
    @initialize(
        lengths=st.tuples(*[st.integers(2, 5) for _ in PLAYBOOKS]),
        priorities=st.tuples(*[st.integers(0, 20) for _ in PLAYBOOKS]),
        severity=st.sampled_from(SEVERITIES),
        quorum=st.integers(1, 2),
    )
    def setup(
        self, lengths: tuple[int, ...], priorities: tuple[int, ...], severity: Severity, quorum: int
    ) -> None:
        _fresh_tables(self.client)
        playbooks_module.clear_cache()
        packs_module.clear_cache()
        repos = self.repos
        self.policy = {
            **POLICY_PACK,
            "two_person_approval": {
                "action_types": sorted(COVERED),
                "quorum": quorum,
                "roles": ["approver"],
                "ttl_minutes": TTL_MINUTES,
            },
        }
        repos.packs.put_policy(TENANT, PolicyPackInput.model_validate(self.policy))
        repos.packs.put_domain(TENANT, "Finance", DomainPackInput.model_validate(DOMAIN_PACK))
        for (playbook_id, match), length, priority in zip(
            PLAYBOOKS.items(), lengths, priorities, strict=True
        ):
            repos.playbooks.save_version(
                TENANT,
                playbook(
                    playbook_id, steps=_steps(length, priority, unskippable=2), match=match, priority=priority
                ),
            )
            self.versions[playbook_id] = 1
        create(repos, EX, severity=severity, attributes={})
        operations.recalculate(repos, OPERATOR, EX)  # usually assigns something; may not

    # -- operations ---------------------------------------------------------------------------
    def _attempt(self, action) -> None:
        """Run ``action``; a refusal must make no write call (the invariant compares the items)."""
        self.recorder.reset()
        try:
            action()
        except DomainError:
            assert not WRITES & set(self.recorder.operations), self.recorder.operations
            self.refused = (self.item, len(self.events))

    def _current(self) -> int | None:
        return self.item.get("projection", {}).get("current_step")

    @rule(order=st.integers(0, 5))
    def complete(self, order: int) -> None:
        self._attempt(
            lambda: operations.act_on_step(self.repos, OPERATOR, EX, order, StepCommand(), skip=False)
        )

    @rule()
    def complete_current(self) -> None:
        order = self._current() or 1
        self._attempt(
            lambda: operations.act_on_step(self.repos, OPERATOR, EX, order, StepCommand(), skip=False)
        )

    @rule(order=st.integers(1, 5))
    def skip(self, order: int) -> None:
        command = StepCommand(notes="not needed")
        self._attempt(lambda: operations.act_on_step(self.repos, OPERATOR, EX, order, command, skip=True))

    @rule()
    def skip_current(self) -> None:
        order = self._current() or 1
        command = StepCommand(notes="not needed")
        self._attempt(lambda: operations.act_on_step(self.repos, OPERATOR, EX, order, command, skip=True))

    @rule()
    def recalculate(self) -> None:
        self._attempt(lambda: operations.recalculate(self.repos, OPERATOR, EX))

    @rule(
        playbook_id=st.sampled_from(sorted(PLAYBOOKS)),
        length=st.integers(1, 5),
        priority=st.integers(0, 30),
        offset=st.integers(0, 5),
    )
    def publish_new_version(self, playbook_id: str, length: int, priority: int, offset: int) -> None:
        version = self.versions[playbook_id] + 1
        self.repos.playbooks.save_version(
            TENANT,
            playbook(
                playbook_id,
                version,
                steps=_steps(length, offset, unskippable=1),
                match=PLAYBOOKS[playbook_id],
                priority=priority,
            ),
        )
        self.versions[playbook_id] = version

    @rule(playbook_id=st.sampled_from(sorted(PLAYBOOKS)))
    def deactivate(self, playbook_id: str) -> None:
        self.repos.playbooks.deactivate(TENANT, playbook_id)

    @rule(severity=st.sampled_from([None, *SEVERITIES]))
    def change_severity_through_the_packs(self, severity: Severity | None) -> None:
        overrides = {"TradeSettlementFailure": severity.value} if severity else {}
        self.repos.packs.put_policy(
            TENANT, PolicyPackInput.model_validate({**self.policy, "severity_overrides": overrides})
        )

    @rule(severity=st.sampled_from(SEVERITIES))
    def change_severity_on_the_record(self, severity: Severity) -> None:
        # PATCH re-runs matching as recalculate does (refused once the playbook completed: not here).
        self._attempt(lambda: patch_exception(self.repos, OPERATOR, EX, ExceptionPatch(severity=severity)))

    @rule(who=st.sampled_from(APPROVERS), order=st.integers(1, 5))
    def approve(self, who: Principal, order: int) -> None:
        self._attempt(lambda: approvals.decide(self.repos, who, EX, order, ApprovalCommand(), approve=True))

    def _try(self, action) -> None:
        """One of several operations in a rule: a refusal must make no write call."""
        self.recorder.reset()
        try:
            action()
        except DomainError:
            assert not WRITES & set(self.recorder.operations), self.recorder.operations

    @rule(decisions=st.lists(st.tuples(st.sampled_from(APPROVERS), st.booleans()), min_size=1, max_size=3))
    def request_then_decide(self, decisions: list[tuple[Principal, bool]]) -> None:
        """Complete the next step (a covered one asks for approval), then people approve or reject."""
        order = self._current() or 1
        self._try(lambda: operations.act_on_step(self.repos, OPERATOR, EX, order, StepCommand(), skip=False))
        for who, approve in decisions:
            command = ApprovalCommand(notes=None if approve else "not like this")
            self._try(
                functools.partial(approvals.decide, self.repos, who, EX, order, command, approve=approve)
            )

    @rule(minutes=st.sampled_from([1, TTL_MINUTES + 1]))
    def time_passes_and_the_timer_expires_requests(self, minutes: int) -> None:
        self.clock.advance(minutes * 60)
        self.recorder.reset()
        wrote = approvals.expire_approval(self.repos, TENANT, EX)
        assert wrote or not WRITES & set(self.recorder.operations)

    # -- invariants ---------------------------------------------------------------------------
    @invariant()
    def timeline_and_projection_agree(self) -> None:
        if not self.versions:  # before setup
            return
        new_events = _events_after(self.events[-1].seq if self.events else 0)
        item = _read_item()
        if self.refused is not None:  # a refused operation changed neither the item nor the timeline
            assert (item, new_events) == (self.refused[0], [])
            self.refused = None
        self.item = item
        self.events.extend(new_events)
        record = ExceptionRecord.model_validate(item)
        events = self.events

        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert record.last_seq == len(events)
        folded = projection.fold(events)
        assert record.projection == folded
        assert (record.current_playbook_id, record.current_playbook_version, record.current_step) == (
            folded.playbook_id,
            folded.playbook_version,
            folded.current_step,
        )
        _check_runs(events)


_APPROVAL_EVENTS = {
    EventType.APPROVAL_REQUESTED,
    EventType.APPROVAL_GRANTED,
    EventType.APPROVAL_REJECTED,
    EventType.APPROVAL_EXPIRED,
}


def _check_approval(run: dict[str, Any] | None, event: TimelineEvent) -> None:
    assert run is not None and not run["completed"], "an approval event outside a running playbook"
    payload, kind = event.payload, event.event_type
    assert (payload["playbook_id"], payload["playbook_version"]) == (
        run["playbook_id"],
        run["playbook_version"],
    )
    assert payload["step_order"] == len(run["done"]) + 1, f"approval on another than the next step: {payload}"
    pending = run.get("pending")
    if kind is EventType.APPROVAL_REQUESTED:
        assert pending is None, "a second request while one is pending"
        run["pending"] = {"by": event.actor_id, "quorum": payload["quorum"], "granted": []}
        return
    assert pending is not None, f"{kind} without a pending request"
    if kind is EventType.APPROVAL_GRANTED:
        assert event.actor_type == "human" and event.actor_id != pending["by"], "self or machine approval"
        assert event.actor_id not in pending["granted"], "the same person approved twice"
        pending["granted"].append(event.actor_id)
    else:
        run["pending"] = None


def _check_runs(events: list[TimelineEvent]) -> None:
    run: dict[str, Any] | None = None
    for event in events:
        kind, payload = event.event_type, event.payload
        if kind in _APPROVAL_EVENTS:
            _check_approval(run, event)
            continue
        if kind is EventType.PLAYBOOK_STARTED:
            run = {**payload, "done": [], "completed": False}
        elif kind is EventType.PLAYBOOK_RECALCULATED:
            run = None
        elif kind in (EventType.PLAYBOOK_STEP_COMPLETED, EventType.PLAYBOOK_STEP_SKIPPED):
            assert run is not None and not run["completed"], "a step event outside a running playbook"
            assert (payload["playbook_id"], payload["playbook_version"]) == (
                run["playbook_id"],
                run["playbook_version"],
            ), "a step event of another playbook version than the pinned one"
            assert payload["step_order"] == len(run["done"]) + 1, f"step out of order or twice: {payload}"
            pending = run.pop("pending", None)
            if payload["action_type"] in COVERED and kind is EventType.PLAYBOOK_STEP_COMPLETED:
                assert pending is not None and len(pending["granted"]) == pending["quorum"], payload
                assert payload["approved_by"] == pending["granted"]
            else:
                assert pending is None, f"a step done while its approval was pending: {payload}"
            run["done"].append(payload["step_order"])
        elif kind is EventType.PLAYBOOK_COMPLETED:
            assert run is not None and not run["completed"]
            assert len(run["done"]) == run["step_count"] == payload["step_count"]
            run["completed"] = True


def _read_item() -> dict[str, Any]:
    [item] = [
        i
        for i in stored_items(config.settings().state_table, keys.exception_pk(TENANT, EX))
        if i["sk"] == "EXCEPTION"
    ]
    return item


def _events_after(seq: int) -> list[TimelineEvent]:
    stored = stored_items(config.settings().events_table, keys.events_pk(TENANT, EX))
    return [TimelineEvent.model_validate(item) for item in stored if item["seq"] > seq]


def _fresh_tables(client: Any) -> None:
    current = config.settings()
    for name in (current.state_table, current.events_table):
        client.delete_table(TableName=name)
    client.create_table(**state_table_definition(current.state_table))
    client.create_table(**events_table_definition(current.events_table))


def test_projection_always_equals_the_fold_of_the_timeline(repos, dynamodb):
    ExecutionMachine.repos = repos
    ExecutionMachine.client = dynamodb
    ExecutionMachine.recorder = CallRecorder(repos.dynamo.client)
    ExecutionMachine.clock = repos.clock
    try:
        run_state_machine_as_test(
            ExecutionMachine,
            settings=settings(
                max_examples=25,
                stateful_step_count=15,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        ExecutionMachine.recorder.uninstall()
