"""Markers that make an agent's writes for one triggering event happen at most once."""

from __future__ import annotations

from .. import keys
from ..ports import Clock, system_clock
from .dynamo import Dynamo, Transaction

AGENT_MARKER_LABEL = "agent-marker"
# Kept longer than any redelivery path: EventBridge retries (6 h), DLQ retention (14 days) and
# the bus archive's replay window (30 days). Then TTL removes them.
MARKER_RETENTION_SECONDS = 35 * 24 * 3600


class AgentMarkerRepository:
    def __init__(self, dynamo: Dynamo, clock: Clock = system_clock):
        self.dynamo = dynamo
        self.clock = clock

    def seen(self, tenant_id: str, exception_id: str, agent: str, trigger_event_id: str) -> bool:
        key = keys.agent_marker_key(tenant_id, exception_id, agent, trigger_event_id)
        return self.dynamo.get(self.dynamo.state_table, key) is not None

    def stage(
        self,
        tenant_id: str,
        exception_id: str,
        agent: str,
        trigger_event_id: str,
        at: str,
        transaction: Transaction,
    ) -> None:
        transaction.put(
            self.dynamo.state_table,
            {
                **keys.agent_marker_key(tenant_id, exception_id, agent, trigger_event_id),
                "tenant_id": tenant_id,
                "handled_at": at,
                "expires_at": int(self.clock().timestamp()) + MARKER_RETENTION_SECONDS,
            },
            condition="attribute_not_exists(pk)",
            label=AGENT_MARKER_LABEL,
        )
