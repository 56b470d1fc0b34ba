"""Calls and DynamoDB capacity per operation against DynamoDB Local, at a catalogue whose full
candidate items cross 1 MB (where the old candidate query needed several pages and ~150 read
units per match). Capacity is what DynamoDB Local reports (``local.capacity``); moto reports none.

The goal checked for matching: read units per recalculate within 2x of reading the winner plus
the exception, cold or warm.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from exception_playbooks import config, keys
from exception_playbooks.models.playbook import Conditions, PlaybookVersion, Step
from exception_playbooks.repository import bundle, playbooks
from exception_playbooks.repository.bundle import Repositories, build_repositories
from exception_playbooks.repository.dynamo import Dynamo

from local import aws_calls, capacity
from local.tables import create_tables

from .conftest import TENANT_A, TENANT_B, ApiClient, seed_packs
from .scenario import COMPLETE, EXCEPTIONS, RECALCULATE, STATUS, exception_body

PLAYBOOKS = 64  # x 100 steps: ~1.3 MB of full LATEST items
DOMAINS = [f"Domain{n:02d}" for n in range(20)]
TARGET_DOMAIN = "Finance"


def _playbook(n: int) -> PlaybookVersion:
    domain = None if n % 16 == 0 else (TARGET_DOMAIN if n % 8 == 1 else DOMAINS[n % 20])
    match: dict[str, Any] = {"exception_type": "TradeSettlementFailure" if n % 2 else "Other*"}
    if domain:
        match["domain"] = domain
    steps = tuple(
        Step(
            step_order=i + 1,
            name=f"Step {i + 1}",
            action_type="add_comment",  # type: ignore[arg-type]
            params={"text": f"Checked {{exception.exception_type}} for step {i + 1}. " + "note " * 20},
        )
        for i in range(100)
    )
    return PlaybookVersion(
        playbook_id=f"pb-{n:03d}",
        version=1,
        name=f"Playbook {n}",
        conditions=Conditions(match=match, priority=n % 5),
        steps=steps,
        created_at=f"2026-01-01T00:00:{n % 60:02d}.000Z",
    )


@pytest.fixture(scope="module")
def ddb_endpoint() -> Iterator[str]:
    from local.dynamodb_local import DynamoDBLocal

    server = DynamoDBLocal()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def measured_repos(ddb_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Repositories:
    import boto3

    from .conftest import AWS_ENV

    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STATE_TABLE", "capacity-state")
    monkeypatch.setenv("EVENTS_TABLE", "capacity-events")
    config.reset_settings()
    aws_calls.install()
    capacity.install()
    client = boto3.client(
        "dynamodb",
        endpoint_url=ddb_endpoint,
        region_name="us-east-1",
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    create_tables(client, config.settings())
    repos = build_repositories(Dynamo(client=client))
    monkeypatch.setattr(bundle, "default_repositories", lambda: repos)
    return repos


def measure(request: Callable[[], Any]) -> tuple[Any, capacity.CapacityMeter]:
    with capacity.measure() as meter:
        response = request()
    assert response.status < 400, response.body
    return response, meter


def test_budgets_hold_in_calls_and_capacity_past_a_megabyte_of_candidates(
    measured_repos: Repositories,
) -> None:
    repos = measured_repos
    seed_packs(repos, TENANT_A, policy={})
    for n in range(PLAYBOOKS):
        repos.playbooks.save_version(TENANT_A, _playbook(n))
    playbooks.clear_cache()

    # The old full-item candidate query: past 1 MB (> 128 eventually consistent read units).
    with capacity.measure() as legacy:
        repos.playbooks._candidates_by_index(TENANT_A, TARGET_DOMAIN)
    assert legacy.read > 128

    api = ApiClient()
    body = exception_body("EX-0")
    _, create = measure(lambda: api.call("POST", EXCEPTIONS, body=body))
    assert (create.calls, create.read) == (1, 0)
    # exception item + ExceptionCreated, doubled by the transaction; the item is also written to
    # by_tenant and to the work queue's three slim order indexes (issue 17): 1 KB items, 12 units
    assert create.write <= 12

    # Every publish rewrote its partitions' bundles (compressed summaries) in its transaction.
    for partition in (keys.domain_index_value(TARGET_DOMAIN), keys.domain_index_value(None)):
        bundle_item = repos.dynamo.get(
            repos.dynamo.state_table, keys.candidate_bundle_key(TENANT_A, partition)
        )
        assert bundle_item is not None and bundle_item["data"] is not None

    # Reading the winner and the exception directly is the yardstick for matching.
    with aws_calls.count_aws_calls() as calls:
        _, cold = measure(lambda: api.call("POST", RECALCULATE, {"exception_id": "EX-0"}))
    assert "dynamodb.Query" not in calls.names, calls.names
    record = repos.exceptions.get(TENANT_A, "EX-0")
    assert record is not None and record.projection.playbook_id is not None
    with capacity.measure() as yardstick:
        repos.dynamo.get(repos.dynamo.state_table, keys.exception_key(TENANT_A, "EX-0"))
        repos.dynamo.get(
            repos.dynamo.state_table,
            keys.playbook_version_key(TENANT_A, record.projection.playbook_id, 1),
        )
    # Cold (empty caches, packs warm): exception + stamps, the two partitions' bundles (one
    # BatchGetItem), the winner's version, the transaction.
    assert cold.calls <= 4, calls.names
    assert cold.read <= 2 * yardstick.read, (cold.read, yardstick.read)

    api.call("POST", EXCEPTIONS, body=exception_body("EX-1"))
    with aws_calls.count_aws_calls() as calls:
        response, warm = measure(lambda: api.call("POST", RECALCULATE, {"exception_id": "EX-1"}))
    assert response.body["changed"] is True
    assert calls.names == ["dynamodb.BatchGetItem", "dynamodb.TransactWriteItems"]
    assert warm.read <= 2 * yardstick.read
    # The exception, the packs head and the catalogue stamps: one strongly consistent unit each.
    assert warm.read <= 3

    _, status = measure(lambda: api.call("GET", STATUS, {"exception_id": "EX-1"}))
    assert (status.calls, status.write) == (1, 0)
    assert status.read <= 2  # the exception item; the version is cached

    with aws_calls.count_aws_calls() as calls:
        _, step = measure(
            lambda: api.call("POST", COMPLETE, {"exception_id": "EX-1", "step_order": 1}, body={"notes": "n"})
        )
    # One BatchGetItem: the exception and the packs head (the packs in force are cached).
    assert calls.names == ["dynamodb.BatchGetItem", "dynamodb.TransactWriteItems"]
    assert step.read <= 3
    # The exception item (its projection holds 100 step states) and two events, doubled; no stats item.
    assert step.write <= 40


SUMMARIES = 400  # in one domain: ~1 MB of summary items (100-step skeletons) in its partition


def _steps() -> tuple[Step, ...]:
    return tuple(_playbook(1).steps)


def _small_playbook(n: int) -> PlaybookVersion:
    match: dict[str, Any] = {"exception_type": "TradeSettlementFailure" if n % 2 else "Other*"}
    if n % 20:
        match["domain"] = TARGET_DOMAIN
    return PlaybookVersion(
        playbook_id=f"pb-s{n:04d}",
        version=1,
        name=f"Playbook {n} with a name as long as an author would give it",
        conditions=Conditions(match=match, priority=n % 7),
        steps=_steps(),
        created_at=f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
    )


def test_a_cold_match_reads_bundles_whatever_the_partition_size(measured_repos: Repositories) -> None:
    """The old design queried every summary of both partitions (here ~250 strongly consistent
    units); the bundles hold them in a few KB, so the cold match stays within 2x of the yardstick."""
    repos = measured_repos
    seed_packs(repos, TENANT_B, policy={})
    for n in range(SUMMARIES):
        repos.playbooks.save_version(TENANT_B, _small_playbook(n))
    with capacity.measure() as old_design:
        for partition in (keys.domain_index_value(TARGET_DOMAIN), keys.domain_index_value(None)):
            repos.playbooks.catalogue._query(TENANT_B, partition)
    assert old_design.read > 128

    api = ApiClient()
    api.user = (TENANT_B, "alice", ("operator",))
    api.call("POST", EXCEPTIONS, body=exception_body("EX-W"))
    api.call("POST", RECALCULATE, {"exception_id": "EX-W"})  # the packs are warm, as above
    api.call("POST", EXCEPTIONS, body=exception_body("EX-S"))
    playbooks.clear_cache()
    with aws_calls.count_aws_calls() as calls:
        _, cold = measure(lambda: api.call("POST", RECALCULATE, {"exception_id": "EX-S"}))
    record = repos.exceptions.get(TENANT_B, "EX-S")
    assert record is not None and record.projection.playbook_id is not None
    with capacity.measure() as yardstick:
        repos.dynamo.get(repos.dynamo.state_table, keys.exception_key(TENANT_B, "EX-S"))
        repos.dynamo.get(
            repos.dynamo.state_table, keys.playbook_version_key(TENANT_B, record.projection.playbook_id, 1)
        )
    # exception + stamps, the bundles, the winner, the transaction
    assert "dynamodb.Query" not in calls.names and cold.calls <= 4, calls.names
    assert cold.read <= 2 * yardstick.read, (cold.read, yardstick.read)

    # The write side: a publish into the large partition rewrites its bundle in its transaction.
    with capacity.measure() as publish:
        repos.playbooks.save_version(TENANT_B, _small_playbook(SUMMARIES + 1))
    assert publish.calls == 2  # stamps + bundles (BatchGetItem), the transaction
    bundle_item = repos.dynamo.get(
        repos.dynamo.state_table, keys.candidate_bundle_key(TENANT_B, keys.domain_index_value(TARGET_DOMAIN))
    )
    assert bundle_item is not None and bundle_item["count"] == SUMMARIES - SUMMARIES // 20 + 1
    bundle_units = -(-len(bytes(bundle_item["data"])) // 1024) + 1  # its 1 KB units, with the keys
    # The same publish into an empty partition: what a publish wrote before the bundles (plus a
    # one-unit bundle); the large partition's bundle adds its own units, doubled by the transaction.
    lone = _small_playbook(SUMMARIES + 3).model_copy(
        update={"conditions": Conditions(match={"domain": "Elsewhere"}, priority=1)}
    )
    with capacity.measure() as baseline:
        repos.playbooks.save_version(TENANT_B, lone)
    assert publish.write <= baseline.write + 2 * bundle_units, (publish.write, baseline.write, bundle_units)
