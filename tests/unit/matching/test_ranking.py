"""Every ranking tie-break, in order."""

from __future__ import annotations

from exception_playbooks.matching.ranking import RANK_FACTORS, created_micros, deciding_factor, rank_key
from exception_playbooks.models.playbook import PlaybookVersion

from .builders import playbook


def best(*candidates: PlaybookVersion) -> str:
    return min(candidates, key=rank_key).playbook_id


def test_higher_priority_wins_over_everything_else():
    low = playbook(
        "a", {"domain": "Finance", "severity": "high"}, priority=1, created_at="2026-06-01T00:00:00Z"
    )
    high = playbook("b", {}, priority=2, created_at="2026-01-01T00:00:00Z")
    assert best(low, high) == "b"


def test_then_more_specific_wins():
    vague = playbook("a", {"domain": "Finance"}, priority=5, created_at="2026-06-01T00:00:00Z")
    specific = playbook("b", {"domain": "Finance", "attributes": {"x": {"gt": 1, "lt": 2}}}, priority=5)
    assert best(vague, specific) == "b"


def test_then_the_newer_version_wins():
    older = playbook("a", {"domain": "Finance"}, created_at="2026-01-01T00:00:00.000Z")
    newer = playbook("b", {"domain": "Finance"}, created_at="2026-01-01T00:00:00.001Z")
    assert best(older, newer) == "b"


def test_creation_times_compare_as_instants_not_strings():
    utc = playbook("a", created_at="2026-01-01T10:00:00Z")
    offset = playbook("b", created_at="2026-01-01T11:30:00+02:00")  # 09:30 UTC: older
    assert best(utc, offset) == "a"


def test_then_the_lower_playbook_id_wins():
    assert best(playbook("pb-b"), playbook("pb-a")) == "pb-a"


def test_finally_the_higher_version_keeps_the_order_total():
    v1, v2 = playbook("pb-a", version=1), playbook("pb-a", version=2)
    assert min(v1, v2, key=rank_key) is v2


def test_unreadable_creation_time_ranks_as_oldest():
    assert best(playbook("a", created_at="garbage"), playbook("b", created_at="1970-01-01T00:00:00Z")) == "b"


def test_created_micros_keeps_sub_millisecond_order():
    assert created_micros("2026-01-01T00:00:00.000001Z") - created_micros("2026-01-01T00:00:00Z") == 1
    assert created_micros("1970-01-01T00:00:00Z") == 0


def test_deciding_factor_names_the_first_difference():
    base = rank_key(playbook("a", priority=1))
    assert deciding_factor(base, rank_key(playbook("a", priority=0))) == "priority"
    assert deciding_factor(base, rank_key(playbook("b", priority=1))) == "playbook_id"
    assert deciding_factor(base, base) is None
    assert RANK_FACTORS[0] == "priority"
