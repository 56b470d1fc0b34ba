"""Tenant policy pack and domain packs: each write is a new version.

Two ways to read them:

- ``current_pack_set``: for decisions (approval, tool allow-list, guardrails). The caller reads
  the tenant's packs *head* (a ``generation`` number every pack write increments in its own
  transaction) in the same BatchGetItem as the exception; cached packs are used only when they
  were read under that generation, else they are re-read (one BatchGetItem).
- ``policy`` / ``domain`` / ``pack_set``: for views (status, an ad hoc simulation), cached for
  ``pack_cache_seconds``; ``cached=False`` for authoring, which must never see a stale copy.

The cache is bounded by entries and bytes and keyed by what makes an entry valid: the pack's
key (tenant and domain) plus the generation it was read under, or its read time.
"""

from __future__ import annotations

import time
from typing import Any

from .. import keys
from ..bounds import PACK_CACHE_MAX_BYTES, PACK_CACHE_MAX_ENTRIES, json_size
from ..cache import BoundedCache
from ..errors import Conflict
from ..models.packs import DomainPack, DomainPackInput, PackSet, PolicyPack, PolicyPackInput
from ..ports import Clock, iso, system_clock
from .dynamo import Dynamo, Transaction, TransactionCancelled

Pack = PolicyPack | DomainPack | None
# (pack pk, "ttl") -> (read at, pack)   |   (pack pk, generation) -> (read at, pack)
_CACHE: BoundedCache[tuple[str, Any], tuple[float, Pack]] = BoundedCache(
    PACK_CACHE_MAX_ENTRIES, PACK_CACHE_MAX_BYTES
)
_TTL = "ttl"
HEAD_GENERATION = "generation"


def clear_cache() -> None:
    _CACHE.clear()


def cache() -> BoundedCache[tuple[str, Any], tuple[float, Pack]]:
    return _CACHE


def generation_of(head: dict[str, Any] | None) -> int:
    """The generation a packs-head item names (0: no pack written since heads exist)."""
    return int((head or {}).get(HEAD_GENERATION, 0))


