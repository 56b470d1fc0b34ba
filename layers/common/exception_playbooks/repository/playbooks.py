"""Playbooks: immutable versions, a LATEST pointer per playbook, and the active-candidates index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import keys
from ..bounds import PLAYBOOK_CACHE_MAX_BYTES, PLAYBOOK_CACHE_MAX_ENTRIES, json_size
from ..cache import BoundedCache
from ..errors import Conflict, NotFound
from ..models.playbook import PlaybookVersion
from . import candidates as candidate_summaries
from .candidates import CATALOGUE_LABEL, CandidateCatalogue
from .dynamo import Dynamo, Transaction, TransactionCancelled, failed_labels

BY_TENANT_INDEX = "by_tenant"
PLAYBOOKS_INDEX = "playbooks"

# Versions are immutable, so a warm Lambda may keep them forever, keyed by (tenant, id, version):
# bounded by entries and bytes (docs/operations.md, "Bounds"), least recently used out first.
_VERSION_CACHE: BoundedCache[tuple[str, str, int], PlaybookVersion] = BoundedCache(
    PLAYBOOK_CACHE_MAX_ENTRIES, PLAYBOOK_CACHE_MAX_BYTES
)


def clear_cache() -> None:
    _VERSION_CACHE.clear()
    candidate_summaries.clear_cache()


# ``candidates(..., catalogue=UNREAD)``: read the catalogue stamps here (one GetItem).
UNREAD: dict[str, Any] = {}


def cache() -> BoundedCache[tuple[str, str, int], PlaybookVersion]:
    return _VERSION_CACHE


def _changed() -> Conflict:
    return Conflict("The playbook changed concurrently; reload and retry", code="CONCURRENT_MODIFICATION")


SAVE_ATTEMPTS = 3  # bounded: a stamp moves only when someone publishes into the same domain


class PlaybookRepository:
    def __init__(self, dynamo: Dynamo):
        self.dynamo = dynamo
        self.catalogue = CandidateCatalogue(dynamo)

    def get(self, tenant_id: str, playbook_id: str, version: int | None = None) -> PlaybookVersion:
        """The given version (cached) or the latest one (one read). NotFound if absent."""
        if version is not None:
            cached = _VERSION_CACHE.get((tenant_id, playbook_id, version))
            if cached is not None:
                return cached
            item = self.dynamo.get(
                self.dynamo.state_table, keys.playbook_version_key(tenant_id, playbook_id, version)
            )
        else:
            item = self.dynamo.get(self.dynamo.state_table, keys.playbook_latest_key(tenant_id, playbook_id))
        if not item:
            raise NotFound(f"Playbook {playbook_id!r} was not found", code="PLAYBOOK_NOT_FOUND")
        playbook = _playbook(item)
        self._remember(tenant_id, playbook, item)
        return playbook

    def get_version(self, tenant_id: str, playbook_id: str, version: int) -> PlaybookVersion:
        return self.get(tenant_id, playbook_id, version)

    def versions(self, tenant_id: str, playbook_id: str) -> list[dict[str, Any]]:
        """Version history headers (version, created_at, created_by, name), oldest first."""
        items = self.dynamo.query_all(
            self.dynamo.state_table,
            key_condition="pk = :pk AND begins_with(sk, :v)",
            values={":pk": keys.playbook_pk(tenant_id, playbook_id), ":v": "V#"},
        )
        return [{k: i.get(k) for k in ("version", "created_at", "created_by", "name")} for i in items]

    def list_latest(self, tenant_id: str) -> list[PlaybookVersion]:
        items = self.dynamo.query_all(
            self.dynamo.state_table,
            index=PLAYBOOKS_INDEX,
            key_condition="gsi2pk = :pk",
            values={":pk": keys.all_playbooks_pk(tenant_id)},
        )
        return [_playbook(i) for i in items]

    # -- matching candidates -----------------------------------------------------------------------
    def candidates(
        self, tenant_id: str, domain: str, catalogue: dict[str, Any] | None = UNREAD
    ) -> list[PlaybookVersion]:
        """The active playbooks for ``domain`` plus the domain-less ones, as matching needs them.

        Summaries addressed by key (``candidates.py``): no read at all when this process holds
        them at the stamps of ``catalogue`` (the item read with the exception; by default it is
        read here). A tenant without a catalogue item (data written before it existed) is served
        by the full-item query on ``by_tenant``, as before.
        """
        if catalogue is UNREAD:
            catalogue = self.catalogue.read(tenant_id)
        if catalogue is not None:
            return self.catalogue.candidates(tenant_id, domain, catalogue)
        return self._candidates_by_index(tenant_id, domain)

    def _candidates_by_index(self, tenant_id: str, domain: str) -> list[PlaybookVersion]:
        """Active latest versions for ``domain`` plus the domain-less ones: one filtered Query."""
        items = self.dynamo.query_all(
            self.dynamo.state_table,
            index=BY_TENANT_INDEX,
            key_condition="gsi1pk = :pk",
            filter_expression="pb_domain IN (:domain, :any)",
            values={
                ":pk": keys.active_playbooks_pk(tenant_id),
                ":domain": keys.domain_index_value(domain),
                ":any": keys.domain_index_value(None),
            },
        )
        result = []
        for item in items:
            playbook = _playbook(item)
            cached = _VERSION_CACHE.get((tenant_id, playbook.playbook_id, playbook.version))
            # Reuse the cached object so compiled conditions stay warm across invocations.
            result.append(cached if cached is not None and cached.active else playbook)
            if cached is None:
                self._remember(tenant_id, playbook, item)
        return result

    def full(self, tenant_id: str, playbook: PlaybookVersion) -> PlaybookVersion:
        """The complete version behind a candidate summary (cached forever; one read on a miss)."""
        if getattr(playbook, "summary_only", False):
            return self.get_version(tenant_id, playbook.playbook_id, playbook.version)
        return playbook

    # -- writes --------------------------------------------------------------------------------------
    def save_version(
        self, tenant_id: str, playbook: PlaybookVersion, previous: PlaybookVersion | None = None
    ) -> PlaybookVersion:
        """Write version N (1 for a new playbook) and move LATEST to it, atomically.

        The playbook's candidate summary moves with it (``previous`` is version N-1, read here
        when the caller does not pass it: its summary may sit in another domain's partition).
        """
        self.commit_catalogue_change(
            lambda transaction: self.stage_version(transaction, tenant_id, playbook, previous), _changed
        )
        return playbook

    def commit_catalogue_change(
        self, stage: Callable[[Transaction], None], conflict: Callable[[], Conflict]
    ) -> None:
        """Stage and commit a transaction that moves a catalogue stamp (publish, retire).

        Another author publishing into the same domain moves that stamp between our read and our
        write; staged again from fresh reads, that is no conflict. A real one (LATEST moved, the
        version exists, the draft changed) fails every attempt alike and answers ``conflict()``.
        """
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            transaction = Transaction()
            stage(transaction)
            try:
                self.dynamo.commit(transaction)
                return
            except TransactionCancelled as error:
                if attempt == SAVE_ATTEMPTS or not failed_labels(error, transaction) <= {CATALOGUE_LABEL}:
                    raise conflict() from error

    def stage_version(
        self,
        transaction: Transaction,
        tenant_id: str,
        playbook: PlaybookVersion,
        previous: PlaybookVersion | None = None,
    ) -> None:
        """Add version N, the LATEST move and the candidate summary to ``transaction`` (LATEST must
        still be at N-1). ``previous`` (version N-1) is read here when not given: its summary may
        sit in another domain's partition."""
        if previous is None and playbook.version > 1:
            try:
                previous = self.get(tenant_id, playbook.playbook_id)
            except NotFound:
                previous = None  # no version N-1: the LATEST condition refuses the write
        body = playbook.model_dump(mode="json")
        body["steps"] = [s.model_dump(mode="json") for s in playbook.steps]
        transaction.put(
            self.dynamo.state_table,
            {
                **body,
                **keys.playbook_version_key(tenant_id, playbook.playbook_id, playbook.version),
                "tenant_id": tenant_id,
            },
            condition="attribute_not_exists(pk)",
        )
        latest = {
            **body,
            **keys.playbook_latest_key(tenant_id, playbook.playbook_id),
            "tenant_id": tenant_id,
            "active": True,
            "gsi1pk": keys.active_playbooks_pk(tenant_id),
            "gsi1sk": keys.active_playbook_sk(playbook.domain, playbook.playbook_id),
            "pb_domain": keys.domain_index_value(playbook.domain),
            "gsi2pk": keys.all_playbooks_pk(tenant_id),
            "gsi2sk": playbook.playbook_id,
        }
        if playbook.version == 1:
            transaction.put(self.dynamo.state_table, latest, condition="attribute_not_exists(pk)")
        else:
            transaction.put(
                self.dynamo.state_table,
                latest,
                condition="version = :previous",
                values={":previous": playbook.version - 1},
            )
        self.catalogue.stage_active(tenant_id, playbook, transaction, previous)

    def deactivate(self, tenant_id: str, playbook_id: str) -> PlaybookVersion:
        """Drop the playbook from matching (it leaves the candidates); history stays.

        One read of LATEST, then one transaction: LATEST (guarded by the version read), its
        candidate summary and the catalogue stamp change together.
        """
        current = self.get(tenant_id, playbook_id)  # NotFound when absent

        def stage(transaction: Transaction) -> None:
            transaction.update(
                self.dynamo.state_table,
                keys.playbook_latest_key(tenant_id, playbook_id),
                "SET active = :false REMOVE gsi1pk, gsi1sk",
                condition="attribute_exists(pk) AND version = :version",
                values={":false": False, ":version": current.version},
            )
            self.catalogue.stage_inactive(tenant_id, playbook_id, current.domain, transaction)

        self.commit_catalogue_change(stage, _changed)
        return current.model_copy(update={"active": False})

    @staticmethod
    def _remember(tenant_id: str, playbook: PlaybookVersion, item: dict[str, Any]) -> None:
        # The parsed model takes a few times the item's JSON size in memory; count it that way.
        _VERSION_CACHE.put((tenant_id, playbook.playbook_id, playbook.version), playbook, 3 * json_size(item))


def _playbook(item: dict[str, Any]) -> PlaybookVersion:
    return PlaybookVersion.model_validate(item)
