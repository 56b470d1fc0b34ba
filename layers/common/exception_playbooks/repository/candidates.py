"""Matching candidates addressed by key: slim summaries per domain and the tenant's catalogue stamps.

Matching needs, of every active playbook that can match, only its conditions, priority, version,
ids, name, ``created_at`` and, for the guardrails, the action type and tool of each step. Those
live in one small *summary* item per active playbook, in the partition of its domain (the
domain-less ones in their own partition), written in the same transaction as the playbook's
LATEST pointer. The steps are read only for the winner (an immutable version, cached forever).

    summary          T#{tenant}#CAND#{domain or ~any}  | {playbook_id}
    catalogue stamps T#{tenant}#CATALOGUE              | CATALOGUE

The catalogue item holds one counter per candidate partition (``stamp:{domain}``), moved by
every transaction that changes that partition, and ``version`` (every change). A warm Lambda keeps
each partition's summaries with the stamp they were read at: matching reads the (tiny) catalogue
item, in the same BatchGetItem as the exception, and queries a partition only when its stamp
moved; a partition whose stamp is 0 was never written and is known empty without a read.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .. import keys
from ..models.enums import ActionType
from ..models.playbook import PlaybookVersion
from .dynamo import Dynamo, Transaction

STAMP_PREFIX = "stamp:"
_PART_CACHE_LIMIT = 1024  # (tenant, partition) entries; cleared whole when full
_LIST_CACHE_LIMIT = 1024

# (tenant, partition) -> (stamp, summaries). Summaries are immutable; stamps only grow.
_PARTS: dict[tuple[str, str], tuple[int, tuple[PlaybookVersion, ...]]] = {}
# (tenant, domain key) -> ((domain stamp, any stamp), candidates): the same list object while the
# stamps hold, so the matching index (keyed by candidate identities) stays warm too.
_LISTS: dict[tuple[str, str], tuple[tuple[int, int], list[PlaybookVersion]]] = {}


def clear_cache() -> None:
    _PARTS.clear()
    _LISTS.clear()


class CandidateSummary(PlaybookVersion):
    """A playbook version as matching sees it: no step names or parameters, only step skeletons.

    ``steps`` hold each step's order and action type, and the ``tool_id`` of ``call_tool`` steps
    (what the guardrails check); everything else about the steps is in the full version.
    """

    summary_only: ClassVar[bool] = True


def stamp_attribute(partition: str) -> str:
    return f"{STAMP_PREFIX}{partition}"


def summary_item(tenant_id: str, playbook: PlaybookVersion) -> dict[str, Any]:
    skeleton = [
        [step.action_type.value, _tool(step.params) if step.action_type is ActionType.CALL_TOOL else None]
        for step in playbook.steps
    ]
    return {
        **keys.candidate_key(tenant_id, playbook.domain, playbook.playbook_id),
        "tenant_id": tenant_id,
        "playbook_id": playbook.playbook_id,
        "version": playbook.version,
        "name": playbook.name,
        "conditions": playbook.conditions.model_dump(mode="json"),
        "created_at": playbook.created_at,
        "created_by": playbook.created_by,
        "skeleton": skeleton,
    }


def _tool(params: dict[str, Any]) -> Any:
    return params.get("tool_id")


def summary_from_item(item: dict[str, Any]) -> CandidateSummary:
    steps = []
    for order, entry in enumerate(item.get("skeleton") or [], start=1):
        action, tool = [*entry, None][:2]
        steps.append(
            {
                "step_order": order,
                "name": "",
                "action_type": action,
                "params": {"tool_id": tool} if tool is not None else {},
            }
        )
    return CandidateSummary.model_validate({**item, "steps": steps, "active": True})


class CandidateCatalogue:
    """Writes the summaries and stamps (inside the playbook transactions) and reads them back."""

    def __init__(self, dynamo: Dynamo):
        self.dynamo = dynamo

    # -- writes (staged into the caller's transaction) -------------------------------------------
    def stage_active(
        self,
        tenant_id: str,
        playbook: PlaybookVersion,
        transaction: Transaction,
        previous: PlaybookVersion | None = None,
    ) -> None:
        """``playbook`` becomes its id's candidate; ``previous``'s summary in another partition goes."""
        table = self.dynamo.state_table
        transaction.put(table, summary_item(tenant_id, playbook))
        partitions = {keys.domain_index_value(playbook.domain)}
        if previous is not None and keys.domain_index_value(previous.domain) not in partitions:
            transaction.delete(table, keys.candidate_key(tenant_id, previous.domain, playbook.playbook_id))
            partitions.add(keys.domain_index_value(previous.domain))
        self._stage_bump(tenant_id, partitions, transaction)

    def stage_inactive(
        self, tenant_id: str, playbook_id: str, domain: str | None, transaction: Transaction
    ) -> None:
        transaction.delete(self.dynamo.state_table, keys.candidate_key(tenant_id, domain, playbook_id))
        self._stage_bump(tenant_id, {keys.domain_index_value(domain)}, transaction)

    def _stage_bump(self, tenant_id: str, partitions: set[str], transaction: Transaction) -> None:
        names = {f"#s{n}": stamp_attribute(p) for n, p in enumerate(sorted(partitions))}
        transaction.update(
            self.dynamo.state_table,
            keys.catalogue_key(tenant_id),
            "ADD version :one, " + ", ".join(f"{name} :one" for name in names) + " SET tenant_id = :tenant",
            names=names,
            values={":one": 1, ":tenant": tenant_id},
        )

    # -- reads -------------------------------------------------------------------------------------
    def read(self, tenant_id: str) -> dict[str, Any] | None:
        """The catalogue item (stamps), or None for a tenant whose playbooks predate it."""
        return self.dynamo.get(self.dynamo.state_table, keys.catalogue_key(tenant_id))

    def candidates(self, tenant_id: str, domain: str, catalogue: dict[str, Any]) -> list[PlaybookVersion]:
        """Summaries of the active playbooks for ``domain`` and the domain-less ones.

        Reads nothing when this process already holds both partitions at their current stamps;
        otherwise one strongly consistent Query per stale partition.
        """
        own, anywhere = keys.domain_index_value(domain), keys.domain_index_value(None)
        stamps = (_stamp(catalogue, own), _stamp(catalogue, anywhere))
        cached = _LISTS.get((tenant_id, own))
        if cached is not None and cached[0] == stamps:
            return cached[1]
        combined = [
            *self._partition(tenant_id, own, stamps[0]),
            *self._partition(tenant_id, anywhere, stamps[1]),
        ]
        if len(_LISTS) >= _LIST_CACHE_LIMIT:
            _LISTS.clear()
        _LISTS[(tenant_id, own)] = (stamps, combined)
        return combined

    def _partition(self, tenant_id: str, partition: str, stamp: int) -> tuple[PlaybookVersion, ...]:
        if stamp == 0:
            return ()  # never written: nothing to read
        cached = _PARTS.get((tenant_id, partition))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        items = self.dynamo.query_all(
            self.dynamo.state_table,
            key_condition="pk = :pk",
            values={":pk": keys.candidates_pk(tenant_id, partition)},
            consistent=True,  # the stamp was read strongly; an older partition must not be cached under it
        )
        summaries = tuple(summary_from_item(item) for item in items)
        if len(_PARTS) >= _PART_CACHE_LIMIT:
            _PARTS.clear()
        _PARTS[(tenant_id, partition)] = (stamp, summaries)
        return summaries


def _stamp(catalogue: dict[str, Any], partition: str) -> int:
    return int(catalogue.get(stamp_attribute(partition)) or 0)