class PackRepository:
    def __init__(self, dynamo: Dynamo, clock: Clock = system_clock):
        self.dynamo = dynamo
        self.clock = clock

    def policy(self, tenant_id: str, *, cached: bool = True) -> PolicyPack:
        """``cached=False`` reads the stored version (authoring must not see a stale copy)."""
        pack = self._latest(keys.policy_pack_pk(tenant_id), PolicyPack, cached=cached)
        return pack if isinstance(pack, PolicyPack) else PolicyPack()

    def domain(self, tenant_id: str, domain: str, *, cached: bool = True) -> DomainPack | None:
        pack = self._latest(keys.domain_pack_pk(tenant_id, domain), DomainPack, cached=cached)
        return pack if isinstance(pack, DomainPack) else None

    def pack_set(self, tenant_id: str, domain: str) -> PackSet:
        return PackSet(policy=self.policy(tenant_id), domain=self.domain(tenant_id, domain))

    def current_pack_set(self, tenant_id: str, domain: str, generation: int) -> PackSet:
        """The packs in force at ``generation`` (read with the exception): cached ones if they were
        read under it, else one BatchGetItem of the missing LATEST items."""
        wanted: dict[str, type[PolicyPack] | type[DomainPack]] = {
            keys.policy_pack_pk(tenant_id): PolicyPack,
            keys.domain_pack_pk(tenant_id, domain): DomainPack,
        }
        found: dict[str, Pack] = {}
        for pack_pk in wanted:
            hit = _CACHE.get((pack_pk, generation))
            if hit is not None:
                found[pack_pk] = hit[1]
        missing = [pk for pk in wanted if pk not in found]
        if missing:
            items = self.dynamo.batch_get(
                self.dynamo.state_table, [keys.pack_latest_key(pk) for pk in missing]
            )
            now = time.monotonic()
            for pack_pk, item in zip(missing, items, strict=True):
                pack = wanted[pack_pk].model_validate(item) if item else None
                found[pack_pk] = pack
                _CACHE.put((pack_pk, generation), (now, pack), _size(item))
                # A fresh read serves the views (status, simulate) for their TTL as well.
                _CACHE.put((pack_pk, _TTL), (now, pack), _size(item))
        policy = found[keys.policy_pack_pk(tenant_id)]
        domain_pack = found[keys.domain_pack_pk(tenant_id, domain)]
        return PackSet(
            policy=policy if isinstance(policy, PolicyPack) else PolicyPack(),
            domain=domain_pack if isinstance(domain_pack, DomainPack) else None,
        )

    def put_policy(
        self, tenant_id: str, body: PolicyPackInput, *, expected_version: int | None = None
    ) -> PolicyPack:
        """Write the next version. ``expected_version`` (the version the author read) makes the
        write conditional: a pack changed since then is a Conflict rather than a lost update."""
        pack_pk = keys.policy_pack_pk(tenant_id)
        current, generation = self._for_write(pack_pk, PolicyPack, tenant_id)
        version = _next_version(current, expected_version)
        pack = PolicyPack(**body.model_dump(), version=version, updated_at=iso(self.clock()))
        self._write(pack_pk, pack, tenant_id, generation)
        return pack

    def put_domain(
        self, tenant_id: str, domain: str, body: DomainPackInput, *, expected_version: int | None = None
    ) -> DomainPack:
        pack_pk = keys.domain_pack_pk(tenant_id, domain)
        current, generation = self._for_write(pack_pk, DomainPack, tenant_id)
        version = _next_version(current, expected_version)
        pack = DomainPack(
            **body.model_dump(),
            domain=current.domain if isinstance(current, DomainPack) else domain,
            version=version,
            updated_at=iso(self.clock()),
        )
        self._write(pack_pk, pack, tenant_id, generation)
        return pack

    def _for_write(
        self, pack_pk: str, model: type[PolicyPack] | type[DomainPack], tenant_id: str
    ) -> tuple[Pack, int]:
        """The stored LATEST (never cached) and the tenant's packs generation: one BatchGetItem."""
        latest, head = self.dynamo.batch_get(
            self.dynamo.state_table, [keys.pack_latest_key(pack_pk), keys.packs_head_key(tenant_id)]
        )
        return (model.model_validate(latest) if latest else None), generation_of(head)

    def _write(self, pack_pk: str, pack: PolicyPack | DomainPack, tenant_id: str, generation: int) -> None:
        body = pack.model_dump(mode="json")
        version = pack.version
        transaction = Transaction()
        transaction.put(
            self.dynamo.state_table,
            {**body, **keys.pack_version_key(pack_pk, version), "tenant_id": tenant_id},
            condition="attribute_not_exists(pk)",
        )
        latest = {**body, **keys.pack_latest_key(pack_pk), "tenant_id": tenant_id}
        if version == 1:
            transaction.put(self.dynamo.state_table, latest, condition="attribute_not_exists(pk)")
        else:
            transaction.put(
                self.dynamo.state_table,
                latest,
                condition="version = :previous",
                values={":previous": version - 1},
            )
        # Every pack write moves the tenant's generation: decisions notice it in their first read.
        transaction.update(
            self.dynamo.state_table,
            keys.packs_head_key(tenant_id),
            "SET #generation = :next, tenant_id = :tenant",
            condition="attribute_not_exists(#generation) OR #generation = :read",
            names={"#generation": HEAD_GENERATION},
            values={":next": generation + 1, ":read": generation, ":tenant": tenant_id},
        )
        try:
            self.dynamo.commit(transaction)
        except TransactionCancelled as error:
            raise Conflict("The pack changed concurrently; retry", code="CONCURRENT_MODIFICATION") from error
        now = time.monotonic()
        _CACHE.put((pack_pk, _TTL), (now, pack), _size(body))
        _carry_forward(tenant_id, generation)
        _CACHE.put((pack_pk, generation + 1), (now, pack), _size(body))

    def _latest(
        self, pack_pk: str, model: type[PolicyPack] | type[DomainPack], *, cached: bool = True
    ) -> Pack:
        now = time.monotonic()
        hit = _CACHE.get((pack_pk, _TTL))
        if cached and hit and now - hit[0] < self.dynamo.config.pack_cache_seconds:
            return hit[1]
        item = self.dynamo.get(self.dynamo.state_table, keys.pack_latest_key(pack_pk))
        pack = model.model_validate(item) if item else None
        _CACHE.put((pack_pk, _TTL), (now, pack), _size(item))
        return pack


def _size(item: dict[str, Any] | None) -> int:
    return json_size(item) if item else 64


def _next_version(current: Pack, expected_version: int | None) -> int:
    stored = current.version if current is not None else 0
    if expected_version is not None and expected_version != stored:
        raise Conflict(
            f"The pack is at version {stored}, not {expected_version}; reload it and reapply your change",
            code="VERSION_CONFLICT",
            details={"expected_version": expected_version, "current_version": stored},
        )
    return stored + 1


def _carry_forward(tenant_id: str, generation: int) -> None:
    """This process wrote generation + 1 itself: its other packs read under ``generation`` are
    still the ones in force (only the written pack changed), so they stay valid under the next."""
    prefix = keys.tenant_prefix(tenant_id)
    for (pack_pk, seen), value in _CACHE.items():
        if seen == generation and pack_pk.startswith(prefix):
            _CACHE.put((pack_pk, generation + 1), value, _CACHE.size_of((pack_pk, seen)))
