"""Use cases on an exception's playbook run: status, assign, complete, skip, recalculate.

Each write is one transaction of state + timeline events with optimistic locking.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from .. import keys
from ..auth import Principal
from ..bounds import MAX_EVENT_REASONING_CHARS, bound_payload, truncate_text
from ..errors import Conflict, Forbidden, NotFound
from ..matching.effective import effective_view
from ..models.enums import ActorType, EventType, ExceptionStatus, Role, Severity
from ..models.event import SYSTEM_ACTOR, Actor, NewEvent, TimelineEvent
from ..models.exception import ExceptionRecord
from ..models.packs import PackSet
from ..models.playbook import PlaybookVersion, Step
from ..observability import record as record_metric
from ..ports import iso
from ..repository.bundle import Repositories
from ..repository.dynamo import Transaction, TransactionCancelled, failed_labels
from ..repository.idempotency import IDEMPOTENCY_LABEL, StoredResponse, request_hash, stored_response
from ..repository.packs import generation_of
from ..repository.playbooks import UNREAD
from . import actions, approval_events
from .approval import requires_approval, two_person_rule
from .projection import apply_to_record
from .templates import render_value

if TYPE_CHECKING:
    from ..matching.engine import MatchResult


@dataclass(frozen=True)
class StepCommand:
    actor_type: ActorType = ActorType.HUMAN
    actor_id: str | None = None
    notes: str | None = None
    override: bool = False  # skip only: an admin skips a ``skippable: false`` step

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "actor_type": self.actor_type.value,
            "actor_id": self.actor_id,
            "notes": self.notes,
        }
        if self.override:
            body["override"] = True
        return body


@dataclass
class Change:
    """A planned write: the new record and the events that explain it.

    Playbook run counters are not part of it: the stats consumer counts the committed events.
    """

    record: ExceptionRecord
    events: list[NewEvent] = field(default_factory=list)


# -- reading --------------------------------------------------------------------------------------
def load_exception(repos: Repositories, tenant_id: str, exception_id: str) -> ExceptionRecord:
    return _found(repos.exceptions.get(tenant_id, exception_id), exception_id)


def _found(record: ExceptionRecord | None, exception_id: str) -> ExceptionRecord:
    if record is None:
        raise NotFound(f"Exception {exception_id!r} was not found", code="EXCEPTION_NOT_FOUND")
    return record


@dataclass
class Current:
    """An exception read together with the tenant's packs-head generation (and, as asked, the
    catalogue stamps matching needs and a retried command's stored answer), all from one
    BatchGetItem. ``packs`` are the packs in force; ``catalogue`` goes to ``match``."""

    repos: Repositories
    tenant_id: str
    record: ExceptionRecord
    generation: int
    stored: StoredResponse | None = None
    # UNREAD (the sentinel itself, not a copy): not read with the exception
    catalogue: dict[str, Any] | None = field(default_factory=lambda: UNREAD)
    _packs: PackSet | None = None

    @property
    def packs(self) -> PackSet:
        """Cached packs when read under this generation, else one BatchGetItem (first use only)."""
        if self._packs is None:
            self._packs = self.repos.packs.current_pack_set(
                self.tenant_id, self.record.domain, self.generation
            )
        return self._packs


def load_current(
    repos: Repositories,
    tenant_id: str,
    exception_id: str,
    idempotency: tuple[str, str] | None = None,
    *,
    catalogue: bool = False,
) -> Current:
    """The exception, the tenant's packs-head generation and, as asked, the catalogue stamps
    (``catalogue=True``: the caller may match) and the Idempotency-Key record, in ONE
    BatchGetItem. Decisions (approval, tool allow-list, guardrails, matching) use
    ``Current.packs``: the policy in force when the decision is made, never a copy another
    write has replaced."""
    also = [keys.packs_head_key(tenant_id)]
    if catalogue:
        also.append(keys.catalogue_key(tenant_id))
    if idempotency is not None:
        also.append(keys.idempotency_key(tenant_id, *idempotency))
    record, items = repos.exceptions.get_with(tenant_id, exception_id, also)
    head, rest = items[0], iter(items[1:])
    current = Current(repos, tenant_id, _found(record, exception_id), generation_of(head))
    if catalogue:
        current.catalogue = next(rest)
    if idempotency is not None:
        current.stored = stored_response(next(rest), repos.clock())
    return current


def effective_severity(record: ExceptionRecord, packs: PackSet, repos: Repositories) -> Severity:
    return effective_view(record, packs, repos.clock()).severity


def status_view(
    record: ExceptionRecord,
    playbook: PlaybookVersion | None,
    packs: PackSet,
    severity: Severity | None,
    now: str | None = None,
) -> dict[str, Any]:
    """The status answer; ``now`` (ISO) marks a pending approval request that has run out."""
    projection = record.projection
    if playbook is None:
        return {
            "exception_id": record.exception_id,
            "playbook": None,
            "current_step": None,
            "completed": False,
            "steps": [],
        }
    states = {s.step_order: s for s in projection.steps}
    steps = []
    for step in playbook.steps:
        state = states.get(step.step_order)
        entry: dict[str, Any] = {
            "step_order": step.step_order,
            "name": step.name,
            "action_type": step.action_type.value,
            "params": step.params,
            "requires_approval": requires_approval(step, severity, packs),
            "skippable": step.skippable,
            "status": state.status.value if state else "pending",
            "preview": step_preview(record, step, packs, severity),
        }
        if state and state.actor_type:
            entry.update(
                actor_type=state.actor_type.value, actor_id=state.actor_id, at=state.at, notes=state.notes
            )
        if projection.approval is not None and projection.approval.step_order == step.step_order:
            entry["approval"] = approval_events.pending_view(projection.approval, now)
        steps.append(entry)
    return {
        "exception_id": record.exception_id,
        "playbook": playbook.summary_dict(),
        "current_step": projection.current_step,
        "completed": projection.completed,
        "steps": steps,
    }


def step_preview(
    record: ExceptionRecord, step: Step, packs: PackSet, severity: Severity | None
) -> dict[str, Any]:
    """The step's params with this exception's values filled in, as completing it would render
    them now (a missing value renders empty and is named), so no one reads template syntax."""
    rendered = render_value(step.params, actions.template_context(record, packs, step, severity))
    params = rendered.value if isinstance(rendered.value, dict) else {}
    return {"params": params, "missing": sorted(set(rendered.missing))}


def playbook_status(repos: Repositories, principal: Principal, exception_id: str) -> dict[str, Any]:
    record = load_exception(repos, principal.tenant_id, exception_id)
    return _status_of(repos, principal.tenant_id, record)


def _status_of(repos: Repositories, tenant_id: str, record: ExceptionRecord) -> dict[str, Any]:
    projection = record.projection
    if projection.playbook_id is None or projection.playbook_version is None:
        return status_view(record, None, PackSet(policy=repos.packs.policy(tenant_id)), None)
    playbook = repos.playbooks.get_version(tenant_id, projection.playbook_id, projection.playbook_version)
    packs = repos.packs.pack_set(tenant_id, record.domain)
    now = iso(repos.clock()) if projection.approval is not None else None
    return status_view(record, playbook, packs, effective_severity(record, packs, repos), now)


# -- writing --------------------------------------------------------------------------------------
def stage_change(
    repos: Repositories, tenant_id: str, change: Change, transaction: Transaction, *, is_new: bool = False
) -> tuple[ExceptionRecord, list[TimelineEvent]]:
    """Materialise events, fold them into the projection, and add all of it to ``transaction``.

    Every payload passes ``bounds.bound_payload`` here, the one door to the timeline: no event
    can outgrow an item or an EventBridge entry, whatever it carries (truncation is recorded)."""
    events = [event.model_copy(update={"payload": bound_payload(event.payload)}) for event in change.events]
    timeline = repos.exceptions.materialize(change.record, events)
    record = apply_to_record(change.record, timeline)
    saved = repos.exceptions.stage(tenant_id, record, timeline, transaction, is_new=is_new)
    return saved, timeline


def commit_change(
    repos: Repositories,
    tenant_id: str,
    change: Change,
    transaction: Transaction | None = None,
    *,
    is_new: bool = False,
) -> tuple[ExceptionRecord, list[TimelineEvent]]:
    """``stage_change`` and commit: one TransactWriteItems."""
    transaction = transaction or Transaction()
    saved, timeline = stage_change(repos, tenant_id, change, transaction, is_new=is_new)
    repos.exceptions.commit(transaction, is_new=is_new)
    return saved, timeline


def plan_start(change: Change, playbook: PlaybookVersion, actor: Actor, reason: str) -> None:
    """Assign ``playbook``: PlaybookStarted at step 1; an open exception moves to in_progress."""
    record = change.record
    if record.status is ExceptionStatus.OPEN:
        change.record = record.model_copy(update={"status": ExceptionStatus.IN_PROGRESS})
    change.events.append(
        NewEvent(
            event_type=EventType.PLAYBOOK_STARTED,
            actor=actor,
            payload={
                "playbook_id": playbook.playbook_id,
                "playbook_version": playbook.version,
                "playbook_name": playbook.name,
                "step_count": len(playbook.steps),
                "reason": truncate_text(reason, MAX_EVENT_REASONING_CHARS)[0],
            },
        )
    )


def plan_rematch(change: Change, result: MatchResult, actor: Actor) -> bool:
    """Recalculate's decision, shared by the endpoint, PATCH and the agents. True when it changes."""
    record = change.record
    current = record.projection.playbook_id
    winner = result.winner
    summary = result.summary  # not reasoning_dict(): explaining every candidate is the costly part
    if winner is None and current is None:
        return False
    if winner is not None and winner.playbook_id == current:
        return False  # same playbook: the run stays pinned to its version, progress kept
    change.events.append(
        NewEvent(
            event_type=EventType.PLAYBOOK_RECALCULATED,
            actor=actor,
            payload={
                "from": {"playbook_id": current, "playbook_version": record.projection.playbook_version}
                if current
                else None,
                "to": {"playbook_id": winner.playbook_id, "playbook_version": winner.version}
                if winner
                else None,
                "reasoning_summary": truncate_text(summary, MAX_EVENT_REASONING_CHARS)[0],
            },
        )
    )
    if winner is not None:
        plan_start(change, winner, actor, summary)
    return True


