"""Any DynamoDB call of an operation may fail: the typed error comes out, state and timeline are
exactly as before, and the same operation succeeds when retried. Faults are injected per call
index with a botocore ``before-call`` hook (moto itself never throttles or conflicts).

A transaction cancelled by a lost race (condition failed, transaction conflict) is re-run from a
fresh read inside the operation (``operations.MAX_RACE_ATTEMPTS``), so one lost race is absorbed
and only a race lost on every attempt reaches the caller as a Conflict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from exception_playbooks.errors import Conflict, Unavailable
from exception_playbooks.execution import operations

from ..support import CONFLICT_FAULTS, THROTTLE_FAULTS, WRITE_THROTTLE_FAULTS, snapshot
from .world import OPERATOR, TENANT, assign, cold, complete, create, skip


@dataclass(frozen=True)
class Operation:
    calls: tuple[str, ...]  # the DynamoDB calls it makes, in order
    run: Callable[[Any, str], object]  # (repos, exception_id)
    assigned: bool = True  # the exception has the settlement playbook running
    warm: bool = True
    writes: bool = True


OPERATIONS: dict[str, Operation] = {
    "complete": Operation(
        ("BatchGetItem", "TransactWriteItems"), lambda r, ex: complete(r, 1, exception_id=ex)
    ),
    "complete.cold": Operation(
        # exception + packs head, playbook version, both packs, the transaction
        ("BatchGetItem", "GetItem", "BatchGetItem", "TransactWriteItems"),
        lambda r, ex: complete(r, 1, exception_id=ex),
        warm=False,
    ),
    "complete.idempotent": Operation(
        ("BatchGetItem", "TransactWriteItems"),
        lambda r, ex: complete(r, 1, exception_id=ex, idempotency_key="k-1"),
    ),
    "skip": Operation(
        ("BatchGetItem", "TransactWriteItems"), lambda r, ex: skip(r, 1, exception_id=ex, notes="n")
    ),
    "recalculate": Operation(
        # packs cached: the exception with the packs head and the catalogue stamps, Finance's
        # candidate bundle, the winner's full version, the transaction
        ("BatchGetItem", "BatchGetItem", "GetItem", "TransactWriteItems"),
        lambda r, ex: operations.recalculate(r, OPERATOR, ex),
        assigned=False,
    ),
    "recalculate.cold": Operation(
        # exception + packs head + stamps, the two packs in force, Finance's candidate bundle,
        # the winner, the transaction
        ("BatchGetItem", "BatchGetItem", "BatchGetItem", "GetItem", "TransactWriteItems"),
        lambda r, ex: operations.recalculate(r, OPERATOR, ex),
        assigned=False,
        warm=False,
    ),
    "status.cold": Operation(
        ("GetItem", "GetItem", "GetItem", "GetItem"),
        lambda r, ex: operations.playbook_status(r, OPERATOR, ex),
        warm=False,
        writes=False,
    ),
}

# Reads alternate between the two throttling codes; the transaction gets every kind of refusal.
# (Each code's translation alone is covered by the repository and unit tests.)
READ_FAULTS = ("provisioned_throughput", "throttling")
RACE_FAULTS = ("conditional_check_failed", "transaction_conflict")
WRITE_FAULTS = {
    "cancelled_by_throttling": (WRITE_THROTTLE_FAULTS["cancelled_by_throttling"], Unavailable),
    "conditional_check_failed": (CONFLICT_FAULTS["conditional_check_failed"], Conflict),
    "transaction_conflict": (CONFLICT_FAULTS["transaction_conflict"], Conflict),
}
ALL_FAULTS = {
    **{name: (THROTTLE_FAULTS[name], Unavailable) for name in READ_FAULTS},
    **WRITE_FAULTS,
}


def _faults_for(index: int, call: str) -> list[str]:
    return list(WRITE_FAULTS) if call == "TransactWriteItems" else [READ_FAULTS[index % 2]]


def _cases() -> list[Any]:
    return [
        pytest.param(name, index, fault, id=f"{name}-{index}-{call}-{fault}")
        for name, operation in OPERATIONS.items()
        for index, call in enumerate(operation.calls)
        for fault in _faults_for(index, call)
    ]


def _prepare(repos: Any, operation: Operation, exception_id: str) -> None:
    if exception_id != "EX-1":
        create(repos, exception_id)
    if operation.assigned:
        assign(repos, exception_id)
    if not operation.warm:
        cold()
    else:  # a warm Lambda holds the packs it last decided with (validated by the packs head)
        assert operations.load_current(repos, TENANT, exception_id).packs is not None


@pytest.mark.parametrize(("name", "index", "fault"), _cases())
def test_a_failing_call_leaves_state_and_timeline_unchanged(world, dynamodb, calls, name, index, fault):
    operation = OPERATIONS[name]
    _prepare(world, operation, "EX-1")
    make, expected = ALL_FAULTS[fault]
    before = snapshot(dynamodb)
    calls.reset()
    if fault in RACE_FAULTS:
        calls.fail_on("TransactWriteItems", make, every=True)
    else:
        calls.fail_at(index, make)

    with pytest.raises(expected) as caught:
        operation.run(world, "EX-1")

    if fault in RACE_FAULTS:  # re-run from a fresh read until the attempts are spent
        assert calls.operations.count("TransactWriteItems") == operations.MAX_RACE_ATTEMPTS
    else:
        assert calls.operations == list(operation.calls[: index + 1])  # it stopped at the failing call
    calls.reset()
    assert snapshot(dynamodb) == before
    if expected is Unavailable:
        assert caught.value.code == "SERVICE_UNAVAILABLE"
    # Nothing was half-done: the very same operation now succeeds.
    operation.run(world, "EX-1")
    assert (snapshot(dynamodb) != before) is operation.writes


@pytest.mark.parametrize("fault", RACE_FAULTS)
@pytest.mark.parametrize("name", sorted(n for n, op in OPERATIONS.items() if op.writes))
def test_one_lost_race_is_absorbed_by_a_fresh_read(world, dynamodb, calls, name, fault):
    operation = OPERATIONS[name]
    _prepare(world, operation, "EX-1")
    make, _ = ALL_FAULTS[fault]
    calls.reset()
    calls.fail_on("TransactWriteItems", make)

    operation.run(world, "EX-1")

    assert calls.operations.count("TransactWriteItems") == 2
    events = world.exceptions.all_events(OPERATOR.tenant_id, "EX-1")
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len({e.event_id for e in events}) == len(events)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_the_call_sequences_are_what_the_operations_do(world, calls, name):
    """Guards the parametrisation above: a fault at index N hits the N-th call of the operation."""
    operation = OPERATIONS[name]
    _prepare(world, operation, "EX-2")
    calls.reset()
    operation.run(world, "EX-2")
    assert tuple(calls.operations) == operation.calls
