"""The local stack's SLA clock: the Scheduler port on a file, and a timer thread that fires it.

* ``FileScheduler`` keeps one-time schedules (name -> when, payload) in a JSON file under the
  state directory, written atomically on every change: schedules survive restarts, as EventBridge
  Scheduler's do. A schedule fires once and is then deleted (``ActionAfterCompletion: DELETE``).
* ``SlaTimer`` is a daemon thread that fires due schedules through the same use cases the SLA
  function runs (``exception_playbooks.sla.entry.handle``), retrying a failure a few times and then
  keeping it as a dead letter; ``observe(envelope)`` syncs schedules on the timeline events the
  SLA function's bus rule receives in AWS (``bus.SLA_SYNC_RULE``).
* ``SLA_CLOCK_OFFSET_SECONDS`` (environment) or ``set_offset`` moves the timer's *and* the
  domain's clock forward, so a demo or a test can reach a threshold without waiting.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from exception_playbooks import bus
from exception_playbooks.ports import iso, parse_iso

log = logging.getLogger("local.sla_timer")

SCHEDULES_FILE = "sla-schedules.json"
OFFSET_ENV = "SLA_CLOCK_OFFSET_SECONDS"
MAX_ATTEMPTS = 3


class OffsetClock:
    """Wall-clock time plus an adjustable offset (the demo/test knob)."""

    def __init__(self, offset_seconds: float = 0.0, base: Callable[[], datetime] | None = None):
        self._offset = timedelta(seconds=offset_seconds)
        self._base = base or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> OffsetClock:
        env = os.environ if environ is None else environ
        return cls(float(env.get(OFFSET_ENV) or 0))

    def set_offset(self, seconds: float) -> None:
        with self._lock:
            self._offset = timedelta(seconds=seconds)

    @property
    def offset_seconds(self) -> float:
        return self._offset.total_seconds()

    def __call__(self) -> datetime:
        with self._lock:
            return self._base() + self._offset


class FileScheduler:
    """The Scheduler port on a JSON file (thread-safe; atomic rewrite on each change)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._schedules: dict[str, dict[str, Any]] = {}
        if path.exists():
            self._schedules = json.loads(path.read_text(encoding="utf-8"))

    def put(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        with self._lock:
            self._schedules[name] = {"at": iso(at), "payload": payload}
            self._save()

    def delete(self, name: str) -> None:
        with self._lock:
            if self._schedules.pop(name, None) is not None:
                self._save()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: dict(entry) for name, entry in self._schedules.items()}

    def take_due(self, now: datetime) -> list[tuple[str, dict[str, Any]]]:
        """Remove and return the schedules due at ``now``, earliest first."""
        with self._lock:
            due = sorted(
                (entry["at"], name)
                for name, entry in self._schedules.items()
                if parse_iso(entry["at"]) <= now
            )
            taken = [(name, self._schedules.pop(name)["payload"]) for _, name in due]
            if taken:
                self._save()
            return taken

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps(self._schedules, indent=1, sort_keys=True), encoding="utf-8")
        partial.replace(self.path)


@dataclass
class DeadLetter:
    name: str
    payload: dict[str, Any]
    error: str


@dataclass
class SlaTimer:
    """Fires due schedules every ``tick_seconds`` (or at once after ``wake``)."""

    scheduler: FileScheduler
    repositories: Callable[[], Any]
    clock: OffsetClock
    tick_seconds: float = 1.0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="local-sla-timer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5.0)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.fire_due()
            self._wake.wait(self.tick_seconds)
            self._wake.clear()

    def fire_due(self) -> list[dict[str, Any]]:
        """Fire everything due now (the thread's work; tests call it directly)."""
        from exception_playbooks.sla.entry import handle

        outcomes = []
        for name, payload in self.scheduler.take_due(self.clock()):
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    outcomes.append(handle(payload, self.repositories(), self.scheduler))
                    break
                except Exception as error:  # the use case's failure: retried, then a dead letter
                    if attempt == MAX_ATTEMPTS:
                        log.exception("SLA schedule %s failed %d times", name, attempt)
                        self.dead_letters.append(DeadLetter(name, payload, repr(error)))
        return outcomes

    def observe(self, envelope: dict[str, Any]) -> dict[str, Any] | None:
        """A committed timeline event (as the bus carries it): sync when it can move the clock."""
        from exception_playbooks.sla.entry import handle

        if not bus.matches(bus.SLA_SYNC_RULE.pattern, envelope):
            return None
        outcome = handle(envelope, self.repositories(), self.scheduler)
        self.wake()
        return outcome


def timer_for(state_dir: Path, repositories: Callable[[], Any], clock: OffsetClock | None = None) -> SlaTimer:
    return SlaTimer(
        scheduler=FileScheduler(state_dir / SCHEDULES_FILE),
        repositories=repositories,
        clock=clock or OffsetClock.from_env(),
    )
