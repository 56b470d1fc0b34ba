"""Exceptions (state table) and their timeline (events table), written together atomically."""

from __future__ import annotations

import builtins  # the ``list`` method below shadows the builtin in annotations
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .. import keys
from ..errors import Conflict
from ..models.event import NewEvent, TimelineEvent
from ..models.exception import ExceptionRecord
from ..ports import Clock, IdGenerator, iso, random_id, system_clock
from . import cursor as cursors
from .dynamo import Dynamo, Transaction, TransactionCancelled, failed_labels

# Full exception items, newest first: what bulk matching reads (``matching_reads``); the API's
# list reads the slim queue indexes below instead.
BY_TENANT_INDEX = "by_tenant"
EXCEPTION_LABEL = "exception"
_EVENT_KEY_TYPES: dict[str, type] = {"pk": str, "seq": int}


class ExceptionOrder(StrEnum):
    """The orders of the work queue; each one is served by its own slim index (no scans)."""

    CREATED_AT = "created_at"  # newest first (the contract's default)
    SEVERITY = "severity"  # most severe first, newest first within a severity
    SLA_DEADLINE = "sla_deadline"  # soonest deadline first; only exceptions still open


@dataclass(frozen=True)
class QueueIndex:
    name: str
    pk: str
    sk: str
    forward: bool


QUEUE_INDEXES: dict[ExceptionOrder, QueueIndex] = {
    ExceptionOrder.CREATED_AT: QueueIndex("queue_created", "gsi3pk", "gsi3sk", forward=False),
    ExceptionOrder.SEVERITY: QueueIndex("queue_severity", "gsi4pk", "gsi4sk", forward=False),
    ExceptionOrder.SLA_DEADLINE: QueueIndex("queue_sla", "gsi5pk", "gsi5sk", forward=True),
}
# Statuses that leave the work queue: such exceptions are not in the (sparse) SLA index.
FINISHED_STATUSES = frozenset({"resolved", "closed"})
# The attributes the queue indexes project: the API record without the playbook copy, the step
# projection or any other internal field, plus what the list filters on.
LIST_ATTRIBUTES: tuple[str, ...] = (
    *ExceptionRecord.API_FIELDS,
    "domain_key",
    "search_id",
    "search_summary",
)
# A filtered list reads at most this many index pages per request, then answers what it found
# with a next_cursor (a short page): a filter that matches nothing cannot make a request unbounded.
MAX_FILTERED_PAGES = 3
# Saved-view counts read at most this many open exceptions; beyond it they say ``capped``.
MAX_COUNTED = 200


