"""What every timeline agent shares: reads, one idempotent transaction, and the race retry.

Delivery is at-least-once, so each agent's writes for one trigger are made at most once by
putting, in the same transaction as its events and state change, a marker item keyed by
(agent, trigger event id) with ``attribute_not_exists``. A redelivered trigger re-plans, its
transaction is cancelled on the marker, and the agent returns quietly. Event ids are derived
from the trigger as well, so even the ids of what was written are stable across retries.

Budget (ARCHITECTURE.md): one read of the exception, at most one query, one transaction; packs
and playbook versions come from the warm caches of the repositories.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from .. import bus
from ..errors import Conflict
from ..execution.operations import Change, Current, load_current, stage_change
from ..models.enums import ActorType, EventType
from ..models.event import Actor, NewEvent
from ..models.exception import ExceptionRecord
from ..models.packs import PackSet
from ..models.playbook import PlaybookVersion
from ..observability import logger
from ..ports import deterministic_id, iso
from ..repository.agent_markers import AGENT_MARKER_LABEL
from ..repository.bundle import Repositories
from ..repository.dynamo import Transaction, TransactionCancelled, failed_labels
from ..repository.playbooks import UNREAD
from .envelope import Trigger

# Lost optimistic-lock races retried in-process before the invocation fails (and EventBridge
# retries it): another writer on one exception rarely wins more than once in a row.
MAX_ATTEMPTS = 4

# A chain of agent writes (each agent event triggering the next agent) is at most this deep; the
# natural chain (create -> triage -> policy -> resolution -> feedback) is 4. Deeper means a loop.
MAX_CHAIN_DEPTH = 8

Status = Literal["written", "already_handled", "ignored", "published"]


class MisroutedEvent(ValueError):
    """The agent received an event type its rule does not route to it (a configuration bug)."""


class RaceLost(Conflict):
    """Other writers kept changing the exception; nothing was written; EventBridge retries."""


def agent_rule(name: str) -> bus.AgentRule:
    for rule in bus.AGENTS:
        if rule.name == name:
            return rule
    raise LookupError(f"bus.AGENTS has no agent named {name!r}")


def agent_actor(name: str) -> Actor:
    return Actor(actor_type=ActorType.AGENT, actor_id=name)


@dataclass(frozen=True)
class Outcome:
    agent: str
    trigger_event_id: str
    status: Status
    event_types: tuple[str, ...] = ()
    reason: str | None = None
    attempts: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "trigger_event_id": self.trigger_event_id,
            "status": self.status,
            "event_types": list(self.event_types),
            "reason": self.reason,
            "attempts": self.attempts,
        }


@dataclass
class Plan:
    """What one attempt decided to write: a change (events + state), plus extra staged items."""

    change: Change
    extra: list[Callable[[Transaction], None]] = field(default_factory=list)


@dataclass(frozen=True)
class Skip:
    """Nothing to write for this trigger (e.g. a stale or irrelevant one)."""

    reason: str


class Reads:
    """The reads of one invocation: the exception is re-read per attempt, the rest only once."""

    def __init__(self, repos: Repositories, trigger: Trigger, *, matches: bool = False):
        self.repos = repos
        self.trigger = trigger
        self.matches = matches
        self._catalogue: dict[str, Any] | None = UNREAD
        self._current: Current | None = None
        self._packs: dict[str, PackSet] = {}
        self._candidates: dict[str, list[PlaybookVersion]] = {}

    def exception(self) -> ExceptionRecord:
        """The exception and the packs in force, in one read (re-read on every attempt); agents
        that match get the catalogue stamps in the same BatchGetItem."""
        current = load_current(
            self.repos, self.trigger.tenant_id, self.trigger.exception_id, catalogue=self.matches
        )
        self._current = current
        self._catalogue = current.catalogue  # UNREAD unless this agent matches
        return current.record

    def packs(self, domain: str) -> PackSet:
        current = self._current
        if current is not None and domain == current.record.domain:
            return current.packs  # in force at the generation read with the exception (on first use)
        if domain not in self._packs:  # only for a domain other than the exception's own
            self._packs[domain] = self.repos.packs.pack_set(self.trigger.tenant_id, domain)
        return self._packs[domain]

    def candidates(self, domain: str) -> list[PlaybookVersion]:
        # A lost race on the exception does not change the tenant's playbooks: query once.
        if domain not in self._candidates:
            self._candidates[domain] = self.repos.playbooks.candidates(
                self.trigger.tenant_id, domain, self._catalogue
            )
        return self._candidates[domain]

    def playbook(self, playbook_id: str, version: int) -> PlaybookVersion:
        return self.repos.playbooks.get_version(self.trigger.tenant_id, playbook_id, version)

    def now(self) -> datetime:
        return self.repos.clock()


class Agent(ABC):
    """An agent reacting to one timeline event with at most one transaction."""

    name: ClassVar[str]
    # Agents that match read the catalogue stamps with the exception (one BatchGetItem).
    matches: ClassVar[bool] = False

    def __init__(self, repos: Repositories, *, max_attempts: int = MAX_ATTEMPTS):
        self.repos = repos
        self.rule = self.own_rule()
        self.actor = agent_actor(self.name)
        self.max_attempts = max_attempts

    def own_rule(self) -> bus.AgentRule:
        """The triggers this agent handles (its entry of ``bus.AGENTS``)."""
        return agent_rule(self.name)

    @abstractmethod
    def plan(self, trigger: Trigger, reads: Reads) -> Plan | Skip:
        """Decide from fresh reads; called again after a lost race."""

    def new_reads(self, trigger: Trigger) -> Reads:
        return Reads(self.repos, trigger, matches=self.matches)

    def event(self, event_type: EventType, payload: dict[str, Any]) -> NewEvent:
        return NewEvent(event_type=event_type, actor=self.actor, payload=payload)

    def handle(self, trigger: Trigger) -> Outcome:
        if trigger.event_type not in self.rule.event_types:
            raise MisroutedEvent(f"{self.name} does not handle {trigger.event_type.value}")
        if trigger.chain_depth >= MAX_CHAIN_DEPTH:
            logger.warning("loop guard: not acting", extra={"chain_depth": trigger.chain_depth})
            return Outcome(
                self.name,
                trigger.event_id,
                "ignored",
                reason=f"loop guard: chain depth {trigger.chain_depth}",
            )
        reads = self.new_reads(trigger)
        last_error: Exception | None = None
        for attempt in range(1, self.max_attempts + 1):
            decision = self.plan(trigger, reads)
            if isinstance(decision, Skip):
                return Outcome(
                    self.name, trigger.event_id, "ignored", reason=decision.reason, attempts=attempt
                )
            transaction = self._stage(trigger, decision)
            try:
                self.repos.dynamo.commit(transaction)
            except TransactionCancelled as error:
                if marker_exists(error, transaction):
                    return Outcome(
                        self.name, trigger.event_id, "already_handled", reason="redelivery", attempts=attempt
                    )
                last_error = error  # the exception (or the stats item) changed since it was read
            except Conflict as error:
                last_error = error  # TransactionConflict: another transaction was on the same items
            else:
                types = tuple(e.event_type.value for e in decision.change.events)
                return Outcome(self.name, trigger.event_id, "written", types, attempts=attempt)
            logger.info("lost a race with another writer; re-reading", extra={"attempt": attempt})
        raise RaceLost(
            f"{self.name} lost {self.max_attempts} races on exception {trigger.exception_id}; nothing written"
        ) from last_error

    def _stage(self, trigger: Trigger, plan: Plan) -> Transaction:
        transaction = Transaction()
        # The marker goes first: whatever else fails with it, a redelivery is recognised.
        self.repos.agent_markers.stage(
            trigger.tenant_id,
            trigger.exception_id,
            self.name,
            trigger.event_id,
            iso(self.repos.clock()),
            transaction,
        )
        plan.change.events = [
            event.model_copy(update={"chain_depth": trigger.chain_depth + 1})
            for event in derive_event_ids(self.name, trigger.event_id, plan.change.events)
        ]
        stage_change(self.repos, trigger.tenant_id, plan.change, transaction)
        for stage in plan.extra:
            stage(transaction)
        return transaction


def marker_exists(error: TransactionCancelled, transaction: Transaction) -> bool:
    """Did the transaction fail because this trigger's marker is already there (a redelivery)?

    Only a failed *condition* proves it: a ``TransactionConflict`` on the marker means a duplicate
    delivery is committing right now and may still fail, so that case is retried like a race.
    """
    index = transaction.labels().index(AGENT_MARKER_LABEL)
    cause = error.__cause__
    response = getattr(cause, "response", None)
    reasons = response.get("CancellationReasons") if isinstance(response, dict) else None
    if isinstance(reasons, list) and index < len(reasons):
        return bool(reasons[index].get("Code") == "ConditionalCheckFailed")
    return AGENT_MARKER_LABEL in failed_labels(error, transaction)


def derive_event_ids(agent: str, trigger_event_id: str, events: list[NewEvent]) -> list[NewEvent]:
    """Stable ids: the same trigger always yields the same event ids, in order."""
    return [
        event.model_copy(update={"event_id": deterministic_id(agent, trigger_event_id, str(index))})
        for index, event in enumerate(events)
    ]


def playbook_ref(playbook: PlaybookVersion | None) -> dict[str, Any] | None:
    if playbook is None:
        return None
    return {"playbook_id": playbook.playbook_id, "version": playbook.version, "name": playbook.name}
