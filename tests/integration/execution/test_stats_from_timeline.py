"""Stats off the hot path: operators' transactions never share an item across exceptions, and the
counters the StatsCounter keeps are exactly a fold of the committed timelines."""

from __future__ import annotations

import random
from typing import Any

import pytest
from exception_playbooks import bus
from exception_playbooks.agents import parse_trigger
from exception_playbooks.agents import stats as stats_counter
from exception_playbooks.errors import Conflict
from exception_playbooks.models.enums import EventType
from exception_playbooks.repository.stats import COUNTER_SHARDS, shard_for

from ..factories import playbook, step
from .world import OPERATOR, TENANT, assign, complete, create, events_of, skip

EXCEPTIONS = ("EX-1", "EX-2", "EX-3", "EX-4")


def _written_keys(repos: Any, monkeypatch: pytest.MonkeyPatch) -> list[set[tuple[str, Any]]]:
    """Record, per committed transaction, the (table, key) of every item it writes."""
    written: list[set[tuple[str, Any]]] = []
    original = repos.dynamo.commit

    def commit(transaction: Any) -> None:
        keys = set()
        for item in transaction.items:
            source = item.key if item.key is not None else item.item
            key = (source["pk"], source.get("sk", source.get("seq")))
            keys.add((item.table, key))
        written.append(keys)
        original(transaction)

    monkeypatch.setattr(repos.dynamo, "commit", commit)
    return written


@pytest.mark.parametrize("skip_step", [False, True])
def test_operators_on_different_exceptions_of_one_playbook_write_disjoint_items(
    world: Any, monkeypatch: pytest.MonkeyPatch, skip_step: bool
) -> None:
    """No shared item means no TransactionConflict and no lost optimistic-lock race between them."""
    create(world, "EX-2")
    written = _written_keys(world, monkeypatch)
    assign(world, "EX-1")
    assign(world, "EX-2")
    act = skip if skip_step else complete
    act(world, 1, exception_id="EX-1", notes="n")
    act(world, 1, exception_id="EX-2", notes="n")
    start_1, start_2, step_1, step_2 = written
    assert not (start_1 & start_2)
    assert not (step_1 & step_2)
    stats_pk = f"T#{TENANT}#PB#pb-settle"
    assert all(key[0] != stats_pk for keys in written for _, key in keys)  # no stats item at all


def test_completing_every_step_never_touches_the_stats(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    written = _written_keys(world, monkeypatch)
    assign(world, "EX-1")
    for order in range(1, 6):
        complete(world, order)
    assert len(written) == 6
    assert all("#PB#" not in key[0] for keys in written for _, key in keys)


def _deliver(repos: Any, events: list[Any]) -> list[str]:
    return [
        stats_counter.count(repos, parse_trigger(bus.envelope(TENANT, event.to_api()))).status
        for event in events
    ]


def _fold(repos: Any, playbook_id: str) -> dict[str, int]:
    """What the counters must be: counted from every timeline of the tenant."""
    counts = {"runs_started": 0, "steps_completed": 0, "steps_skipped": 0}
    for exception_id in EXCEPTIONS:
        for event in events_of(repos, exception_id):
            counter = stats_counter.COUNTERS.get(event.event_type)
            if counter and event.payload.get("playbook_id") == playbook_id:
                counts[counter] += 1
    return counts


@pytest.mark.parametrize("seed", range(4))
def test_stats_equal_a_fold_of_the_timeline_whatever_the_order_and_redeliveries(
    world: Any, seed: int
) -> None:
    rng = random.Random(seed)
    world.playbooks.save_version(
        TENANT,
        playbook(
            "pb-short",
            steps=[step(1, "add_comment", {"text": "a"}), step(2, "add_comment", {"text": "b"})],
            match={"domain": "Finance", "severity": "critical"},
        ),
    )
    for exception_id in EXCEPTIONS[1:]:
        create(world, exception_id)
    for _ in range(30):
        exception_id = rng.choice(EXCEPTIONS)
        record = world.exceptions.get(TENANT, exception_id)
        try:
            if record.projection.playbook_id is None or record.projection.completed:
                assign(world, exception_id, rng.choice(["pb-settle", "pb-short"]))
            else:
                act = skip if rng.random() < 0.3 else complete
                act(world, record.projection.current_step or 1, OPERATOR, exception_id, notes="n")
        except Conflict:
            pass  # e.g. a step that cannot be skipped: nothing was written

    counted = [
        event
        for exception_id in EXCEPTIONS
        for event in events_of(world, exception_id)
        if event.event_type in stats_counter.COUNTERS
    ]
    assert counted, "the sequence produced no counted event"
    deliveries = counted + rng.sample(counted, k=len(counted) // 3)  # at-least-once: some twice
    rng.shuffle(deliveries)
    outcomes = _deliver(world, deliveries)
    assert outcomes.count("written") == len(counted)
    assert outcomes.count("already_handled") == len(deliveries) - len(counted)

    for playbook_id in ("pb-settle", "pb-short"):
        stats = world.stats.get(TENANT, playbook_id)
        folded = _fold(world, playbook_id)
        assert {name: stats[name] for name in folded} == folded


def test_counters_spread_over_shards_by_exception() -> None:
    shards = {shard_for(f"EX-{n}") for n in range(200)}
    assert shards == set(range(COUNTER_SHARDS))
    assert shard_for("EX-7") == shard_for("EX-7")


def test_an_event_of_another_type_is_refused_and_one_without_a_playbook_ignored(world: Any) -> None:
    from exception_playbooks.agents import MisroutedEvent

    created = events_of(world)[0]
    assert created.event_type is EventType.EXCEPTION_CREATED
    with pytest.raises(MisroutedEvent):
        _deliver(world, [created])
    started = assign(world, "EX-1") and events_of(world)[-1]
    bare = started.model_copy(update={"payload": {}})
    assert _deliver(world, [bare]) == ["ignored"]
