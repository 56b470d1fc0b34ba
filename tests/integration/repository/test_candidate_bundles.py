"""Candidate bundles (repository/candidates.py) against moto: encoding, bounds, and that a bundle
is used only while it holds exactly the current summaries of its partition."""

from __future__ import annotations

import zlib

import pytest
from exception_playbooks import bounds, keys
from exception_playbooks.errors import Conflict
from exception_playbooks.repository import candidates as candidates_module
from exception_playbooks.repository import playbooks as playbooks_module
from exception_playbooks.repository.candidates import decode_bundle, encode_bundle, summary_item

from ..factories import playbook, step

TENANT = "acme"


def _ids(found):
    return sorted((p.playbook_id, p.version) for p in found)


def _bundle(repos, partition):
    return repos.dynamo.get(repos.dynamo.state_table, keys.candidate_bundle_key(TENANT, partition))


def test_a_bundle_round_trips_the_summaries_matching_reads():
    versions = [
        playbook("pb-1", match={"domain": "Finance", "attributes": {"amount": {"gte": 1.5}}}, priority=3),
        playbook(
            "pb-2",
            2,
            name="Ünïcode",
            steps=[
                step(1, "call_tool", {"tool_id": "lookup", "payload": {}}),
                step(2, "add_comment", {"text": "x"}),
            ],
        ),
    ]
    items = [summary_item(TENANT, v) for v in versions]
    decoded = decode_bundle(encode_bundle(items))
    assert decoded is not None
    assert [candidates_module.summary_from_item(i) for i in decoded] == [
        candidates_module.summary_from_item(i) for i in items
    ]
    assert decode_bundle(encode_bundle([])) == []


def test_decoding_is_bounded_and_refuses_what_is_not_a_bundle():
    bomb = zlib.compress(b"[" + b" " * (4 * 1024 * 1024) + b"]", 9)  # a few KB inflating to 4 MB
    assert len(bomb) < 16 * 1024
    assert decode_bundle(bomb, limit=1024 * 1024) is None
    assert decode_bundle(bomb) == []  # under the default bound it is just an empty list
    assert decode_bundle(b"not zlib") is None
    assert decode_bundle(zlib.compress(b"{}")) is None
    assert decode_bundle(zlib.compress(b"[[1, 2]]")) is None  # rows of another shape
    assert decode_bundle(zlib.compress(b"[[1")[:-2]) is None  # truncated
    assert bounds.MAX_CANDIDATE_BUNDLE_BYTES < 400 * 1024


def test_publish_writes_the_bundles_that_cold_reads_use_alone(repos, calls):
    repos.playbooks.save_version(TENANT, playbook("pb-1", match={"domain": "Finance"}))
    repos.playbooks.save_version(TENANT, playbook("pb-2"))  # domain-less
    catalogue = repos.playbooks.catalogue.read(TENANT)
    for partition in ("finance", keys.ANY_DOMAIN):
        bundle = _bundle(repos, partition)
        assert bundle["stamp"] == catalogue[f"stamp:{partition}"] and bundle["count"] == 1
    playbooks_module.clear_cache()
    calls.reset()

    found = repos.playbooks.candidates(TENANT, "Finance")
    # The catalogue stamps, then both partitions' bundles in one BatchGetItem: no Query.
    assert calls.operations == ["GetItem", "BatchGetItem"]
    assert _ids(found) == [("pb-1", 1), ("pb-2", 1)]
    assert all(p.summary_only for p in found)


def test_publish_retire_and_domain_moves_keep_the_bundles_equal_to_the_summaries(repos, calls):
    repos.playbooks.save_version(TENANT, playbook("pb-1", match={"domain": "Finance"}))
    repos.playbooks.save_version(TENANT, playbook("pb-2"))

    def cold(domain="Finance"):
        playbooks_module.clear_cache()
        calls.reset()
        found = _ids(repos.playbooks.candidates(TENANT, domain))
        assert "Query" not in calls.operations, calls.operations  # every answer is the bundles'
        queried = {"finance": "Finance", "claims": "Claims"}[domain.lower()]
        from_query = _ids(
            [
                candidates_module.summary_from_item(i)
                for p in (keys.domain_index_value(queried), keys.ANY_DOMAIN)
                for i in candidates_module.CandidateCatalogue(repos.dynamo)._query(TENANT, p)
            ]
        )
        assert found == from_query
        return found

    repos.playbooks.save_version(TENANT, playbook("pb-3", match={"domain": "Finance"}))
    assert cold() == [("pb-1", 1), ("pb-2", 1), ("pb-3", 1)]
    repos.playbooks.save_version(TENANT, playbook("pb-1", 2, match={"domain": "Finance"}))
    assert cold() == [("pb-1", 2), ("pb-2", 1), ("pb-3", 1)]
    repos.playbooks.deactivate(TENANT, "pb-3")
    assert cold() == [("pb-1", 2), ("pb-2", 1)]
    repos.playbooks.save_version(TENANT, playbook("pb-1", 3, match={"domain": "Claims"}))
    assert cold() == [("pb-2", 1)]
    assert cold("Claims") == [("pb-1", 3), ("pb-2", 1)]
    repos.playbooks.deactivate(TENANT, "pb-2")
    assert cold() == []