@dataclass(frozen=True)
class ExceptionFilters:
    status: str | None = None
    domain: str | None = None
    severity: str | None = None
    statuses: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    owner: str | None = None  # a user id
    unassigned: bool = False
    search: str | None = None  # an exception id prefix or summary words (lower case)
    sla_before: str | None = None  # ISO time; SLA order only (a key condition)

    def all_statuses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*((self.status,) if self.status else ()), *self.statuses)))

    def all_severities(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*((self.severity,) if self.severity else ()), *self.severities)))

    def scope(self, order: ExceptionOrder) -> str:
        parts = (
            order.value,
            ",".join(sorted(self.all_statuses())),
            self.domain,
            ",".join(sorted(self.all_severities())),
            self.owner,
            self.unassigned,
            self.search,
            self.sla_before,
        )
        return "exceptions|" + "|".join(str(part) for part in parts)

    def expression(self) -> tuple[str | None, dict[str, str], dict[str, Any]]:
        """The FilterExpression (non-key conditions) with its names and values."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        clauses: list[str] = []

        def one_of(attribute: str, options: tuple[str, ...]) -> None:
            if not options:
                return
            names[f"#{attribute}"] = attribute
            placeholders = []
            for index, option in enumerate(options):
                values[f":{attribute}{index}"] = option
                placeholders.append(f":{attribute}{index}")
            clauses.append(f"#{attribute} IN ({', '.join(placeholders)})")

        one_of("status", self.all_statuses())
        one_of("severity", self.all_severities())
        if self.domain is not None:
            # Domains compare case-insensitively everywhere (matching, packs), so does the filter.
            names["#domain_key"] = "domain_key"
            values[":domain_key"] = self.domain.lower()
            clauses.append("#domain_key = :domain_key")
        if self.owner is not None:
            names.update({"#owner": "owner", "#owner_type": "type", "#owner_id": "id"})
            values.update({":owner_type": "user", ":owner_id": self.owner})
            clauses.append("#owner.#owner_type = :owner_type AND #owner.#owner_id = :owner_id")
        if self.unassigned:
            names["#owner"] = "owner"
            clauses.append("attribute_not_exists(#owner)")
        if self.search:
            names.update({"#search_id": "search_id", "#search_summary": "search_summary"})
            values[":search_id"] = self.search
            words = []
            for index, word in enumerate(self.search.split()):
                values[f":word{index}"] = word
                words.append(f"contains(#search_summary, :word{index})")
            clauses.append(f"(begins_with(#search_id, :search_id) OR ({' AND '.join(words)}))")
        return (" AND ".join(clauses) or None), names, values


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

    def list(
        self,
        tenant_id: str,
        filters: ExceptionFilters,
        limit: int,
        cursor: str | None,
        order: ExceptionOrder = ExceptionOrder.CREATED_AT,
    ) -> Page:
        """One order's slim index, filters applied server-side.

        Unfiltered: one Query of ``limit + 1`` items (a cursor only when another item exists).
        Filtered: at most MAX_FILTERED_PAGES Queries; when they run out before the page is full,
        the answer is the short page found so far and a cursor to go on from.
        """
        queue = QUEUE_INDEXES[order]
        by_sla = order is ExceptionOrder.SLA_DEADLINE
        list_pk = keys.queue_open_pk(tenant_id) if by_sla else keys.queue_pk(tenant_id)
        scope = filters.scope(order)
        start = cursors.decode(
            tenant_id,
            scope,
            cursor,
            key_types={"pk": str, "sk": str, queue.pk: str, queue.sk: str},
            partition={queue.pk: list_pk},
        )
        filter_expression, names, values = filters.expression()
        names = {**names, "#qpk": queue.pk}
        values = {**values, ":qpk": list_pk}
        key_condition = "#qpk = :qpk"
        if filters.sla_before is not None and by_sla:
            names["#qsk"] = queue.sk
            values[":before"] = keys.queue_sla_before(filters.sla_before)
            key_condition += " AND #qsk < :before"
        rows: list[dict[str, Any]] = []
        pages = 0
        while True:
            page, start = self.dynamo.query_page(
                self.dynamo.state_table,
                index=queue.name,
                key_condition=key_condition,
                values=values,
                names=names,
                filter_expression=filter_expression,
                limit=limit + 1 - len(rows) if filter_expression is None else limit + 1,
                start_key=start,
                forward=queue.forward,
            )
            pages += 1
            rows.extend(page)
            if len(rows) > limit or not start:
                break
            if filter_expression is not None and pages >= MAX_FILTERED_PAGES:
                break
        if len(rows) > limit:
            rows = rows[:limit]
            next_key: dict[str, Any] | None = _index_key(rows[-1], queue)
        else:
            next_key = start  # a short page of a bounded filtered read, or the end (None)
        return Page([_record(i) for i in rows], cursors.encode(tenant_id, scope, next_key))

    def open_queue(self, tenant_id: str) -> tuple[builtins.list[dict[str, Any]], bool]:
        """Owner and SLA deadline of up to MAX_COUNTED open exceptions (the saved-view counts),
        and whether more exist. Reads the SLA index's open partition, nothing else."""
        queue = QUEUE_INDEXES[ExceptionOrder.SLA_DEADLINE]
        rows: builtins.list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            page, start = self.dynamo.query_page(
                self.dynamo.state_table,
                index=queue.name,
                key_condition="#qpk = :qpk",
                names={"#qpk": queue.pk, "#owner": "owner", "#sla": "sla_deadline"},
                values={":qpk": keys.queue_open_pk(tenant_id)},
                projection="#owner, #sla",
                limit=MAX_COUNTED + 1 - len(rows),
                start_key=start,
            )
            rows.extend(page)
            if len(rows) > MAX_COUNTED or not start:
                return rows[:MAX_COUNTED], len(rows) > MAX_COUNTED

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
            **queue_attributes(tenant_id, saved),
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


def queue_keys(tenant_id: str, record: ExceptionRecord) -> dict[str, str]:
    """The queue indexes' keys of one exception; the SLA index holds only open work."""
    severity = record.severity.value if record.severity else None
    index_keys = {
        "gsi3pk": keys.queue_pk(tenant_id),
        "gsi3sk": keys.queue_created_sk(record.created_at, record.exception_id),
        "gsi4pk": keys.queue_pk(tenant_id),
        "gsi4sk": keys.queue_severity_sk(severity, record.created_at, record.exception_id),
    }
    if record.status.value not in FINISHED_STATUSES:
        index_keys["gsi5pk"] = keys.queue_open_pk(tenant_id)
        index_keys["gsi5sk"] = keys.queue_sla_sk(record.sla_deadline, record.exception_id)
    return index_keys


def queue_attributes(tenant_id: str, record: ExceptionRecord) -> dict[str, str | None]:
    """Everything the work queue reads besides the record: index keys and search/filter keys."""
    return {
        **queue_keys(tenant_id, record),
        "domain_key": record.domain.lower(),
        "search_id": record.exception_id.lower(),
        "search_summary": (record.summary or "").lower() or None,
    }


def _index_key(item: dict[str, Any], queue: QueueIndex) -> dict[str, Any]:
    return {k: item[k] for k in ("pk", "sk", queue.pk, queue.sk)}
