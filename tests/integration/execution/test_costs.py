"""Cost budgets (ARCHITECTURE.md): DynamoDB calls per operation, counted with a botocore hook.

Warm = a Lambda that already holds the playbook version and the packs in memory.
"""

from __future__ import annotations

import pytest
from exception_playbooks.execution import operations

from .world import OPERATOR, assign, cold, complete, create, skip

# operation -> (warm budget, the calls measured warm)
WARM = {
    "status": (1, ["GetItem"]),
    # One BatchGetItem reads the exception with the packs-head generation that validates the packs.
    "complete": (2, ["BatchGetItem", "TransactWriteItems"]),
    "skip": (2, ["BatchGetItem", "TransactWriteItems"]),
    "complete with Idempotency-Key": (2, ["BatchGetItem", "TransactWriteItems"]),
    "recalculate (changed)": (3, ["BatchGetItem", "TransactWriteItems"]),
    "recalculate (unchanged)": (3, ["BatchGetItem"]),
}


def _run(repos, name: str) -> None:
    if name == "status":
        operations.playbook_status(repos, OPERATOR, "EX-1")
    elif name == "complete":
        complete(repos, 1)
    elif name == "skip":
        skip(repos, 1, notes="n")
    elif name == "complete with Idempotency-Key":
        complete(repos, 1, idempotency_key="k")
    elif name == "recalculate (changed)":
        operations.recalculate(repos, OPERATOR, "EX-2")
    else:
        operations.recalculate(repos, OPERATOR, "EX-1")


@pytest.fixture
def warm_world(world):
    assign(world, "EX-1")
    create(world, "EX-2")  # unassigned: recalculate will assign it
    create(world, "EX-3")
    operations.playbook_status(world, OPERATOR, "EX-1")  # warms the playbook version and the packs
    operations.recalculate(world, OPERATOR, "EX-3")
    return world


@pytest.mark.parametrize("name", list(WARM))
def test_warm_operations_stay_within_budget(warm_world, calls, name):
    budget, measured = WARM[name]
    calls.reset()
    _run(warm_world, name)
    assert calls.operations == measured
    assert calls.count() <= budget


def test_cold_costs(world, calls):
    """Cold numbers, for the record: +1 for the playbook version, +1 for the two packs (one
    BatchGetItem, where the packs are read as the ones in force); recalculate also +1 for the
    candidate summaries of the exception's domain (the domain-less partition was never written,
    so its stamp is 0 and it is not read) and +1 for the winner's full version."""
    assign(world, "EX-1")
    create(world, "EX-2")
    measured = {}
    for name, run in (
        ("status", lambda: operations.playbook_status(world, OPERATOR, "EX-1")),
        ("complete", lambda: complete(world, 1)),
        ("recalculate", lambda: operations.recalculate(world, OPERATOR, "EX-2")),
    ):
        cold()
        calls.reset()
        run()
        measured[name] = calls.count()
    assert measured == {"status": 4, "complete": 4, "recalculate": 5}
