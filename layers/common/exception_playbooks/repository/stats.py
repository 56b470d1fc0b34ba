"""Per-playbook run statistics: counters moved inside the same transactions as the events."""

from __future__ import annotations

import math
from typing import Any

from .. import keys
from .dynamo import Dynamo, Transaction

MAX_DURATIONS = 500  # p90 over the most recent runs keeps the item small


class StatsRepository:
    def __init__(self, dynamo: Dynamo):
        self.dynamo = dynamo

    def stage_counters(
        self, tenant_id: str, playbook_id: str, transaction: Transaction, **counters: int
    ) -> None:
        names = {f"#{k}": k for k in counters}
        values = {f":{k}": v for k, v in counters.items()}
        expression = "ADD " + ", ".join(f"#{k} :{k}" for k in counters)
        transaction.update(
            self.dynamo.state_table,
            keys.playbook_stats_key(tenant_id, playbook_id),
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
        raw = self.get_raw(tenant_id, playbook_id)
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
