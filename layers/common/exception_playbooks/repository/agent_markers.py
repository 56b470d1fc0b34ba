"""Markers that make an agent's writes for one triggering event happen at most once."""

from __future__ import annotations

from .. import keys
from .dynamo import Dynamo, Transaction

AGENT_MARKER_LABEL = "agent-marker"


class AgentMarkerRepository:
    def __init__(self, dynamo: Dynamo):
        self.dynamo = dynamo

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
            },
            condition="attribute_not_exists(pk)",
            label=AGENT_MARKER_LABEL,
        )
