"""Per-playbook run statistics, kept off the operators' hot path.

``runs_started``, ``steps_completed`` and ``steps_skipped`` are added by the timeline consumer
(``agents.stats``) to one of ``COUNTER_SHARDS`` counter items per playbook (chosen by the
exception), so no operator's transaction touches them and busy consumers rarely meet.
``runs_completed`` and the durations live on the main STATS item, written by the FeedbackAgent.
Reading the stats is one Query of the playbook's partition (``STATS`` and ``STATS#nn``) that
sums every item (counters written on the main item by earlier versions are summed too).
"""

from __future__ import annotations

import math
import zlib
from typing import Any

from .. import keys
from .dynamo import Dynamo, Transaction

MAX_DURATIONS = 500  # p90 over the most recent runs keeps the item small
COUNTER_SHARDS = 8
_COUNTERS = ("runs_started", "runs_completed", "steps_completed", "steps_skipped", "duration_total")


def shard_for(exception_id: str) -> int:
    """A stable shard per exception (the same across processes: not Python's salted ``hash``)."""
    return zlib.crc32(exception_id.encode()) % COUNTER_SHARDS


class StatsRepository:
    def __init__(self, dynamo: Dynamo):
        self.dynamo = dynamo

    def stage_counters(
        self,
        tenant_id: str,
        playbook_id: str,
        transaction: Transaction,
        *,
        shard_of: str | None = None,
        **counters: int,
    ) -> None:
        """Add ``counters``: to the counter shard of exception ``shard_of``, or the main item."""
        names = {f"#{k}": k for k in counters}
        values = {f":{k}": v for k, v in counters.items()}
        expression = "ADD " + ", ".join(f"#{k} :{k}" for k in counters)
        key = (
            keys.playbook_stats_shard_key(tenant_id, playbook_id, shard_for(shard_of))
            if shard_of is not None
            else keys.playbook_stats_key(tenant_id, playbook_id)
        )
        transaction.update(
            self.dynamo.state_table,
            key,
            expression + " SET tenant_id = :tenant, playbook_id = :pb",
            names=names,
            values={**values, ":tenant": tenant_id, ":pb": playbook_id},
        )

    def stage_completion(
        self,
        tenant_id: str,
        playbook_id: str,
        duration_seconds: float,
        transaction: Transaction,
        *,
        current: dict[str, Any] | None = None,
    ) -> None:
        """Count a completed run and remember its duration (the newest MAX_DURATIONS are kept).

        ``current`` is the stats item as already read by the caller ({} when absent), which saves
        the read here; the condition below still guards against a concurrent completion.
        """
        if current is None:
            current = self.get_raw(tenant_id, playbook_id)
        durations = [*(current.get("durations") or []), round(duration_seconds, 3)][-MAX_DURATIONS:]
        seen = int(current.get("completions_seen", 0))
        transaction.update(
            self.dynamo.state_table,
            keys.playbook_stats_key(tenant_id, playbook_id),
            "ADD runs_completed :one, duration_total :d SET durations = :list, tenant_id = :tenant, "
            "playbook_id = :pb, completions_seen = :next",
            # Read-modify-write of the list: lose no duration to a concurrent completion.
            condition="attribute_not_exists(completions_seen) OR completions_seen = :seen",
            values={
                ":one": 1,
                ":d": duration_seconds,
                ":list": durations,
                ":tenant": tenant_id,
                ":pb": playbook_id,
                ":seen": seen,
                ":next": seen + 1,
            },
            label="stats",
        )

    def get_raw(self, tenant_id: str, playbook_id: str) -> dict[str, Any]:
        return self.dynamo.get(self.dynamo.state_table, keys.playbook_stats_key(tenant_id, playbook_id)) or {}

    def get(self, tenant_id: str, playbook_id: str) -> dict[str, Any]:
        items = self.dynamo.query_all(
            self.dynamo.state_table,
            key_condition="pk = :pk AND begins_with(sk, :stats)",
            values={":pk": keys.playbook_pk(tenant_id, playbook_id), ":stats": keys.STATS_SK},
        )
        raw: dict[str, Any] = {name: sum(float(i.get(name, 0)) for i in items) for name in _COUNTERS}
        main = next((i for i in items if i["sk"] == keys.STATS_SK), {})
        raw["durations"] = main.get("durations")
        durations = sorted(float(d) for d in raw.get("durations") or [])
        runs_completed = int(raw.get("runs_completed", 0))
        return {
            "playbook_id": playbook_id,
            "runs_started": int(raw.get("runs_started", 0)),
            "runs_completed": runs_completed,
            "steps_completed": int(raw.get("steps_completed", 0)),
            "steps_skipped": int(raw.get("steps_skipped", 0)),
            "mean_time_to_complete_seconds": (
                round(float(raw.get("duration_total", 0)) / runs_completed, 3) if runs_completed else None
            ),
            "p90_time_to_complete_seconds": _percentile(durations, 0.9),
        }


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]
