"""Impact of publishing a draft, tallied over real exceptions (pure; the use case reads them).

For each exception the real matcher runs twice on the same effective view: over the live
catalogue (*before*) and over the live catalogue with the draft in place of its base playbook
(*after*). An exception is *captured* when the draft wins after and something else (or nothing)
before, *released* when the base playbook won before and something else (or nothing) wins after.
A changed exception whose run has already moved (a step completed or skipped, or the run
completed) is *mid-run*: publishing never moves a run, so it stays pinned to its version (only an
explicit recalculate would move it, and never a completed one).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..models.enums import StepStatus
from ..models.exception import ExceptionRecord

if TYPE_CHECKING:
    from ..matching.engine import MatchResult

SAMPLE_LIMIT = 20


def is_mid_run(record: ExceptionRecord) -> bool:
    projection = record.projection
    if not projection.playbook_id:
        return False
    return projection.completed or any(step.status is not StepStatus.PENDING for step in projection.steps)


@dataclass
class ImpactTally:
    draft_playbook_id: str  # the id the draft carries while previewed (its base's, or a stand-in)
    base_playbook_id: str | None
    names: dict[str, str] = field(default_factory=dict)
    evaluated: int = 0
    matched: int = 0
    wins: int = 0
    unchanged: int = 0
    mid_run: int = 0
    captured_from: Counter[str | None] = field(default_factory=Counter)
    released_to: Counter[str | None] = field(default_factory=Counter)
    capture_samples: list[dict[str, Any]] = field(default_factory=list)
    release_samples: list[dict[str, Any]] = field(default_factory=list)
    match_samples: list[str] = field(default_factory=list)

    def add(self, record: ExceptionRecord, before: MatchResult, after: MatchResult) -> None:
        self.evaluated += 1
        draft = self.draft_playbook_id
        if any(playbook.playbook_id == draft for playbook in after.matched):
            self.matched += 1
            if len(self.match_samples) < SAMPLE_LIMIT:
                self.match_samples.append(record.exception_id)
        was = before.winner.playbook_id if before.winner else None
        now = after.winner.playbook_id if after.winner else None
        for result in (before, after):
            if result.winner is not None:
                self.names.setdefault(result.winner.playbook_id, result.winner.name)
        if now == draft:
            self.wins += 1
        if was == now:
            self.unchanged += 1
            return
        pinned = is_mid_run(record)
        self.mid_run += pinned
        sample = {"exception_id": record.exception_id, "from": was, "to": now, "mid_run": pinned}
        if now == draft:
            self.captured_from[was] += 1
            if len(self.capture_samples) < SAMPLE_LIMIT:
                self.capture_samples.append(sample)
        elif was == self.base_playbook_id:
            self.released_to[now] += 1
            if len(self.release_samples) < SAMPLE_LIMIT:
                self.release_samples.append(sample)

    def as_dict(self) -> dict[str, Any]:
        return {
            "evaluated": self.evaluated,
            "matched": self.matched,
            "would_win": self.wins,
            "unchanged": self.unchanged,
            "captured": {
                "count": sum(self.captured_from.values()),
                "by_playbook": self._breakdown(self.captured_from, "from"),
                "samples": self.capture_samples,
            },
            "released": {
                "count": sum(self.released_to.values()),
                "by_playbook": self._breakdown(self.released_to, "to"),
                "samples": self.release_samples,
            },
            "mid_run_pinned": self.mid_run,
            "matched_samples": self.match_samples,
        }

    def _breakdown(self, counts: Counter[str | None], side: str) -> list[dict[str, Any]]:
        rows = sorted(counts.items(), key=lambda item: (-item[1], item[0] or ""))
        return [
            {side: playbook_id, "name": self.names.get(playbook_id) if playbook_id else None, "count": count}
            for playbook_id, count in rows
        ]
