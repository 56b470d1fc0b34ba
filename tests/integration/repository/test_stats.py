"""StatsRepository against moto: counters moved in transactions, completion durations, p90."""

from __future__ import annotations

import pytest
from exception_playbooks.errors import Conflict
from exception_playbooks.repository.dynamo import Transaction
from exception_playbooks.repository.stats import MAX_DURATIONS, _percentile

from ..support import snapshot

TENANT = "acme"
OTHER = "globex"


def _count(repos, tenant=TENANT, playbook_id="pb-1", **counters):
    transaction = Transaction()
    repos.stats.stage_counters(tenant, playbook_id, transaction, **counters)
    repos.dynamo.commit(transaction)


def _complete(repos, seconds, tenant=TENANT, playbook_id="pb-1", current=None):
    transaction = Transaction()
    repos.stats.stage_completion(tenant, playbook_id, seconds, transaction, current=current)
    repos.dynamo.commit(transaction)


def test_no_stats_yet_answers_zeros_and_null_times(repos):
    assert repos.stats.get(TENANT, "pb-1") == {
        "playbook_id": "pb-1",
        "runs_started": 0,
        "runs_completed": 0,
        "steps_completed": 0,
        "steps_skipped": 0,
        "mean_time_to_complete_seconds": None,
        "p90_time_to_complete_seconds": None,
    }


def test_counters_add_up_across_transactions(repos):
    _count(repos, runs_started=1)
    _count(repos, steps_completed=2, steps_skipped=1)
    _count(repos, runs_started=1, steps_completed=1)
    stats = repos.stats.get(TENANT, "pb-1")
    assert (stats["runs_started"], stats["steps_completed"], stats["steps_skipped"]) == (2, 3, 1)
    assert stats["runs_completed"] == 0


def test_completion_durations_give_mean_and_nearest_rank_p90(repos):
    _count(repos, runs_started=10)
    for seconds in [30, 10, 20, 40, 50, 60, 70, 80, 90, 100.5]:
        _complete(repos, seconds)
    stats = repos.stats.get(TENANT, "pb-1")
    assert stats["runs_completed"] == 10
    assert stats["runs_started"] == 10
    assert stats["mean_time_to_complete_seconds"] == pytest.approx(55.05)
    assert stats["p90_time_to_complete_seconds"] == 90.0
    assert repos.stats.get_raw(TENANT, "pb-1")["completions_seen"] == 10


def test_a_single_completion(repos):
    _complete(repos, 12.3456)
    stats = repos.stats.get(TENANT, "pb-1")
    assert stats["mean_time_to_complete_seconds"] == 12.346
    assert stats["p90_time_to_complete_seconds"] == 12.346


def test_a_completion_staged_on_a_stale_read_conflicts_and_writes_nothing(repos, dynamodb):
    _complete(repos, 5)
    stale = {}  # read before the first completion
    before = snapshot(dynamodb)
    with pytest.raises(Conflict):
        _complete(repos, 7, current=stale)
    assert snapshot(dynamodb) == before
    _complete(repos, 7, current=repos.stats.get_raw(TENANT, "pb-1"))
    assert repos.stats.get(TENANT, "pb-1")["runs_completed"] == 2


def test_only_the_newest_durations_are_kept(repos):
    current = {"durations": list(range(MAX_DURATIONS)), "completions_seen": 0}
    transaction = Transaction()
    repos.stats.stage_completion(TENANT, "pb-1", 9999, transaction, current=current)
    durations = transaction.items[0].values[":list"]
    assert len(durations) == MAX_DURATIONS
    assert durations[0] == 1 and durations[-1] == 9999


def test_stats_are_per_tenant_and_per_playbook(repos):
    _count(repos, runs_started=3)
    _count(repos, playbook_id="pb-2", runs_started=1)
    _complete(repos, 10)
    assert repos.stats.get(OTHER, "pb-1")["runs_started"] == 0
    assert repos.stats.get(OTHER, "pb-1")["runs_completed"] == 0
    assert repos.stats.get(TENANT, "pb-2")["runs_started"] == 1
    _count(repos, tenant=OTHER, runs_started=5)
    assert repos.stats.get(TENANT, "pb-1")["runs_started"] == 3


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.9, None),
        ([1.0], 0.9, 1.0),
        ([1.0, 2.0], 0.9, 2.0),
        ([float(n) for n in range(1, 21)], 0.9, 18.0),
    ],
)
def test_percentile(values, fraction, expected):
    assert _percentile(values, fraction) == expected
