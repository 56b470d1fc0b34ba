"""Tenant policy pack and domain packs: each write is a new version; reads cached briefly."""

from __future__ import annotations

import time
from typing import Any

from .. import keys
from ..errors import Conflict
from ..models.packs import DomainPack, DomainPackInput, PackSet, PolicyPack, PolicyPackInput
from ..ports import Clock, iso, system_clock
from .dynamo import Dynamo, Transaction, TransactionCancelled

# Packs change rarely; a warm Lambda re-reads them at most every `pack_cache_seconds`.
_CACHE: dict[str, tuple[float, Any]] = {}


def clear_cache() -> None:
    _CACHE.clear()


class PackRepository:
    def __init__(self, dynamo: Dynamo, clock: Clock = system_clock):
        self.dynamo = dynamo
        self.clock = clock

    def policy(self, tenant_id: str, *, cached: bool = True) -> PolicyPack:
        """``cached=False`` reads the stored version (authoring must not see a stale copy)."""
        item = self._latest(keys.policy_pack_pk(tenant_id), cached=cached)
        return PolicyPack.model_validate(item) if item else PolicyPack()

    def domain(self, tenant_id: str, domain: str, *, cached: bool = True) -> DomainPack | None:
        item = self._latest(keys.domain_pack_pk(tenant_id, domain), cached=cached)
        return DomainPack.model_validate(item) if item else None

    def pack_set(self, tenant_id: str, domain: str) -> PackSet:
        return PackSet(policy=self.policy(tenant_id), domain=self.domain(tenant_id, domain))

    def put_policy(
        self, tenant_id: str, body: PolicyPackInput, *, expected_version: int | None = None
    ) -> PolicyPack:
        """Write the next version. ``expected_version`` (the version the author read) makes the
        write conditional: a pack changed since then is a Conflict rather than a lost update."""
        pack_pk = keys.policy_pack_pk(tenant_id)
        current = self._latest(pack_pk, cached=False)
        version = _next_version(current, expected_version)
        pack = PolicyPack(**body.model_dump(), version=version, updated_at=iso(self.clock()))
        self._write(pack_pk, pack.model_dump(mode="json"), version, tenant_id)
        return pack

    def put_domain(
        self, tenant_id: str, domain: str, body: DomainPackInput, *, expected_version: int | None = None
    ) -> DomainPack:
        pack_pk = keys.domain_pack_pk(tenant_id, domain)
        current = self._latest(pack_pk, cached=False)
        version = _next_version(current, expected_version)
        pack = DomainPack(
            **body.model_dump(),
            domain=(current or {}).get("domain", domain),
            version=version,
            updated_at=iso(self.clock()),
        )
        self._write(pack_pk, pack.model_dump(mode="json"), version, tenant_id)
        return pack

    def _write(self, pack_pk: str, body: dict[str, Any], version: int, tenant_id: str) -> None:
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
        try:
            self.dynamo.commit(transaction)
        except TransactionCancelled as error:
            raise Conflict("The pack changed concurrently; retry", code="CONCURRENT_MODIFICATION") from error
        _CACHE[pack_pk] = (time.monotonic(), body)

    def _latest(self, pack_pk: str, *, cached: bool = True) -> dict[str, Any] | None:
        now = time.monotonic()
        hit = _CACHE.get(pack_pk)
        if cached and hit and now - hit[0] < self.dynamo.config.pack_cache_seconds:
            return hit[1]
        item = self.dynamo.get(self.dynamo.state_table, keys.pack_latest_key(pack_pk))
        _CACHE[pack_pk] = (now, item)
        return item


def _next_version(current: dict[str, Any] | None, expected_version: int | None) -> int:
    stored = int((current or {}).get("version", 0))
    if expected_version is not None and expected_version != stored:
        raise Conflict(
            f"The pack is at version {stored}, not {expected_version}; reload it and reapply your change",
            code="VERSION_CONFLICT",
            details={"expected_version": expected_version, "current_version": stored},
        )
    return stored + 1
