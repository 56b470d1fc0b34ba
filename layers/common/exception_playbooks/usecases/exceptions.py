"""Exceptions: create (idempotent by id), list, get, patch (re-matches), comments, timeline.

Every write is one TransactWriteItems of the exception item and its timeline events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..auth import CREATE_EXCEPTION, OPERATE, VIEW, Principal
from ..errors import Conflict, Problem, ValidationFailed
from ..execution import operations
from ..models.common import ID_PATTERN
from ..models.enums import ActorType, EventType, ExceptionStatus, Severity
from ..models.event import Actor, NewEvent
from ..models.exception import CommentCreate, ExceptionCreate, ExceptionPatch, ExceptionRecord
from ..observability import record as record_metric
from ..ports import iso, parse_iso
from ..repository.bundle import Repositories
from ..repository.exceptions import AlreadyExists, ExceptionFilters
from ..repository.idempotency import request_hash

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
EXCEPTION_ID_PREFIX = "EX-"
PATCHABLE_FIELDS: tuple[str, ...] = ("severity", "sla_deadline", "policy_tags", "summary")
# A change of one of these re-runs matching (API.md, PATCH), as recalculate does.
REMATCH_FIELDS = frozenset({"severity", "sla_deadline", "policy_tags"})
NOT_NULLABLE = frozenset({"severity", "policy_tags"})
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
    status: ExceptionStatus | None = None,
    domain: str | None = None,
    severity: Severity | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Newest first; filters match exactly (unknown values are refused by the caller's schema)."""
    principal.require(VIEW)
    _check_limit(limit)
    if domain is not None and not _DOMAIN.fullmatch(domain):
        raise ValidationFailed([Problem("domain", "is not a valid domain name")])
    filters = ExceptionFilters(
        status=status.value if status else None,
        domain=domain,
        severity=severity.value if severity else None,
    )
    page = repos.exceptions.list(principal.tenant_id, filters, limit, cursor)
    return {"items": [record.to_api() for record in page.items], "next_cursor": page.next_cursor}


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


@operations.retries_lost_races
def patch_exception(
    repos: Repositories, principal: Principal, exception_id: str, body: ExceptionPatch
) -> dict[str, Any]:
    """Change any of severity, sla_deadline, policy_tags, summary.

    A PATCH that changes nothing writes nothing. Otherwise one transaction: the item,
    ExceptionUpdated ``{changes: {field: {from, to}}}`` and, when severity, SLA or tags changed
    and the playbook has not completed, the re-match recalculate would do. A severity set here
    stands: rules and overrides no longer change it; so setting it is a change until a person
    has set it, even to its current value.
    """
    principal.require(OPERATE)
    fields = [name for name in PATCHABLE_FIELDS if name in body.model_fields_set]
    if not fields:
        raise ValidationFailed(
            [Problem("body", f"must set at least one of {', '.join(PATCHABLE_FIELDS)}")],
            "An empty PATCH changes nothing",
        )
    nulls = [
        Problem(name, "may not be null")
        for name in fields
        if name in NOT_NULLABLE and getattr(body, name) is None
    ]
    if nulls:
        raise ValidationFailed(nulls)
    tenant = principal.tenant_id
    # One BatchGetItem: the exception, the packs head and, when it may re-match, the catalogue stamps.
    current = operations.load_current(
        repos, tenant, exception_id, catalogue=bool(set(fields) & REMATCH_FIELDS)
    )
    record = current.record

    update: dict[str, Any] = {}
    changes: dict[str, dict[str, Any]] = {}
    for name in fields:
        new = _wire_value(name, getattr(body, name))
        old = getattr(record, name)
        # Taking the severity over from rules and overrides is a change even at the same value.
        pins = name == "severity" and not record.severity_set_by_human
        if _same(name, old, new) and not pins:
            continue
        update[name] = new
        changes[name] = {"from": _jsonable(old), "to": _jsonable(new)}
    if not changes:
        return record.to_api()
    if "severity" in update:
        update["severity_set_by_human"] = True

    actor = Actor(actor_type=ActorType.HUMAN, actor_id=principal.username)
    updated = record.model_copy(update=update)
    change = operations.Change(
        updated, [NewEvent(event_type=EventType.EXCEPTION_UPDATED, actor=actor, payload={"changes": changes})]
    )
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