def match(
    repos: Repositories,
    tenant_id: str,
    record: ExceptionRecord,
    packs: PackSet,
    catalogue: dict[str, Any] | None = UNREAD,
) -> MatchResult:
    """Select among the candidate summaries; the winner comes back as its full version.

    ``catalogue``: the stamps read with the exception (``load_current(..., catalogue=True)``);
    read here if not.
    """
    from ..matching.engine import select_playbook  # lazily: status and execute never match

    candidates = repos.playbooks.candidates(tenant_id, record.domain, catalogue)
    result = select_playbook(record, candidates, packs, repos.clock())
    if result.winner is None:
        return result
    return dataclasses.replace(result, winner=repos.playbooks.full(tenant_id, result.winner))


# A write that lost an optimistic-lock race (an agent's suggestion landed between our read and
# our write) is re-run from a fresh read: the
# operation is re-validated, so two people acting on one step still get exactly one winner.
MAX_RACE_ATTEMPTS = 3

P = ParamSpec("P")
T = TypeVar("T")


def retries_lost_races(operation: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(operation)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(1, MAX_RACE_ATTEMPTS + 1):
            try:
                return operation(*args, **kwargs)
            except TransactionCancelled:
                if attempt == MAX_RACE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    return run


@retries_lost_races
def recalculate(repos: Repositories, principal: Principal, exception_id: str) -> dict[str, Any]:
    tenant = principal.tenant_id
    current = load_current(repos, tenant, exception_id, catalogue=True)
    record = current.record
    if record.projection.completed:
        raise Conflict(
            "The playbook on this exception is completed; it cannot be recalculated",
            code="PLAYBOOK_COMPLETED",
        )
    result = match(repos, tenant, record, current.packs, current.catalogue)
    change = Change(record)
    changed = plan_rematch(change, result, Actor(actor_type=ActorType.HUMAN, actor_id=principal.username))
    if changed:
        record, _ = commit_change(repos, tenant, change)
        record_metric("PlaybooksRecalculated")
    playbook = (
        repos.playbooks.get_version(tenant, record.projection.playbook_id, record.projection.playbook_version)
        if record.projection.playbook_id and record.projection.playbook_version
        else None
    )
    return {
        "exception_id": record.exception_id,
        "changed": changed,
        "playbook": playbook.summary_dict() if playbook else None,
        "current_step": record.projection.current_step,
        "reasoning": result.reasoning_dict(),
    }


def open_step_request(
    repos: Repositories,
    tenant: str,
    exception_id: str,
    scope: str,
    idempotency_key: str | None,
    body_hash: str,
) -> tuple[ExceptionRecord, dict[str, Any] | None]:
    """Read the exception (with the Idempotency-Key record when there is one): (record, replay)."""
    current, replay = open_step_current(repos, tenant, exception_id, scope, idempotency_key, body_hash)
    return current.record, replay


def open_step_current(
    repos: Repositories,
    tenant: str,
    exception_id: str,
    scope: str,
    idempotency_key: str | None,
    body_hash: str,
) -> tuple[Current, dict[str, Any] | None]:
    """The exception with the packs in force and the Idempotency-Key record, in ONE BatchGetItem."""
    current = load_current(repos, tenant, exception_id, (scope, idempotency_key) if idempotency_key else None)
    if current.stored is not None:
        return current, _replay(current.stored.request_hash, body_hash, current.stored.response)
    return current, None


def current_step_of(
    repos: Repositories, tenant: str, record: ExceptionRecord, step_order: int
) -> tuple[PlaybookVersion, Step]:
    """The playbook and ``step_order``'s step, which must be the next one to act on."""
    projection = record.projection
    if projection.playbook_id is None or projection.playbook_version is None:
        raise Conflict("No playbook is assigned to this exception", code="NO_PLAYBOOK")
    playbook = repos.playbooks.get_version(tenant, projection.playbook_id, projection.playbook_version)
    step = playbook.step(step_order)
    if step is None:  # existence (404) is checked before the actor (403): API.md's order
        raise NotFound(f"Step {step_order} does not exist in this playbook", code="STEP_NOT_FOUND")
    if projection.completed:
        raise Conflict("The playbook is already completed", code="PLAYBOOK_COMPLETED")
    if step_order != projection.current_step:
        done = step_order < (projection.current_step or 0)
        raise Conflict(
            f"Step {step_order} {'is already done' if done else 'is not the next step'}; the next step is "
            f"{projection.current_step}",
            code="STEP_OUT_OF_ORDER",
            details={"expected_step": projection.current_step},
        )
    return playbook, step


def commit_step_answer(
    repos: Repositories,
    tenant: str,
    change: Change,
    answer: Callable[[ExceptionRecord], dict[str, Any]],
    *,
    scope: str,
    idempotency_key: str | None,
    body_hash: str,
) -> tuple[ExceptionRecord, dict[str, Any]]:
    """One transaction of the change and (with a key) the remembered answer; a lost key race replays."""
    transaction = Transaction()
    saved, _ = stage_change(repos, tenant, change, transaction)
    response = answer(saved)
    if idempotency_key:
        repos.idempotency.stage(tenant, scope, idempotency_key, body_hash, response, transaction)
    try:
        repos.exceptions.commit(transaction)
    except TransactionCancelled as error:
        if idempotency_key and IDEMPOTENCY_LABEL in failed_labels(error, transaction):
            stored = repos.idempotency.get(tenant, scope, idempotency_key)
            if stored is not None:
                return saved, _replay(stored.request_hash, body_hash, stored.response)
        raise
    return saved, response


def step_payload(playbook: PlaybookVersion, step: Step, actor: Actor, notes: str | None) -> dict[str, Any]:
    return {
        "playbook_id": playbook.playbook_id,
        "playbook_version": playbook.version,
        "step_order": step.step_order,
        "step_name": step.name,
        "action_type": step.action_type.value,
        "actor_type": actor.actor_type.value,
        "actor_id": actor.actor_id,
        "notes": notes,
    }


def plan_perform(
    change: Change,
    playbook: PlaybookVersion,
    step: Step,
    packs: PackSet,
    actor: Actor,
    severity: Severity | None,
    notes: str | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Perform the step's action and complete it (then the playbook, after the last step)."""
    result = _perform(change.record, step, packs, actor, severity)
    outcome = result.summary(step.action_type)
    change.record = result.record
    change.events.append(
        NewEvent(
            event_type=EventType.PLAYBOOK_STEP_COMPLETED,
            actor=actor,
            payload={
                **step_payload(playbook, step, actor, notes),
                "result": outcome,
                "warnings": result.warnings,
                **(extra or {}),
            },
        )
    )
    change.events.extend(result.events)
    if step.step_order == len(playbook.steps):
        _plan_completion(change, playbook, packs)
    return outcome


@retries_lost_races
def act_on_step(
    repos: Repositories,
    principal: Principal,
    exception_id: str,
    step_order: int,
    command: StepCommand,
    *,
    skip: bool,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Complete or skip the current step (one read, one transaction)."""
    tenant = principal.tenant_id
    scope = f"{'skip' if skip else 'complete'}:{exception_id}:{step_order}"
    body_hash = request_hash(command.body())
    current, replay = open_step_current(repos, tenant, exception_id, scope, idempotency_key, body_hash)
    if replay is not None:
        return replay
    record = current.record
    _require_step(repos, tenant, record, step_order)  # 404 (existence) before 403 (actor)
    actor_type, actor_id = principal.resolve_actor(command.actor_type, command.actor_id)
    actor = Actor(actor_type=actor_type, actor_id=actor_id)

    playbook, step = current_step_of(repos, tenant, record, step_order)
    override = skip and command.override
    if override and not (Role.ADMIN in principal.roles and actor.actor_type is ActorType.HUMAN):
        raise Forbidden(
            "Only an admin acting as a human may override a step's skippable flag", code="FORBIDDEN_ROLE"
        )
    if skip and not step.skippable and not override:
        raise Conflict(
            f"Step {step_order} cannot be skipped",
            code="STEP_NOT_SKIPPABLE",
            details={"step_order": step_order, "how_to_continue": OVERRIDE_HINT},
        )
    packs = current.packs
    severity = effective_severity(record, packs, repos)
    if actor.actor_type is not ActorType.HUMAN and requires_approval(step, severity, packs):
        raise Forbidden(
            f"Step {step_order} needs human approval; only a human may act on it",
            code="APPROVAL_REQUIRED",
            details={"step_order": step_order},
        )

    change = Change(record)
    # The clock is read only when a two-person approval is involved (tenants that opted in).
    now = iso(repos.clock()) if record.projection.approval is not None else None
    approval_events.plan_expiry_if_due(change, now, refuse_pending=True)
    rule = None if skip else two_person_rule(step, severity, packs)
    if skip:
        outcome: dict[str, Any] = {"action_type": step.action_type.value, "outcome": "skipped", "detail": {}}
        change.events.append(
            NewEvent(
                event_type=EventType.PLAYBOOK_STEP_SKIPPED,
                actor=actor,
                payload={
                    **step_payload(playbook, step, actor, command.notes),
                    # an admin skipped a step its playbook marks unskippable
                    **({"override": True} if override and not step.skippable else {}),
                },
            )
        )
        if step_order == len(playbook.steps):
            _plan_completion(change, playbook, packs)
    elif rule is not None:
        # Refuse now what would be refused at the quorum (illegal status, unresolved payload...).
        _perform(record, step, packs, actor, severity)
        moment = repos.clock()
        now = iso(moment)
        outcome = approval_events.plan_request(change, playbook, step, actor, rule, command.notes, moment)
    else:
        outcome = plan_perform(change, playbook, step, packs, actor, severity, command.notes)

    saved, response = commit_step_answer(
        repos,
        tenant,
        change,
        # Actions change status and owner, never what the effective severity is computed from.
        lambda saved: {**status_view(saved, playbook, packs, severity, now), "action": outcome},
        scope=scope,
        idempotency_key=idempotency_key,
        body_hash=body_hash,
    )
    if rule is not None:
        record_metric("ApprovalsRequested")
    else:
        record_metric("StepsSkipped" if skip else "StepsCompleted")
    if saved.projection.completed:
        record_metric("PlaybooksCompleted")
    return response


OVERRIDE_HINT = (
    "skip the step with notes saying why; if the playbook marks it skippable: false, an admin may skip "
    'it with {"override": true}; or move the exception to a corrected playbook version (recalculate)'
)


def _perform(
    record: ExceptionRecord, step: Step, packs: PackSet, actor: Actor, severity: Severity | None
) -> actions.ActionResult:
    """Run the step's action; a refusal (409) says why and how the run can still go on."""
    try:
        return actions.perform(record, step, packs, actor, severity)
    except Conflict as error:
        details = {**(error.details or {}), "step_order": step.step_order, "how_to_continue": OVERRIDE_HINT}
        raise Conflict(error.message, code=error.code, details=details) from error


def _require_step(repos: Repositories, tenant: str, record: ExceptionRecord, step_order: int) -> None:
    projection = record.projection
    if projection.playbook_id is None or projection.playbook_version is None:
        return  # current_step_of answers 409 NO_PLAYBOOK
    playbook = repos.playbooks.get_version(tenant, projection.playbook_id, projection.playbook_version)
    if playbook.step(step_order) is None:
        raise NotFound(f"Step {step_order} does not exist in this playbook", code="STEP_NOT_FOUND")


def _plan_completion(change: Change, playbook: PlaybookVersion, packs: PackSet) -> None:
    change.events.append(
        NewEvent(
            event_type=EventType.PLAYBOOK_COMPLETED,
            actor=SYSTEM_ACTOR,
            payload={
                "playbook_id": playbook.playbook_id,
                "playbook_version": playbook.version,
                "step_count": len(playbook.steps),
            },
        )
    )
    if packs.policy.auto_resolve_on_completion:
        try:
            record, event = actions.change_status(
                change.record,
                ExceptionStatus.RESOLVED,
                SYSTEM_ACTOR,
                {"reason": "auto_resolve_on_completion"},
            )
        except Conflict:
            return  # not a legal transition from here: leave the status as it is
        change.record = record
        change.events.append(event)


def _replay(stored_hash: str, body_hash: str, response: dict[str, Any]) -> dict[str, Any]:
    if stored_hash != body_hash:
        raise Conflict(
            "This Idempotency-Key was used with a different request body", code="IDEMPOTENCY_KEY_REUSED"
        )
    return response
