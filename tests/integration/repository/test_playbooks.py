"""PlaybookRepository against moto: immutable versions, LATEST, candidates index, cache."""

from __future__ import annotations

import pytest
from exception_playbooks.errors import Conflict, NotFound
from exception_playbooks.repository import playbooks as playbooks_module

from ..factories import playbook, step
from ..support import snapshot

TENANT = "acme"
OTHER = "globex"


def test_create_v1_and_read_it_back(repos):
    saved = repos.playbooks.save_version(TENANT, playbook("pb-1", match={"domain": "Finance"}, priority=5))
    playbooks_module.clear_cache()

    latest = repos.playbooks.get(TENANT, "pb-1")
    assert latest == saved
    assert latest.version == 1
    assert latest.conditions.match == {"domain": "Finance"}
    assert latest.conditions.priority == 5
    assert [s.step_order for s in latest.steps] == [1, 2, 3]
    assert repos.playbooks.get(TENANT, "pb-1", 1) == saved
    assert repos.playbooks.get_version(TENANT, "pb-1", 1) == saved


def test_v2_leaves_v1_readable_and_moves_latest(repos):
    v1 = repos.playbooks.save_version(TENANT, playbook("pb-1", name="first"))
    v2 = repos.playbooks.save_version(
        TENANT, playbook("pb-1", 2, name="second", steps=[step(1, "add_comment", {"text": "x"})])
    )
    playbooks_module.clear_cache()

    assert repos.playbooks.get(TENANT, "pb-1") == v2
    assert repos.playbooks.get_version(TENANT, "pb-1", 1) == v1
    assert repos.playbooks.get_version(TENANT, "pb-1", 2) == v2
    assert len(repos.playbooks.get_version(TENANT, "pb-1", 1).steps) == 3
    assert [(h["version"], h["name"]) for h in repos.playbooks.versions(TENANT, "pb-1")] == [
        (1, "first"),
        (2, "second"),
    ]
    assert [(p.playbook_id, p.version) for p in repos.playbooks.list_latest(TENANT)] == [("pb-1", 2)]


@pytest.mark.parametrize(
    ("existing", "attempt"),
    [
        ([1], 1),  # creating an existing playbook again
        ([1, 2], 2),  # two editors both publishing v2
        ([1], 3),  # skipping a version
    ],
)
def test_version_races_are_conflicts_and_write_nothing(repos, dynamodb, existing, attempt):
    for version in existing:
        repos.playbooks.save_version(TENANT, playbook("pb-1", version))
    before = snapshot(dynamodb)
    with pytest.raises(Conflict) as caught:
        repos.playbooks.save_version(TENANT, playbook("pb-1", attempt, name="late"))
    assert caught.value.code == "CONCURRENT_MODIFICATION"
    assert snapshot(dynamodb) == before


def test_missing_playbook_or_version_is_not_found(repos):
    repos.playbooks.save_version(TENANT, playbook("pb-1"))
    for call in (
        lambda: repos.playbooks.get(TENANT, "nope"),
        lambda: repos.playbooks.get(TENANT, "pb-1", 2),
        lambda: repos.playbooks.deactivate(TENANT, "nope"),
    ):
        with pytest.raises(NotFound) as caught:
            call()
        assert caught.value.code == "PLAYBOOK_NOT_FOUND"


def test_list_latest_with_active_flag(repos):
    repos.playbooks.save_version(TENANT, playbook("pb-a"))
    repos.playbooks.save_version(TENANT, playbook("pb-b"))
    repos.playbooks.save_version(TENANT, playbook("pb-b", 2))
    repos.playbooks.save_version(OTHER, playbook("pb-z"))
    repos.playbooks.deactivate(TENANT, "pb-a")

    listed = {(p.playbook_id, p.version, p.active) for p in repos.playbooks.list_latest(TENANT)}
    assert listed == {("pb-a", 1, False), ("pb-b", 2, True)}
    assert [p.playbook_id for p in repos.playbooks.list_latest(OTHER)] == ["pb-z"]
    assert repos.playbooks.list_latest("initech") == []


def test_deactivate_removes_from_candidates_and_keeps_history(repos):
    repos.playbooks.save_version(TENANT, playbook("pb-1", match={"domain": "Finance"}))
    repos.playbooks.save_version(TENANT, playbook("pb-1", 2, match={"domain": "Finance"}))
    assert [p.playbook_id for p in repos.playbooks.candidates(TENANT, "Finance")] == ["pb-1"]

    deactivated = repos.playbooks.deactivate(TENANT, "pb-1")

    assert (deactivated.version, deactivated.active) == (2, False)
    assert repos.playbooks.candidates(TENANT, "Finance") == []
    assert repos.playbooks.get(TENANT, "pb-1").active is False
    assert repos.playbooks.get_version(TENANT, "pb-1", 1).version == 1
    assert [h["version"] for h in repos.playbooks.versions(TENANT, "pb-1")] == [1, 2]
    # Deactivating twice is harmless.
    assert repos.playbooks.deactivate(TENANT, "pb-1").active is False


