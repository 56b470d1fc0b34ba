"""Faults at the data layer: every repository call that DynamoDB refuses raises a typed error and
leaves nothing half-written. moto never throttles or conflicts, so faults are injected with a
botocore ``before-call`` hook on the client (``support.CallRecorder``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from exception_playbooks import keys
from exception_playbooks.errors import Conflict, NotFound, Unavailable
from exception_playbooks.models.enums import EventType
from exception_playbooks.models.event import SYSTEM_ACTOR, NewEvent
from exception_playbooks.models.packs import DomainPackInput, PolicyPackInput
from exception_playbooks.repository import packs as packs_module
from exception_playbooks.repository import playbooks as playbooks_module
from exception_playbooks.repository.dynamo import Transaction
from exception_playbooks.repository.exceptions import ExceptionFilters

from ..factories import create_exception, playbook
from ..support import CONFLICT_FAULTS, THROTTLE_FAULTS, WRITE_THROTTLE_FAULTS, client_error, snapshot

TENANT = "acme"


def _seed(repos) -> None:
    create_exception(repos, TENANT, "EX-1")
    repos.playbooks.save_version(TENANT, playbook("pb-1", match={"domain": "Finance"}))
    repos.packs.put_policy(TENANT, PolicyPackInput())
    repos.packs.put_domain(TENANT, "Finance", DomainPackInput())
    transaction = Transaction()
    repos.stats.stage_counters(TENANT, "pb-1", transaction, runs_started=1)
    repos.idempotency.stage(TENANT, "complete:EX-1:1", "k", "h", {"ok": 1}, transaction)
    repos.agent_markers.stage(TENANT, "EX-1", "TriageAgent", "ev-0", "t", transaction)
    repos.dynamo.commit(transaction)
    playbooks_module.clear_cache()
    packs_module.clear_cache()


def _update_exception(repos) -> None:
    record = repos.exceptions.get(TENANT, "EX-1")
    event = NewEvent(event_type=EventType.COMMENT_ADDED, actor=SYSTEM_ACTOR, payload={"text": "x"})
    transaction = Transaction()
    repos.exceptions.stage(TENANT, record, repos.exceptions.materialize(record, [event]), transaction)
    repos.exceptions.commit(transaction)


def _staged(stage: Callable[[Any, Transaction], None]) -> Callable[[Any], None]:
    def run(repos) -> None:
        transaction = Transaction()
        stage(repos, transaction)
        repos.dynamo.commit(transaction)

    return run


WRITES: dict[str, Callable[[Any], None]] = {
    "exceptions.create": lambda r: create_exception(r, TENANT, "EX-2"),
    "exceptions.update": _update_exception,
    "playbooks.save_version.new": lambda r: r.playbooks.save_version(TENANT, playbook("pb-2")),
    "playbooks.save_version.next": lambda r: r.playbooks.save_version(TENANT, playbook("pb-1", 2)),
    "playbooks.deactivate": lambda r: r.playbooks.deactivate(TENANT, "pb-1"),
    "packs.put_policy": lambda r: r.packs.put_policy(TENANT, PolicyPackInput(approved_tools=["x"])),
    "packs.put_domain": lambda r: r.packs.put_domain(TENANT, "Finance", DomainPackInput(fields={"a": 1})),
    "stats.stage_counters": _staged(
        lambda r, t: r.stats.stage_counters(TENANT, "pb-1", t, steps_completed=1)
    ),
    "stats.stage_completion": _staged(lambda r, t: r.stats.stage_completion(TENANT, "pb-1", 3.0, t)),
    "idempotency.stage": _staged(lambda r, t: r.idempotency.stage(TENANT, "s", "k2", "h", {}, t)),
    "agent_markers.stage": _staged(lambda r, t: r.agent_markers.stage(TENANT, "EX-1", "A", "ev-1", "t", t)),
}
WRITE_FAULTS = {
    "provisioned_throughput": (THROTTLE_FAULTS["provisioned_throughput"], Unavailable),
    "cancelled_by_throttling": (WRITE_THROTTLE_FAULTS["cancelled_by_throttling"], Unavailable),
    "conditional_check_failed": (CONFLICT_FAULTS["conditional_check_failed"], Conflict),
    "transaction_conflict_reason": (CONFLICT_FAULTS["transaction_conflict_reason"], Conflict),
}


@pytest.mark.parametrize("fault", sorted(WRITE_FAULTS))
@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_refused_write_raises_typed_and_writes_nothing(repos, dynamodb, calls, write, fault):
    _seed(repos)
    make, expected = WRITE_FAULTS[fault]
    before = snapshot(dynamodb)
    calls.reset()
    calls.fail_on("TransactWriteItems", make)

    with pytest.raises(expected):
        WRITES[write](repos)

    assert calls.operations[-1] == "TransactWriteItems"
    assert snapshot(dynamodb) == before


def test_deactivating_a_missing_playbook_is_not_found_and_writes_nothing(repos, dynamodb, calls):
    _seed(repos)
    before = snapshot(dynamodb)
    calls.reset()
    with pytest.raises(NotFound):
        repos.playbooks.deactivate(TENANT, "pb-missing")
    assert calls.operations == ["GetItem"]
    assert snapshot(dynamodb) == before


READS: dict[str, Callable[[Any], object]] = {
    "exceptions.get": lambda r: r.exceptions.get(TENANT, "EX-1"),
    "exceptions.get_with": lambda r: r.exceptions.get_with(
        TENANT, "EX-1", [keys.packs_head_key(TENANT), keys.catalogue_key(TENANT)]
    ),
    "exceptions.list": lambda r: r.exceptions.list(TENANT, ExceptionFilters(), 10, None),
    "exceptions.list.filtered": lambda r: r.exceptions.list(
        TENANT, ExceptionFilters(status="open"), 10, None
    ),
    "exceptions.events": lambda r: r.exceptions.events(TENANT, "EX-1", 10, None),
    "exceptions.all_events": lambda r: r.exceptions.all_events(TENANT, "EX-1"),
    "playbooks.get": lambda r: r.playbooks.get(TENANT, "pb-1"),
    "playbooks.get_version": lambda r: r.playbooks.get_version(TENANT, "pb-1", 1),
    "playbooks.versions": lambda r: r.playbooks.versions(TENANT, "pb-1"),
    "playbooks.list_latest": lambda r: r.playbooks.list_latest(TENANT),
    "playbooks.candidates": lambda r: r.playbooks.candidates(TENANT, "Finance"),
    "packs.policy": lambda r: r.packs.policy(TENANT),
    "packs.domain": lambda r: r.packs.domain(TENANT, "Finance"),
    "stats.get": lambda r: r.stats.get(TENANT, "pb-1"),
    "idempotency.get": lambda r: r.idempotency.get(TENANT, "complete:EX-1:1", "k"),
    "idempotency.get_with_exception": lambda r: r.idempotency.get_with_exception(
        TENANT, "complete:EX-1:1", "k", "EX-1"
    ),
    "agent_markers.seen": lambda r: r.agent_markers.seen(TENANT, "EX-1", "TriageAgent", "ev-0"),
}


@pytest.mark.parametrize("read", sorted(READS))
def test_a_throttled_read_is_unavailable(repos, calls, read):
    _seed(repos)
    calls.reset()
    calls.fail_at(0, THROTTLE_FAULTS["throttling"])
    with pytest.raises(Unavailable) as caught:
        READS[read](repos)
    assert caught.value.code == "SERVICE_UNAVAILABLE"
    assert calls.count() == 1
    # The fault was one call: the same read now works (safe to retry).
    READS[read](repos)


@pytest.mark.parametrize("fault", sorted(THROTTLE_FAULTS))
def test_every_throttling_code_is_unavailable(repos, calls, fault):
    calls.fail_at(0, THROTTLE_FAULTS[fault])
    with pytest.raises(Unavailable):
        repos.exceptions.get(TENANT, "EX-1")


def test_a_fault_on_a_later_page_of_a_listing_is_unavailable(repos, calls, clock):
    for n in range(3):
        create_exception(repos, TENANT, f"EX-{n}")
        clock.advance()
    first = repos.exceptions.list(TENANT, ExceptionFilters(), 1, None)
    calls.reset()
    calls.fail_at(0, THROTTLE_FAULTS["provisioned_throughput"])
    with pytest.raises(Unavailable):
        repos.exceptions.list(TENANT, ExceptionFilters(), 1, first.next_cursor)


def test_transact_get_reads_items_of_both_tables_in_order_in_one_call(repos, calls):
    _seed(repos)
    calls.reset()
    dynamo = repos.dynamo
    exception_key = {"pk": "T#acme#EX#EX-1", "sk": "EXCEPTION"}
    found = dynamo.transact_get(
        [
            (dynamo.state_table, exception_key),
            (dynamo.state_table, {"pk": "T#acme#EX#nope", "sk": "EXCEPTION"}),
            (dynamo.events_table, {"pk": "T#acme#EX#EX-1", "seq": 1}),
        ]
    )
    assert calls.operations == ["TransactGetItems"]
    assert found[0]["exception_id"] == "EX-1"
    assert found[1] is None
    assert found[2]["event_type"] == "ExceptionCreated"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (THROTTLE_FAULTS["throttling"], Unavailable),
        (lambda op, _: client_error("TransactionCanceledException", op, ["TransactionConflict"]), Conflict),
        (lambda op, _: client_error("TransactionCanceledException", op, ["ThrottlingError"]), Unavailable),
    ],
    ids=["throttled", "conflict", "cancelled-by-throttling"],
)
def test_transact_get_faults(repos, calls, make, expected):
    calls.fail_on("TransactGetItems", make)
    with pytest.raises(expected):
        repos.dynamo.transact_get([(repos.dynamo.state_table, {"pk": "T#acme#EX#EX-1", "sk": "EXCEPTION"})])
