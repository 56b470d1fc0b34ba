"""local/sla_timer.py: the file-backed Scheduler survives a restart, and the timer fires due marks
through the SLA use cases, with the clock offset knob standing in for waiting."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from exception_playbooks import bus, config, keys
from exception_playbooks.repository.bundle import build_repositories
from exception_playbooks.repository.dynamo import Dynamo

from local.sla_timer import FileScheduler, OffsetClock, timer_for

from ..execution.world import TENANT
from ..support import START, SequentialIds, stored_items
from .test_sla_clock import DEADLINE, sla_world  # noqa: F401  (fixture)


def _events() -> list[dict[str, Any]]:
    items = stored_items(config.settings().events_table, keys.events_pk(TENANT, "EX-1"))
    return sorted(items, key=lambda item: item["seq"])


def test_the_file_scheduler_keeps_schedules_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "schedules.json"
    first = FileScheduler(path)
    first.put("a", START + timedelta(minutes=5), {"n": 1})
    first.put("b", START + timedelta(minutes=1), {"n": 2})
    first.put("a", START + timedelta(minutes=9), {"n": 3})  # moved
    first.delete("missing")

    again = FileScheduler(path)
    assert again.snapshot() == first.snapshot()
    assert again.snapshot()["a"] == {"at": "2026-01-05T09:09:00.000Z", "payload": {"n": 3}}
    assert again.take_due(START + timedelta(minutes=2)) == [("b", {"n": 2})]
    assert set(FileScheduler(path).snapshot()) == {"a"}


def test_the_timer_syncs_on_timeline_events_and_fires_with_the_offset(
    sla_world: Any,  # noqa: F811
    clients: tuple[Any, Any],
    tmp_path: Path,
) -> None:
    clock = OffsetClock(base=lambda: START)
    timer = timer_for(
        tmp_path, lambda: build_repositories(Dynamo(client=clients[0]), clock, SequentialIds("t")), clock
    )
    created = _events()[0]
    assert created["event_type"] == "ExceptionCreated"
    outcome = timer.observe(bus.envelope(TENANT, created))
    assert outcome is not None and len(outcome["put"]) == 3
    assert timer.observe(bus.envelope(TENANT, {**created, "event_type": "CommentAdded"})) is None

    clock.set_offset((DEADLINE - START - timedelta(minutes=15)).total_seconds())
    fired = timer.fire_due()
    assert [f["threshold"] if "threshold" in f else f["event_types"][0] for f in fired] == [
        "SlaWarning",
        "SlaWarning",
    ]
    types = [e["event_type"] for e in _events()]
    # Both warnings are late (the clock jumped): the first one re-matched, the second found no change.
    assert types.count("SlaWarning") == 2 and types.count("PlaybookStarted") == 2

    restarted = timer_for(tmp_path, timer.repositories, clock)  # a new process: same file
    assert len(restarted.scheduler.snapshot()) == 1
    clock.set_offset((DEADLINE - START + timedelta(seconds=1)).total_seconds())
    assert [f["event_types"][0] for f in restarted.fire_due()] == ["SlaBreached"]
    assert restarted.scheduler.snapshot() == {} and restarted.dead_letters == []
