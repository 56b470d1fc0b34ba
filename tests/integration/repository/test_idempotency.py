"""IdempotencyRepository against moto: records stored in the command's transaction, one BatchGet."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from exception_playbooks import keys
from exception_playbooks.repository.dynamo import Transaction, TransactionCancelled, failed_labels
from exception_playbooks.repository.idempotency import IDEMPOTENCY_LABEL, request_hash

from ..factories import create_exception

TENANT = "acme"
OTHER = "globex"
SCOPE = "complete:EX-1:1"


def _store(repos, key="k-1", body=None, response=None, tenant=TENANT, scope=SCOPE):
    transaction = Transaction()
    repos.idempotency.stage(
        tenant, scope, key, request_hash(body or {"a": 1}), response or {"ok": True}, transaction
    )
    repos.dynamo.commit(transaction)
    return transaction


def test_request_hash_ignores_key_order_only():
    assert request_hash({"a": 1, "b": [1, 2]}) == request_hash({"b": [1, 2], "a": 1})
    assert request_hash({"a": 1}) != request_hash({"a": "1"})
    assert request_hash({"a": None}) != request_hash({})


def test_record_round_trip_with_ttl(repos, clock):
    response = {"exception_id": "EX-1", "steps": [{"n": 1.5}], "action": None}
    _store(repos, response=response)
    stored = repos.idempotency.get(TENANT, SCOPE, "k-1")
    assert stored.request_hash == request_hash({"a": 1})
    assert stored.response == response
    raw = repos.dynamo.get(repos.dynamo.state_table, keys.idempotency_key(TENANT, SCOPE, "k-1"))
    assert raw["expires_at"] == int(clock().timestamp()) + 24 * 3600
    assert repos.idempotency.get(TENANT, SCOPE, "other") is None


def test_a_second_record_under_the_same_key_is_refused_by_label(repos):
    _store(repos)
    transaction = Transaction()
    repos.idempotency.stage(TENANT, SCOPE, "k-1", "h", {}, transaction)
    with pytest.raises(TransactionCancelled) as caught:
        repos.dynamo.commit(transaction)
    assert failed_labels(caught.value, transaction) == {IDEMPOTENCY_LABEL}


def test_record_and_exception_come_back_in_one_batch_get(repos, calls):
    create_exception(repos, TENANT, "EX-1")
    _store(repos)
    calls.reset()

    stored, record = repos.idempotency.get_with_exception(TENANT, SCOPE, "k-1", "EX-1")
    assert calls.operations == ["BatchGetItem"]
    assert stored.response == {"ok": True}
    assert record.exception_id == "EX-1"

    calls.reset()
    stored, record = repos.idempotency.get_with_exception(TENANT, SCOPE, "unknown", "EX-1")
    assert (stored, record.exception_id) == (None, "EX-1")
    assert repos.idempotency.get_with_exception(TENANT, SCOPE, "unknown", "EX-404") == (None, None)
    assert calls.operations == ["BatchGetItem", "BatchGetItem"]


def test_unprocessed_keys_fall_back_to_single_reads(repos, calls):
    create_exception(repos, TENANT, "EX-1")
    _store(repos)
    client = repos.dynamo.client

    def throttled_batch(**_: Any):
        # DynamoDB answered nothing and handed both keys back as unprocessed.
        wanted = [keys.idempotency_key(TENANT, SCOPE, "k-1"), keys.exception_key(TENANT, "EX-1")]
        return AWSResponse("https://dynamodb", 200, {}, None), {
            "Responses": {},
            "UnprocessedKeys": {"test-state": {"Keys": [repos.dynamo.serialize(k) for k in wanted]}},
        }

    client.meta.events.register_first(
        "before-call.dynamodb.BatchGetItem", throttled_batch, unique_id="t-batch"
    )
    try:
        calls.reset()
        stored, record = repos.idempotency.get_with_exception(TENANT, SCOPE, "k-1", "EX-1")
    finally:
        client.meta.events.unregister("before-call.dynamodb.BatchGetItem", unique_id="t-batch")
    assert stored.response == {"ok": True}
    assert record.exception_id == "EX-1"
    assert calls.operations == ["GetItem", "GetItem"]  # the batch itself never reached the recorder


def test_records_are_scoped_to_tenant_and_route(repos):
    create_exception(repos, TENANT, "EX-1")
    create_exception(repos, OTHER, "EX-1")
    _store(repos, response={"tenant": TENANT})

    assert repos.idempotency.get(OTHER, SCOPE, "k-1") is None
    assert repos.idempotency.get(TENANT, "skip:EX-1:1", "k-1") is None
    stored, record = repos.idempotency.get_with_exception(OTHER, SCOPE, "k-1", "EX-1")
    assert stored is None
    assert record.exception_id == "EX-1"
    # The other tenant may use the very same key for itself.
    _store(repos, tenant=OTHER, response={"tenant": OTHER})
    assert repos.idempotency.get(TENANT, SCOPE, "k-1").response == {"tenant": TENANT}


def test_an_expired_record_reads_as_absent_and_may_be_replaced(repos, clock):
    """TTL deletes lazily: a record past ``expires_at`` still in the table must not replay."""
    create_exception(repos, TENANT, "EX-1")
    _store(repos, response={"first": True})
    clock.advance(24 * 3600 - 1)
    assert repos.idempotency.get(TENANT, SCOPE, "k-1").response == {"first": True}
    clock.advance(1)
    assert repos.idempotency.get(TENANT, SCOPE, "k-1") is None
    stored, record = repos.idempotency.get_with_exception(TENANT, SCOPE, "k-1", "EX-1")
    assert (stored, record.exception_id) == (None, "EX-1")
    _store(repos, body={"b": 2}, response={"second": True})  # no ConditionalCheckFailed
    assert repos.idempotency.get(TENANT, SCOPE, "k-1").response == {"second": True}
