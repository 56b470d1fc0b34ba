"""The cached candidate index: reused for the same objects, dropped as soon as any is freed."""

from __future__ import annotations

import gc

from exception_playbooks.matching.index import IndexCache, build_index, candidate_index, gc_paused

from .builders import playbook


def test_index_buckets_active_candidates_by_required_domain():
    candidates = [
        playbook("fin", {"domain": "FINANCE"}),
        playbook("ops", {"domain": "ops"}),
        playbook("any", {"severity": "high"}),
        playbook("off", {"domain": "Finance"}, active=False),
        playbook("either", {"any_of": [{"domain": "Finance"}, {"domain": "Ops"}]}),
    ]
    index = build_index(candidates)
    assert [entry.position for entry in index.active] == [0, 1, 2, 4]
    assert [entry.position for entry in index.by_domain["finance"]] == [0]
    assert [entry.position for entry in index.anywhere] == [2, 4]
    assert [[entry.position for entry in bucket] for bucket in index.buckets_for("finance")] == [[0], [2, 4]]
    assert [[entry.position for entry in bucket] for bucket in index.buckets_for("hr")] == [[], [2, 4]]
    assert index.by_domain["finance"][0].tests == ()  # the bucket already settled the domain


def test_same_objects_in_a_new_list_reuse_the_index():
    candidates = [playbook("a"), playbook("b")]
    first = candidate_index(candidates)
    assert candidate_index(list(candidates)) is first
    assert candidate_index(tuple(candidates)) is first
    assert candidate_index(candidates[::-1]) is not first  # positions differ


def test_index_is_dropped_when_a_candidate_is_freed():
    cache = IndexCache()
    candidates = [playbook("a"), playbook("b")]
    index = cache.get(candidates)
    key = tuple(map(id, candidates))
    del candidates[1]
    gc.collect()
    assert index.liveness.dead
    survivor = [candidates[0]]
    cache.get(survivor)  # purges the dead entry on the way
    assert key not in cache._entries


def test_cache_is_bounded():
    cache = IndexCache(size=2)
    sets = [[playbook(f"p{i}")] for i in range(3)]
    indexes = [cache.get(candidates) for candidates in sets]
    assert cache.get(sets[2]) is indexes[2]
    assert cache.get(sets[0]) is not indexes[0]  # evicted
    cache.clear()
    assert cache.get(sets[2]) is not indexes[2]


def test_gc_is_paused_only_while_building():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()
