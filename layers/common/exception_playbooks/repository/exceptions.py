"""Exceptions (state table) and their timeline (events table), written together atomically."""

from __future__ import annotations

import builtins  # the ``list`` method below shadows the builtin in annotations
from dataclasses import dataclass
from typing import Any

from .. import keys
from ..errors import Conflict
from ..models.event import NewEvent, TimelineEvent
from ..models.exception import ExceptionRecord
from ..ports import Clock, IdGenerator, iso, random_id, system_clock
from . import cursor as cursors
from .dynamo import Dynamo, Transaction, TransactionCancelled, failed_labels

BY_TENANT_INDEX = "by_tenant"
EXCEPTION_LABEL = "exception"
_LIST_KEY_TYPES: dict[str, type] = {"pk": str, "sk": str, "gsi1pk": str, "gsi1sk": str}
_EVENT_KEY_TYPES: dict[str, type] = {"pk": str, "seq": int}


@dataclass(frozen=True)
class ExceptionFilters:
    status: str | None = None
    domain: str | None = None
    severity: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


class AlreadyExists(Conflict):
    """Create found an exception with that id (the use case decides replay or conflict)."""


class ExceptionRepository:
    def __init__(self, dynamo: Dynamo, clock: Clock = system_clock, ids: IdGenerator = random_id):
        self.dynamo = dynamo
        self.clock = clock
        self.ids = ids

    # -- reads ---------------------------------------------------------------------------------
    def get(self, tenant_id: str, exception_id: str) -> ExceptionRecord | None:
        item = self.dynamo.get(self.dynamo.state_table, keys.exception_key(tenant_id, exception_id))
        return _record(item) if item else None

    def get_with(
        self, tenant_id: str, exception_id: str, also: builtins.list[dict[str, Any]]
    ) -> tuple[ExceptionRecord | None, builtins.list[dict[str, Any] | None]]:
        """The exception and other state-table items (``also``, in order) in one BatchGetItem.

        What a use case needs beside the exception comes in the same call: the packs head
        (``keys.packs_head_key``), the catalogue stamps (``keys.catalogue_key``), an
        Idempotency-Key record. ``also`` must hold tenant-prefixed keys of ``tenant_id``.
        """
        items = self.dynamo.batch_get(
            self.dynamo.state_table, [keys.exception_key(tenant_id, exception_id), *also]
        )
        return (_record(items[0]) if items[0] else None), items[1:]

    def list(self, tenant_id: str, filters: ExceptionFilters, limit: int, cursor: str | None) -> Page:
        """Newest first. Filters apply server-side; pages are filled up to ``limit``."""
        scope = f"exceptions|{filters.status}|{filters.domain}|{filters.severity}"
        list_pk = keys.exceptions_list_pk(tenant_id)
        start = cursors.decode(
            tenant_id, scope, cursor, key_types=_LIST_KEY_TYPES, partition={"gsi1pk": list_pk}
        )
        names: dict[str, str] = {}
        values: dict[str, Any] = {":pk": list_pk}
        clauses = []
        for name, value in (
            ("status", filters.status),
            # Domains compare case-insensitively everywhere (matching, packs), so does the filter.
            ("domain_key", filters.domain.lower() if filters.domain is not None else None),
            ("severity", filters.severity),
        ):
            if value is not None:
                names[f"#{name}"] = name
                values[f":{name}"] = value
                clauses.append(f"#{name} = :{name}")
        # Read one item past the page: a cursor is only handed out when another item exists.
        rows: list[dict[str, Any]] = []
        while True:
            page, start = self.dynamo.query_page(
                self.dynamo.state_table,
                index=BY_TENANT_INDEX,
                key_condition="gsi1pk = :pk",
                values=values,
                names=names or None,
                filter_expression=" AND ".join(clauses) or None,
                limit=limit + 1 - len(rows) if not clauses else max(limit + 1, 100),
                start_key=start,
                forward=False,
            )
            rows.extend(page)
            if len(rows) > limit or not start:
                break
        more = len(rows) > limit
        rows = rows[:limit]
        next_key = _index_key(rows[-1]) if more else None
        return Page([_record(i) for i in rows], cursors.encode(tenant_id, scope, next_key))

    def events(
        self, tenant_id: str, exception_id: str, limit: int, cursor: str | None, event_type: str | None = None
    ) -> Page:
        """Oldest first, optionally one type."""
        scope = f"events|{exception_id}|{event_type}"
        events_pk = keys.events_pk(tenant_id, exception_id)
        start = cursors.decode(
            tenant_id, scope, cursor, key_types=_EVENT_KEY_TYPES, partition={"pk": events_pk}
        )
        values: dict[str, Any] = {":pk": events_pk}
        filter_expression = None
        names = None
        if event_type:
            filter_expression = "#t = :t"
            names = {"#t": "event_type"}
            values[":t"] = event_type
        rows: list[dict[str, Any]] = []
        while True:
            page, start = self.dynamo.query_page(
                self.dynamo.events_table,
                key_condition="pk = :pk",
                values=values,
                names=names,
                filter_expression=filter_expression,
                limit=limit + 1 - len(rows) if not event_type else max(limit + 1, 100),
                start_key=start,
                consistent=True,
            )
            rows.extend(page)
            if len(rows) > limit or not start:
                break
        more = len(rows) > limit
        rows = rows[:limit]
        next_key = {"pk": rows[-1]["pk"], "seq": rows[-1]["seq"]} if more else None
        return Page(
            [TimelineEvent.model_validate(i) for i in rows], cursors.encode(tenant_id, scope, next_key)
        )

    def all_events(self, tenant_id: str, exception_id: str) -> builtins.list[TimelineEvent]:
        items = self.dynamo.query_all(
            self.dynamo.events_table,
            key_condition="pk = :pk",
            values={":pk": keys.events_pk(tenant_id, exception_id)},
            consistent=True,
        )
        return [TimelineEvent.model_validate(i) for i in items]

    # -- writes --------------------------------------------------------------------------------
    def materialize(
        self, record: ExceptionRecord, events: builtins.list[NewEvent]
    ) -> builtins.list[TimelineEvent]:
        """Give new events their ids, contiguous ``seq`` after ``record.last_seq`` and one timestamp."""
        now = iso(self.clock())
        return [
            TimelineEvent(
                event_id=event.event_id or self.ids(),
                seq=record.last_seq + offset,
                event_type=event.event_type,
                exception_id=record.exception_id,
                actor_type=event.actor.actor_type,
                actor_id=event.actor.actor_id,
                created_at=now,
                payload=event.payload,
                chain_depth=event.chain_depth,
            )
            for offset, event in enumerate(events, start=1)
        ]

    def stage(
        self,
        tenant_id: str,
        record: ExceptionRecord,
        timeline: builtins.list[TimelineEvent],
        transaction: Transaction,
        *,
        is_new: bool = False,
    ) -> ExceptionRecord:
        """Add "state change + its events" to ``transaction`` with optimistic locking.

        ``record`` is the new state whose ``version`` is still the version that was read
        (0 for a new exception). Returns the record as it will be once committed.
        """
        now = timeline[-1].created_at if timeline else iso(self.clock())
        expected = record.version
        saved = record.model_copy(
            update={
                "version": expected + 1,
                "updated_at": now,
                "created_at": now if is_new else record.created_at,
                "last_seq": record.last_seq + len(timeline),
            }
        )
        item = {
            **saved.model_dump(mode="json"),
            **keys.exception_key(tenant_id, saved.exception_id),
            "gsi1pk": keys.exceptions_list_pk(tenant_id),
            "gsi1sk": keys.exceptions_list_sk(saved.created_at, saved.exception_id),
            "domain_key": saved.domain.lower(),
            "tenant_id": tenant_id,
        }
        if is_new:
            transaction.put(
                self.dynamo.state_table, item, condition="attribute_not_exists(pk)", label=EXCEPTION_LABEL
            )
        else:
            transaction.put(
                self.dynamo.state_table,
                item,
                condition="version = :expected",
                values={":expected": expected},
                label=EXCEPTION_LABEL,
            )
        for event in timeline:
            transaction.put(
                self.dynamo.events_table,
                {
                    **event.model_dump(mode="json"),
                    "pk": keys.events_pk(tenant_id, saved.exception_id),
                    "tenant_id": tenant_id,
                    "chain_depth": event.chain_depth,
                },
                condition="attribute_not_exists(pk)",
                label="event",
            )
        return saved

    def commit(self, transaction: Transaction, *, is_new: bool = False) -> None:
        try:
            self.dynamo.commit(transaction)
        except TransactionCancelled as error:
            if is_new and EXCEPTION_LABEL in failed_labels(error, transaction):
                raise AlreadyExists("An exception with this id exists") from error
            raise


def _record(item: dict[str, Any]) -> ExceptionRecord:
    return ExceptionRecord.model_validate(item)


def _index_key(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in ("pk", "sk", "gsi1pk", "gsi1sk")}
