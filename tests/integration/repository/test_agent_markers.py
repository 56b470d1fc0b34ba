"""AgentMarkerRepository against moto: at most once per (agent, triggering event)."""

from __future__ import annotations

import pytest
from exception_playbooks.repository.agent_markers import AGENT_MARKER_LABEL, MARKER_RETENTION_SECONDS
from exception_playbooks.repository.dynamo import Transaction, TransactionCancelled, failed_labels

from ..support import snapshot, stored_items

TENANT = "acme"
OTHER = "globex"


def _mark(repos, tenant=TENANT, exception_id="EX-1", agent="TriageAgent", trigger="ev-1"):
    transaction = Transaction()
    repos.agent_markers.stage(tenant, exception_id, agent, trigger, "2026-01-05T09:00:00.000Z", transaction)
    repos.dynamo.commit(transaction)
    return transaction


def test_unseen_then_seen(repos, dynamodb):
    assert repos.agent_markers.seen(TENANT, "EX-1", "TriageAgent", "ev-1") is False
    _mark(repos)
    assert repos.agent_markers.seen(TENANT, "EX-1", "TriageAgent", "ev-1") is True
    assert repos.agent_markers.seen(TENANT, "EX-1", "PolicyAgent", "ev-1") is False
    assert repos.agent_markers.seen(TENANT, "EX-1", "TriageAgent", "ev-2") is False
    [item] = stored_items("test-state")
    assert item["sk"] == "AGENT#TriageAgent#ev-1"
    assert item["handled_at"] == "2026-01-05T09:00:00.000Z"
    assert item["tenant_id"] == TENANT
    # TTL removes markers once no redelivery path (retries, DLQ, archive replay) can reach them.
    assert item["expires_at"] == int(repos.clock().timestamp()) + MARKER_RETENTION_SECONDS


def test_a_redelivery_cannot_mark_twice(repos, dynamodb):
    _mark(repos)
    before = snapshot(dynamodb)
    transaction = Transaction()
    repos.agent_markers.stage(TENANT, "EX-1", "TriageAgent", "ev-1", "later", transaction)
    with pytest.raises(TransactionCancelled) as caught:
        repos.dynamo.commit(transaction)
    assert failed_labels(caught.value, transaction) == {AGENT_MARKER_LABEL}
    assert snapshot(dynamodb) == before


def test_markers_are_per_tenant(repos):
    _mark(repos)
    assert repos.agent_markers.seen(OTHER, "EX-1", "TriageAgent", "ev-1") is False
    _mark(repos, tenant=OTHER)  # the same ids in another tenant are another marker
    assert repos.agent_markers.seen(OTHER, "EX-1", "TriageAgent", "ev-1") is True
