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

A cold process does not query a partition item by item: it reads the partition's *bundle*, all its
summaries as positional JSON arrays compressed with zlib in one Binary attribute, labelled with the
stamp of the partition it was built from:

    candidate bundle T#{tenant}#CATALOGUE              | BUNDLE#{domain or ~any}

Both partitions' bundles come in one BatchGetItem. Every transaction that changes a partition's
summaries (publish, retire, draft publish) first reads the stamps and that partition's bundle,
then puts the bundle rewritten (labelled stamp + 1) and moves the stamp on condition that it is
still the stamp read: the bundle labelled with the current stamp holds exactly the current
summaries, and a concurrent change of the same partition cancels the later transaction. A reader
uses a bundle only when its label equals the stamp it read, and otherwise (summaries written
before the bundles, a corrupt bundle, one too large to write) queries the partition's summary
items. Bundles over ``MAX_CANDIDATE_BUNDLE_BYTES`` compressed are written without data (that
partition is queried), and inflating stops at ``MAX_CANDIDATE_BUNDLE_INFLATED_BYTES`` (a bundle
past it counts as missing): no zip bombs.
"""

from __future__ import annotations

import json
import zlib
from typing import Any, ClassVar

from .. import keys
from ..bounds import MAX_CANDIDATE_BUNDLE_BYTES, MAX_CANDIDATE_BUNDLE_INFLATED_BYTES
from ..models.enums import ActionType
from ..models.playbook import PlaybookVersion
from .dynamo import Dynamo, Transaction

STAMP_PREFIX = "stamp:"
# The stamp update in a publish transaction: failing alone, it means another publish into the
# same partition won the race (the publish is staged again from fresh reads).
CATALOGUE_LABEL = "catalogue-stamps"
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


# The summary fields a bundle keeps, in order (the keys and ``tenant_id`` are implied by the bundle).
_BUNDLE_FIELDS = ("playbook_id", "version", "name", "conditions", "created_at", "created_by", "skeleton")
BUNDLE_FORMAT = 1


def encode_bundle(items: list[dict[str, Any]]) -> bytes:
    """Summary items (as stored) -> one zlib-compressed JSON array of positional rows."""
    rows = [[item.get(field) for field in _BUNDLE_FIELDS] for item in items]
    return zlib.compress(json.dumps(rows, separators=(",", ":"), ensure_ascii=False).encode(), 9)


def decode_bundle(
    data: bytes, limit: int = MAX_CANDIDATE_BUNDLE_INFLATED_BYTES
) -> list[dict[str, Any]] | None:
    """The summary items of a bundle, or None when it is corrupt or inflates past ``limit`` bytes."""
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(data, limit)
    except zlib.error:
        return None
    if inflater.unconsumed_tail or not inflater.eof:
        return None  # past the bound (or truncated): never inflate further
    try:
        rows = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(rows, list) or not all(
        isinstance(r, list) and len(r) == len(_BUNDLE_FIELDS) for r in rows
    ):
        return None
    return [dict(zip(_BUNDLE_FIELDS, row, strict=True)) for row in rows]


def _bundle_bytes(value: Any) -> bytes:
    return bytes(getattr(value, "value", value) or b"")


def bundle_item(tenant_id: str, partition: str, stamp: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The bundle of ``partition`` holding ``items`` (summary items), labelled with ``stamp``."""
    data = encode_bundle(items)
    return {
        **keys.candidate_bundle_key(tenant_id, partition),
        "tenant_id": tenant_id,
        "stamp": stamp,
        "format": BUNDLE_FORMAT,
        "count": len(items),
        # too large to bundle: readers query the partition instead (the label still holds)
        "data": data if len(data) <= MAX_CANDIDATE_BUNDLE_BYTES else None,
    }


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
        summary = summary_item(tenant_id, playbook)
        transaction.put(table, summary)
        home = keys.domain_index_value(playbook.domain)
        partitions = {home}
        if previous is not None and keys.domain_index_value(previous.domain) not in partitions:
            transaction.delete(table, keys.candidate_key(tenant_id, previous.domain, playbook.playbook_id))
            partitions.add(keys.domain_index_value(previous.domain))
        self._stage_partitions(tenant_id, transaction, playbook.playbook_id, partitions, (home, summary))

    def stage_inactive(
        self, tenant_id: str, playbook_id: str, domain: str | None, transaction: Transaction
    ) -> None:
        transaction.delete(self.dynamo.state_table, keys.candidate_key(tenant_id, domain, playbook_id))
        self._stage_partitions(tenant_id, transaction, playbook_id, {keys.domain_index_value(domain)}, None)

    def _stage_partitions(
        self,
        tenant_id: str,
        transaction: Transaction,
        playbook_id: str,
        partitions: set[str],
        added: tuple[str, dict[str, Any]] | None,
    ) -> None:
        """Rewrite each partition's bundle without ``playbook_id`` (plus ``added`` in its partition)
        at stamp + 1, and move the stamps on condition that they are still the ones read here."""
        table = self.dynamo.state_table
        wanted = sorted(partitions)
        read = self.dynamo.batch_get(
            table,
            [keys.catalogue_key(tenant_id), *(keys.candidate_bundle_key(tenant_id, p) for p in wanted)],
        )
        catalogue = read[0] or {}
        names: dict[str, str] = {}
        values: dict[str, Any] = {":one": 1, ":tenant": tenant_id}
        held: list[str] = []
        for n, (partition, bundle) in enumerate(zip(wanted, read[1:], strict=True)):
            stamp = _stamp(catalogue, partition)
            names[f"#s{n}"] = stamp_attribute(partition)
            if stamp:
                values[f":was{n}"] = stamp
                held.append(f"#s{n} = :was{n}")
            else:
                held.append(f"attribute_not_exists(#s{n})")
            items = self._current_items(tenant_id, partition, stamp, bundle)
            items = [item for item in items if item.get("playbook_id") != playbook_id]
            if added is not None and added[0] == partition:
                items.append(added[1])
            items.sort(key=lambda item: str(item.get("playbook_id")))
            transaction.put(table, bundle_item(tenant_id, partition, stamp + 1, items))
        transaction.update(
            table,
            keys.catalogue_key(tenant_id),
            "ADD version :one, " + ", ".join(f"{name} :one" for name in names) + " SET tenant_id = :tenant",
            condition=" AND ".join(held),
            names=names,
            values=values,
            label=CATALOGUE_LABEL,
        )

    def rebuild(self, tenant_id: str, partition: str) -> None:
        """Write ``partition``'s bundle from its summaries at the current stamp, on condition that
        the stamp still holds (tenants whose summaries predate the bundles; bulk seeding)."""
        stamp = _stamp(self.read(tenant_id) or {}, partition)
        if stamp == 0:
            return
        transaction = Transaction()
        table = self.dynamo.state_table
        transaction.put(table, bundle_item(tenant_id, partition, stamp, self._query(tenant_id, partition)))
        transaction.update(
            table,
            keys.catalogue_key(tenant_id),
            "SET tenant_id = :tenant",
            condition="#s = :was",
            names={"#s": stamp_attribute(partition)},
            values={":tenant": tenant_id, ":was": stamp},
        )
        self.dynamo.commit(transaction)

    def _current_items(
        self, tenant_id: str, partition: str, stamp: int, bundle: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        """The partition's summary items at ``stamp``: its bundle when labelled so, else a Query."""
        if stamp == 0:
            return []
        if bundle is not None and int(bundle.get("stamp") or 0) == stamp and bundle.get("data") is not None:
            decoded = decode_bundle(_bundle_bytes(bundle["data"]))
            if decoded is not None:
                return decoded
        return self._query(tenant_id, partition)

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
        parts = self._partitions(tenant_id, {own: stamps[0], anywhere: stamps[1]})
        combined = [*parts[own], *parts[anywhere]]
        if len(_LISTS) >= _LIST_CACHE_LIMIT:
            _LISTS.clear()
        _LISTS[(tenant_id, own)] = (stamps, combined)
        return combined

    def _partitions(self, tenant_id: str, stamps: dict[str, int]) -> dict[str, tuple[PlaybookVersion, ...]]:
        """Each partition's summaries at its stamp: cached, else its bundle, else a Query."""
        found: dict[str, tuple[PlaybookVersion, ...]] = {}
        for partition, stamp in stamps.items():
            cached = _PARTS.get((tenant_id, partition))
            if stamp == 0:
                found[partition] = ()  # never written: nothing to read
            elif cached is not None and cached[0] == stamp:
                found[partition] = cached[1]
        stale = [p for p in stamps if p not in found]
        if not stale:
            return found
        table = self.dynamo.state_table
        bundles = self.dynamo.batch_get(table, [keys.candidate_bundle_key(tenant_id, p) for p in stale])
        for partition, bundle in zip(stale, bundles, strict=True):
            stamp = stamps[partition]
            summaries = tuple(
                summary_from_item(item) for item in self._current_items(tenant_id, partition, stamp, bundle)
            )
            if len(_PARTS) >= _PART_CACHE_LIMIT:
                _PARTS.clear()
            _PARTS[(tenant_id, partition)] = (stamp, summaries)
            found[partition] = summaries
        return found

    def _query(self, tenant_id: str, partition: str) -> list[dict[str, Any]]:
        return self.dynamo.query_all(
            self.dynamo.state_table,
            key_condition="pk = :pk",
            values={":pk": keys.candidates_pk(tenant_id, partition)},
            consistent=True,  # the stamp was read strongly; an older partition must not be cached under it
        )


def _stamp(catalogue: dict[str, Any], partition: str) -> int:
    return int(catalogue.get(stamp_attribute(partition)) or 0)