def test_candidates_are_the_tenants_active_ones_for_the_domain_plus_domainless(repos):
    repos.playbooks.save_version(TENANT, playbook("fin", match={"domain": "Finance"}))
    repos.playbooks.save_version(
        TENANT, playbook("fin-upper", match={"domain": "FINANCE", "severity": "high"})
    )
    repos.playbooks.save_version(TENANT, playbook("claims", match={"domain": "Claims"}))
    repos.playbooks.save_version(TENANT, playbook("catch-all", match={}))
    repos.playbooks.save_version(TENANT, playbook("typed", match={"exception_type": "Trade*"}))
    repos.playbooks.save_version(TENANT, playbook("gone", match={"domain": "finance"}))
    repos.playbooks.deactivate(TENANT, "gone")
    repos.playbooks.save_version(OTHER, playbook("theirs", match={"domain": "Finance"}))
    repos.playbooks.save_version(OTHER, playbook("their-catch-all", match={}))

    for domain in ("Finance", "finance", "FINANCE"):
        found = sorted(p.playbook_id for p in repos.playbooks.candidates(TENANT, domain))
        assert found == ["catch-all", "fin", "fin-upper", "typed"]
    assert sorted(p.playbook_id for p in repos.playbooks.candidates(TENANT, "Claims")) == [
        "catch-all",
        "claims",
        "typed",
    ]
    assert sorted(p.playbook_id for p in repos.playbooks.candidates(TENANT, "Ops")) == ["catch-all", "typed"]
    assert sorted(p.playbook_id for p in repos.playbooks.candidates(OTHER, "finance")) == [
        "their-catch-all",
        "theirs",
    ]


def test_candidates_follow_the_latest_version_even_when_its_domain_changes(repos):
    repos.playbooks.save_version(TENANT, playbook("pb-1", match={"domain": "Finance"}))
    repos.playbooks.save_version(TENANT, playbook("pb-1", 2, match={"domain": "Claims"}))
    assert repos.playbooks.candidates(TENANT, "Finance") == []
    assert [(p.playbook_id, p.version) for p in repos.playbooks.candidates(TENANT, "claims")] == [("pb-1", 2)]


def test_versions_are_cached_forever_latest_is_always_read(repos, calls):
    repos.playbooks.save_version(TENANT, playbook("pb-1"))
    playbooks_module.clear_cache()
    calls.reset()

    first = repos.playbooks.get_version(TENANT, "pb-1", 1)
    assert calls.operations == ["GetItem"]
    assert repos.playbooks.get_version(TENANT, "pb-1", 1) is first
    assert calls.operations == ["GetItem"]

    repos.playbooks.get(TENANT, "pb-1")
    repos.playbooks.get(TENANT, "pb-1")
    assert calls.operations == ["GetItem"] * 3  # LATEST may move: never served from the cache

    playbooks_module.clear_cache()
    repos.playbooks.get_version(TENANT, "pb-1", 1)
    assert calls.count() == 4


def test_candidates_are_summaries_read_by_key_and_reused_while_the_catalogue_holds(repos, calls):
    repos.playbooks.save_version(TENANT, playbook("pb-1", match={"domain": "Finance"}))
    repos.playbooks.save_version(TENANT, playbook("pb-2"))  # domain-less
    repos.playbooks.save_version(TENANT, playbook("pb-3", match={"domain": "Claims"}))
    playbooks_module.clear_cache()
    calls.reset()

    first = repos.playbooks.candidates(TENANT, "Finance")
    # The catalogue stamps, then both partitions' bundles (Finance's and the domain-less one's)
    # in one BatchGetItem.
    assert calls.operations == ["GetItem", "BatchGetItem"]
    assert sorted(p.playbook_id for p in first) == ["pb-1", "pb-2"]
    assert all(p.summary_only for p in first)  # no step names or parameters were read
    calls.reset()
    again = repos.playbooks.candidates(TENANT, "Finance")
    assert calls.operations == ["GetItem"]  # warm: the stamps alone
    assert again is first  # the same objects: compiled conditions and the index stay warm

    # Another domain's change moves only that partition's stamp; Finance's list is reused.
    repos.playbooks.save_version(TENANT, playbook("pb-3", 2, match={"domain": "Claims"}))
    calls.reset()
    assert repos.playbooks.candidates(TENANT, "Finance") is first
    assert calls.operations == ["GetItem"]
    # A domain-less change moves the shared partition: only it is read again.
    repos.playbooks.save_version(TENANT, playbook("pb-2", 2))
    calls.reset()
    moved = repos.playbooks.candidates(TENANT, "Finance")
    assert calls.operations == ["GetItem", "BatchGetItem"]
    assert sorted((p.playbook_id, p.version) for p in moved) == [("pb-1", 1), ("pb-2", 2)]