def test_a_bundle_not_labelled_with_the_current_stamp_or_corrupt_is_not_used(repos, dynamodb, calls):
    repos.playbooks.save_version(TENANT, playbook("pb-1", match={"domain": "Finance"}))
    key = repos.dynamo.serialize(keys.candidate_bundle_key(TENANT, "finance"))
    for expression, value in (("SET #a = :v", {"N": "0"}), ("SET #a = :v", {"B": b"garbage"})):
        name = "stamp" if "N" in value else "data"
        dynamodb.update_item(
            TableName=repos.dynamo.state_table,
            Key=key,
            UpdateExpression=expression,
            ExpressionAttributeNames={"#a": name},
            ExpressionAttributeValues={":v": value},
        )
        playbooks_module.clear_cache()
        calls.reset()
        assert _ids(repos.playbooks.candidates(TENANT, "Finance")) == [("pb-1", 1)]
        assert calls.operations == ["GetItem", "BatchGetItem", "Query"]
    # The next publish in the partition rebuilds it from the summaries; so does ``rebuild``.
    repos.playbooks.catalogue.rebuild(TENANT, "finance")
    playbooks_module.clear_cache()
    calls.reset()
    assert _ids(repos.playbooks.candidates(TENANT, "Finance")) == [("pb-1", 1)]
    assert calls.operations == ["GetItem", "BatchGetItem"]


def test_a_partition_too_large_to_bundle_is_queried_by_every_cold_read(repos, calls, monkeypatch):
    monkeypatch.setattr(candidates_module, "MAX_CANDIDATE_BUNDLE_BYTES", 8)
    repos.playbooks.save_version(TENANT, playbook("pb-1", match={"domain": "Finance"}))
    assert _bundle(repos, "finance").get("data") is None
    for _ in range(2):
        playbooks_module.clear_cache()
        calls.reset()
        assert _ids(repos.playbooks.candidates(TENANT, "Finance")) == [("pb-1", 1)]
        assert calls.operations == ["GetItem", "BatchGetItem", "Query"]


def test_a_publish_racing_another_in_the_same_partition_is_staged_again_and_both_land(repos, monkeypatch):
    repos.playbooks.save_version(TENANT, playbook("pb-1", match={"domain": "Finance"}))
    catalogue = repos.playbooks.catalogue
    original = catalogue._current_items

    def interleaved(*args, **kwargs):  # another author publishes between our read and our write
        monkeypatch.setattr(catalogue, "_current_items", original)
        items = original(*args, **kwargs)
        repos.playbooks.save_version(TENANT, playbook("pb-9", match={"domain": "Finance"}))
        return items

    monkeypatch.setattr(catalogue, "_current_items", interleaved)
    repos.playbooks.save_version(TENANT, playbook("pb-2", match={"domain": "Finance"}))
    playbooks_module.clear_cache()
    assert _ids(repos.playbooks.candidates(TENANT, "Finance")) == [("pb-1", 1), ("pb-2", 1), ("pb-9", 1)]


def test_a_publish_that_keeps_losing_the_race_writes_nothing_and_is_a_conflict(repos, monkeypatch):
    repos.playbooks.save_version(TENANT, playbook("pb-1", match={"domain": "Finance"}))
    catalogue = repos.playbooks.catalogue
    original = catalogue._current_items
    others = iter(f"pb-{n}" for n in range(50, 60))

    def always_interleaved(*args, **kwargs):
        items = original(*args, **kwargs)
        monkeypatch.setattr(catalogue, "_current_items", original)
        repos.playbooks.save_version(TENANT, playbook(next(others), match={"domain": "Finance"}))
        monkeypatch.setattr(catalogue, "_current_items", always_interleaved)
        return items

    monkeypatch.setattr(catalogue, "_current_items", always_interleaved)
    with pytest.raises(Conflict):
        repos.playbooks.save_version(TENANT, playbook("pb-2", match={"domain": "Finance"}))
    monkeypatch.setattr(catalogue, "_current_items", original)
    playbooks_module.clear_cache()
    ids = [pid for pid, _ in _ids(repos.playbooks.candidates(TENANT, "Finance"))]
    assert "pb-2" not in ids and len(ids) == 4  # pb-1 and the three that won
