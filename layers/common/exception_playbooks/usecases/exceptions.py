"""Exceptions: create (idempotent by id), list, get, patch (re-matches), comments, timeline.

Every write is one TransactWriteItems of the exception item and its timeline events.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..auth import CREATE_EXCEPTION, OPERATE, VIEW, Principal
from ..errors import Conflict, Problem, ValidationFailed
from ..execution import operations
from ..execution.actions import change_status
from ..models.common import ID_PATTERN
from ..models.enums import ActorType, EventType, ExceptionStatus, Severity
from ..models.event import Actor, NewEvent
from ..models.exception import CommentCreate, ExceptionCreate, ExceptionPatch, ExceptionRecord, Owner
from ..observability import record as record_metric
from ..ports import iso, parse_iso
from ..repository.bundle import Repositories
from ..repository.exceptions import FINISHED_STATUSES, AlreadyExists, ExceptionFilters, ExceptionOrder
from ..repository.idempotency import request_hash

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
EXCEPTION_ID_PREFIX = "EX-"
UPDATED_FIELDS: tuple[str, ...] = ("severity", "sla_deadline", "policy_tags", "summary")
PATCHABLE_FIELDS: tuple[str, ...] = (*UPDATED_FIELDS, "owner", "status", "reason")
MAX_SEARCH_WORDS = 5
BREACHING_SOON_HOURS = 4
BREACHING_SOON = timedelta(hours=BREACHING_SOON_HOURS)
# A change of one of these re-runs matching (API.md, PATCH), as recalculate does.
REMATCH_FIELDS = frozenset({"severity", "sla_deadline", "policy_tags"})
NOT_NULLABLE = frozenset({"severity", "policy_tags", "status"})
_DOMAIN = re.compile(ID_PATTERN)


@dataclass(frozen=True)
class CreateResult:
    exception: dict[str, Any]
    created: bool  # False: an idempotent replay of the first create (200, not 201)


def actor_of(principal: Principal) -> Actor:
    """A person acts as a human; a machine client (automation only) writes as a system actor."""
    human = bool(principal.roles & OPERATE)
    return Actor(actor_type=ActorType.HUMAN if human else ActorType.SYSTEM, actor_id=principal.username)


def new_exception_id(repos: Repositories) -> str:
    """``EX-`` and twelve characters of a fresh id (its random part when the id is time-ordered)."""
    return EXCEPTION_ID_PREFIX + repos.ids()[-12:].upper()


def _deadline(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


# -- create -------------------------------------------------------------------------------------
def create_exception(repos: Repositories, principal: Principal, body: ExceptionCreate) -> CreateResult:
    """201 with the new record; 200 with the existing one when the same body is posted again
    under the same ``exception_id`` (compared with the first body, not the current record); 409
    for a different body. One TransactWriteItems: the item and its ExceptionCreated event."""
    principal.require(CREATE_EXCEPTION)
    tenant = principal.tenant_id
    normalized = body.model_dump(mode="json")
    body_hash = request_hash(normalized)
    exception_id = body.exception_id or new_exception_id(repos)
    now = iso(repos.clock())
    record = ExceptionRecord(
        exception_id=exception_id,
        domain=body.domain,
        exception_type=body.exception_type,
        severity=body.severity,
        given_severity=body.severity,
        status=ExceptionStatus.OPEN,
        source_system=body.source_system,
        summary=body.summary,
        sla_deadline=_deadline(body.sla_deadline),
        policy_tags=list(body.policy_tags),
        attributes=dict(body.attributes),
        raw_payload=body.raw_payload,
        created_at=now,
        updated_at=now,
        version=0,
        request_hash=body_hash,
    )
    event = NewEvent(
        event_type=EventType.EXCEPTION_CREATED,
        actor=actor_of(principal),
        payload={
            "domain": record.domain,
            "exception_type": record.exception_type,
            "severity": normalized["severity"],
            "source_system": record.source_system,
            "summary": record.summary,
            "sla_deadline": record.sla_deadline,
            "policy_tags": record.policy_tags,
        },
    )
    try:
        saved, _ = operations.commit_change(repos, tenant, operations.Change(record, [event]), is_new=True)
    except AlreadyExists:
        existing = repos.exceptions.get(tenant, exception_id)
        if existing is None:  # created and gone within one request: nothing sensible to replay
            raise Conflict(
                "Another change was committed first; retry", code="CONCURRENT_MODIFICATION"
            ) from None
        if existing.request_hash == body_hash:
            return CreateResult(existing.to_api(), created=False)
        raise Conflict(
            f"Exception {exception_id!r} already exists with a different body",
            code="EXCEPTION_EXISTS",
            details={"exception_id": exception_id},
        ) from None
    record_metric("ExceptionsCreated")
    return CreateResult(saved.to_api(), created=True)


# -- reads --------------------------------------------------------------------------------------
def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed([Problem("limit", f"must be between 1 and {MAX_LIMIT}")])


def list_exceptions(
    repos: Repositories,
    principal: Principal,
    *,
    status: ExceptionStatus | Sequence[ExceptionStatus] | None = None,
    domain: str | None = None,
    severity: Severity | Sequence[Severity] | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    sort: ExceptionOrder = ExceptionOrder.CREATED_AT,
    owner: str | None = None,
    unassigned: bool = False,
    search: str | None = None,
    sla_before: datetime | None = None,
    counts: bool = False,
) -> dict[str, Any]:
    """Newest first by default; filters match exactly (unknown values are refused by the
    caller's schema). Several statuses or severities match any of them. ``sort=sla_deadline``
    lists the open work only (not resolved or closed), soonest deadline first."""
    principal.require(VIEW)
    _check_limit(limit)
    problems: list[Problem] = []
    if domain is not None and not _DOMAIN.fullmatch(domain):
        problems.append(Problem("domain", "is not a valid domain name"))
    statuses = _values(status)
    if sort is ExceptionOrder.SLA_DEADLINE and set(statuses) & FINISHED_STATUSES:
        problems.append(
            Problem("status", "sort=sla_deadline lists open work only; resolved and closed are not in it")
        )
    if sla_before is not None and sort is not ExceptionOrder.SLA_DEADLINE:
        problems.append(Problem("sla_before", "is only allowed with sort=sla_deadline"))
    if owner is not None and unassigned:
        problems.append(Problem("owner", "cannot be combined with unassigned=true"))
    words = _search_words(search, problems)
    if problems:
        raise ValidationFailed(problems)
    filters = ExceptionFilters(
        statuses=statuses,
        domain=domain,
        severities=_values(severity),
        owner=owner,
        unassigned=unassigned,
        search=words,
        sla_before=iso(sla_before) if sla_before is not None else None,
    )
    page = repos.exceptions.list(principal.tenant_id, filters, limit, cursor, sort)
    answer: dict[str, Any] = {
        "items": [record.to_api() for record in page.items],
        "next_cursor": page.next_cursor,
    }
    if counts:
        answer["counts"] = queue_counts(repos, principal)
    return answer


def _values(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):  # one enum member (a StrEnum is a str)
        return (str(value),)
    return tuple(dict.fromkeys(str(item) for item in value))


def _search_words(search: str | None, problems: list[Problem]) -> str | None:
    """Lower-cased, whitespace-normalised search text; at most MAX_SEARCH_WORDS words."""
    if search is None:
        return None
    words = search.lower().split()
    if not words:
        return None
    if len(words) > MAX_SEARCH_WORDS:
        problems.append(Problem("q", f"may hold at most {MAX_SEARCH_WORDS} words"))
    return " ".join(words)


def queue_counts(repos: Repositories, principal: Principal) -> dict[str, Any]:
    """Counts of the saved views over the open work (not resolved or closed).

    One bounded read of the SLA index's open partition (owner and deadline only): exact up to
    MAX_COUNTED open exceptions, ``capped: true`` beyond.
    """
    principal.require(VIEW)
    rows, capped = repos.exceptions.open_queue(principal.tenant_id)
    soon = iso(repos.clock() + BREACHING_SOON)
    counts = {"open": 0, "mine": 0, "unassigned": 0, "breaching_soon": 0}
    for row in rows:
        owner = row.get("owner")
        counts["open"] += 1
        if not owner:
            counts["unassigned"] += 1
        elif owner.get("type") == "user" and owner.get("id") == principal.username:
            counts["mine"] += 1
        deadline = row.get("sla_deadline")
        if deadline and deadline < soon:
            counts["breaching_soon"] += 1
    return {**counts, "breaching_soon_hours": BREACHING_SOON_HOURS, "capped": capped}


def get_exception(repos: Repositories, principal: Principal, exception_id: str) -> dict[str, Any]:
    principal.require(VIEW)
    return operations.load_exception(repos, principal.tenant_id, exception_id).to_api()


def list_events(
    repos: Repositories,
    principal: Principal,
    exception_id: str,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    event_type: EventType | None = None,
) -> dict[str, Any]:
    """The timeline, oldest first. One Query; the exception is read only when the page is empty
    (every exception has at least its ExceptionCreated event), to answer 404 for a missing one."""
    principal.require(VIEW)
    _check_limit(limit)
    tenant = principal.tenant_id
    page = repos.exceptions.events(
        tenant, exception_id, limit, cursor, event_type.value if event_type else None
    )
    if not page.items and not cursor:
        operations.load_exception(repos, tenant, exception_id)  # 404 when it does not exist
    return {"items": [event.to_api() for event in page.items], "next_cursor": page.next_cursor}


# -- patch --------------------------------------------------------------------------------------
def _wire_value(name: str, value: Any) -> Any:
    if name == "sla_deadline":
        return _deadline(value)
    if name == "severity":
        return Severity(value) if value is not None else None
    if name == "policy_tags":
        return list(value)
    return value


def _same(name: str, old: Any, new: Any) -> bool:
    if name == "sla_deadline" and old is not None and new is not None:
        try:
            return parse_iso(old) == parse_iso(new)
        except ValueError:
            return False
    if name == "policy_tags":
        return set(old or []) == set(new or [])
    return bool(old == new)


def _jsonable(value: Any) -> Any:
    return value.value if isinstance(value, Severity) else value


def _check_patch(body: ExceptionPatch) -> list[str]:
    fields = [name for name in PATCHABLE_FIELDS if name in body.model_fields_set]
    if not fields:
        raise ValidationFailed(
            [Problem("body", f"must set at least one of {', '.join(PATCHABLE_FIELDS)}")],
            "An empty PATCH changes nothing",
        )
    problems = [
        Problem(name, "may not be null")
        for name in fields
        if name in NOT_NULLABLE and getattr(body, name) is None
    ]
    if body.status is not None and body.status.value in FINISHED_STATUSES and not body.reason:
        problems.append(Problem("reason", f"is required to set the status to {body.status.value}"))
    if "reason" in fields and fields == ["reason"]:
        problems.append(Problem("reason", "goes with a change (status, owner or a field), not alone"))
    if problems:
        raise ValidationFailed(problems)
    return [name for name in fields if name != "reason"]


def _field_changes(
    record: ExceptionRecord, body: ExceptionPatch, fields: list[str]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    update: dict[str, Any] = {}
    changes: dict[str, dict[str, Any]] = {}
    for name in fields:
        if name not in UPDATED_FIELDS:
            continue
        new = _wire_value(name, getattr(body, name))
        old = getattr(record, name)
        # Taking the severity over from rules and overrides is a change even at the same value.
        pins = name == "severity" and not record.severity_set_by_human
        if _same(name, old, new) and not pins:
            continue
        update[name] = new
        changes[name] = {"from": _jsonable(old), "to": _jsonable(new)}
    if "severity" in update:
        update["severity_set_by_human"] = True
    return update, changes


@operations.retries_lost_races
def patch_exception(
    repos: Repositories, principal: Principal, exception_id: str, body: ExceptionPatch
) -> dict[str, Any]:
    """Change any of severity, sla_deadline, policy_tags, summary; the owner; the status.

    A PATCH that changes nothing writes nothing. Otherwise one transaction: the item,
    ExceptionUpdated ``{changes: {field: {from, to}}}`` for the fields, OwnerAssigned for the
    owner, StatusChanged (a legal transition only, else 409) for the status, each with the
    ``reason`` when given, and, when severity, SLA or tags changed and the playbook has not
    completed, the re-match recalculate would do. A severity set here stands: rules and
    overrides no longer change it; so setting it is a change until a person has set it, even
    to its current value.
    """
    principal.require(OPERATE)
    fields = _check_patch(body)
    tenant = principal.tenant_id
    # One BatchGetItem: the exception, the packs head and, when it may re-match, the catalogue stamps.
    current = operations.load_current(
        repos, tenant, exception_id, catalogue=bool(set(fields) & REMATCH_FIELDS)
    )
    record = current.record
    actor = Actor(actor_type=ActorType.HUMAN, actor_id=principal.username)
    because = {"reason": body.reason} if body.reason else {}

    update, changes = _field_changes(record, body, fields)
    updated = record.model_copy(update=update)
    events: list[NewEvent] = []
    if changes:
        payload = {"changes": changes, **because}
        events.append(NewEvent(event_type=EventType.EXCEPTION_UPDATED, actor=actor, payload=payload))
    if "owner" in fields:
        owner = Owner(type=body.owner.type, id=body.owner.id) if body.owner is not None else None
        if owner != record.owner:
            previous = record.owner.model_dump() if record.owner else None
            assigned = {"owner": owner.model_dump() if owner else None, "previous": previous, **because}
            events.append(NewEvent(event_type=EventType.OWNER_ASSIGNED, actor=actor, payload=assigned))
            updated = updated.model_copy(update={"owner": owner})
    if body.status is not None and body.status is not record.status:
        updated, status_event = change_status(updated, body.status, actor, because)
        events.append(status_event)
    if not events:
        return record.to_api()

    change = operations.Change(updated, events)
    if changes.keys() & REMATCH_FIELDS and not record.projection.completed:
        result = operations.match(repos, tenant, updated, current.packs, current.catalogue)
        operations.plan_rematch(change, result, actor)
    saved, _ = operations.commit_change(repos, tenant, change)
    return saved.to_api()


# -- comments -----------------------------------------------------------------------------------
@operations.retries_lost_races
def add_comment(
    repos: Repositories, principal: Principal, exception_id: str, body: CommentCreate
) -> dict[str, Any]:
    """Append a CommentAdded event (with the item's version bump, atomically); returns the event."""
    principal.require(OPERATE)
    tenant = principal.tenant_id
    record = operations.load_exception(repos, tenant, exception_id)
    actor = Actor(actor_type=ActorType.HUMAN, actor_id=principal.username)
    change = operations.Change(
        record, [NewEvent(event_type=EventType.COMMENT_ADDED, actor=actor, payload={"text": body.text})]
    )
    _, timeline = operations.commit_change(repos, tenant, change)
    return timeline[0].to_api()