def test_a_summary_resolves_to_its_full_version(repos):
    saved = repos.playbooks.save_version(TENANT, playbook("pb-1", match={"domain": "Finance"}))
    playbooks_module.clear_cache()
    (summary,) = repos.playbooks.candidates(TENANT, "finance")
    assert [s.action_type for s in summary.steps] == [s.action_type for s in saved.steps]
    assert all(s.name == "" for s in summary.steps)
    full = repos.playbooks.full(TENANT, summary)
    assert full == saved and not getattr(full, "summary_only", False)
    assert repos.playbooks.full(TENANT, full) is full


def test_a_playbook_moving_domain_moves_its_summary(repos):
    repos.playbooks.save_version(TENANT, playbook("pb-1", match={"domain": "Finance"}))
    repos.playbooks.save_version(TENANT, playbook("pb-1", 2, match={"domain": "Claims"}))
    assert repos.playbooks.candidates(TENANT, "Finance") == []
    assert [(p.playbook_id, p.version) for p in repos.playbooks.candidates(TENANT, "Claims")] == [("pb-1", 2)]


def test_a_tenant_without_a_catalogue_item_is_served_by_the_index_query(repos, dynamodb, calls):
    from exception_playbooks import keys

    repos.playbooks.save_version(TENANT, playbook("pb-1", match={"domain": "Finance"}))
    dynamodb.delete_item(
        TableName=repos.dynamo.state_table, Key=repos.dynamo.serialize(keys.catalogue_key(TENANT))
    )
    playbooks_module.clear_cache()
    calls.reset()
    assert [p.playbook_id for p in repos.playbooks.candidates(TENANT, "Finance")] == ["pb-1"]
    assert calls.operations == ["GetItem", "Query"]


def test_the_cache_is_per_tenant(repos, calls):
    repos.playbooks.save_version(TENANT, playbook("pb-1", name="acme's"))
    repos.playbooks.get_version(TENANT, "pb-1", 1)
    with pytest.raises(NotFound):
        repos.playbooks.get_version(OTHER, "pb-1", 1)


def test_tenant_isolation_for_playbooks(repos, dynamodb):
    repos.playbooks.save_version(TENANT, playbook("pb-1", name="acme's", match={"domain": "Finance"}))
    playbooks_module.clear_cache()
    before = snapshot(dynamodb)

    with pytest.raises(NotFound):
        repos.playbooks.get(OTHER, "pb-1")
    with pytest.raises(NotFound):
        repos.playbooks.deactivate(OTHER, "pb-1")
    with pytest.raises(Conflict):  # "publishing v2" of acme's playbook as globex finds no v1
        repos.playbooks.save_version(OTHER, playbook("pb-1", 2))
    assert repos.playbooks.versions(OTHER, "pb-1") == []
    assert repos.playbooks.candidates(OTHER, "Finance") == []
    assert snapshot(dynamodb) == before

    repos.playbooks.save_version(OTHER, playbook("pb-1", name="globex's"))
    assert repos.playbooks.get(TENANT, "pb-1").name == "acme's"
    assert repos.playbooks.get(TENANT, "pb-1").active is True


def test_the_version_cache_is_bounded(repos, calls, monkeypatch):
    monkeypatch.setattr(playbooks_module._VERSION_CACHE, "max_entries", 2)
    for playbook_id in ("pb-1", "pb-2", "pb-3"):
        repos.playbooks.save_version(TENANT, playbook(playbook_id))
    calls.reset()
    for playbook_id in ("pb-1", "pb-2", "pb-3"):
        repos.playbooks.get_version(TENANT, playbook_id, 1)
    assert len(playbooks_module._VERSION_CACHE) <= 2
    repos.playbooks.get_version(TENANT, "pb-3", 1)
    assert calls.count() == 3  # the newest one is still cached


def test_the_version_cache_is_bounded_by_bytes_too(repos, calls, monkeypatch):
    big = playbook("pb-big", description="d" * 1500)
    repos.playbooks.save_version(TENANT, big)
    repos.playbooks.save_version(TENANT, playbook("pb-small"))
    monkeypatch.setattr(playbooks_module._VERSION_CACHE, "max_bytes", 8000)
    repos.playbooks.get_version(TENANT, "pb-big", 1)
    cache = playbooks_module.cache()
    assert ("acme", "pb-big", 1) in dict(cache.items())
    repos.playbooks.get_version(TENANT, "pb-small", 1)
    assert cache.bytes <= 8000
    assert ("acme", "pb-big", 1) not in dict(cache.items())  # evicted for the newer one: bytes, not count
