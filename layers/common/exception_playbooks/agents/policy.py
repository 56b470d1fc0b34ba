"""PolicyAgent: assign the best playbook that respects the tenant policy, or record why not.

Triggered by TriageCompleted. Matching runs again here, with guardrails, over the current
candidates and the current exception (an operator or a PATCH may have moved on since triage).
Assigning writes PolicyEvaluated and PlaybookStarted with the state change in one transaction.
An exception that already has a playbook (an operator was faster, or a PATCH re-matched) or
whose playbook completed is left alone: the decision is recorded, nothing else changes.
"""

from __future__ import annotations

from typing import Any

from ..bounds import MAX_EVENT_REASONING_CHARS, cap_list, truncate_text
from ..execution.operations import Change, plan_start
from ..matching.engine import MatchResult, select_playbook
from ..models.enums import EventType
from ..models.exception import ExceptionRecord
from .base import Agent, Plan, Reads, Skip, playbook_ref
from .envelope import Trigger

ASSIGNED = "assigned"
NO_COMPLIANT_PLAYBOOK = "no_compliant_playbook"
ALREADY_ASSIGNED = "already_assigned"
COMPLETED = "completed"
MAX_VIOLATIONS_PER_PLAYBOOK = 10


class PolicyAgent(Agent):
    name = "PolicyAgent"
    matches = True

    def plan(self, trigger: Trigger, reads: Reads) -> Plan | Skip:
        record = reads.exception()
        common = {
            "trigger_event_id": trigger.event_id,
            "suggested_playbook": trigger.payload.get("suggested_playbook"),
        }
        if record.projection.playbook_id is not None:
            # Checked before any query: nothing to match when the run is already decided.
            decision = COMPLETED if record.projection.completed else ALREADY_ASSIGNED
            return self._record_only(record, decision, {**common, "playbook": _current(record, reads)})

        packs = reads.packs(record.domain)
        result = select_playbook(record, reads.candidates(record.domain), packs, reads.now())
        winner = result.winner
        violations, omitted = cap_list(_violations(result))
        payload = {
            **common,
            "decision": ASSIGNED if winner else NO_COMPLIANT_PLAYBOOK,
            "playbook": playbook_ref(winner),
            "violations": violations,
            "reasoning_summary": truncate_text(result.summary, MAX_EVENT_REASONING_CHARS)[0],
        }
        if omitted:  # the decision is always recorded; the list says how much it left out
            payload["violations_omitted"] = omitted
        change = Change(record)
        change.events.append(self.event(EventType.POLICY_EVALUATED, payload))
        if winner is not None:
            plan_start(change, winner, self.actor, result.summary)
        return Plan(change)

    def _record_only(self, record: ExceptionRecord, decision: str, payload: dict[str, Any]) -> Plan:
        playbook = payload.get("playbook") or {}
        label = f"'{playbook.get('name')}' ({playbook.get('playbook_id')} v{playbook.get('version')})"
        summary = (
            f"The playbook {label} on this exception is completed; nothing was changed."
            if decision == COMPLETED
            else f"A playbook is already assigned: {label}; nothing was changed."
        )
        change = Change(record)
        change.events.append(
            self.event(
                EventType.POLICY_EVALUATED,
                {**payload, "decision": decision, "violations": [], "reasoning_summary": summary},
            )
        )
        return Plan(change)


def _current(record: ExceptionRecord, reads: Reads) -> dict[str, Any] | None:
    projection = record.projection
    if projection.playbook_id is None or projection.playbook_version is None:
        return None
    # Versions are immutable and cached forever: a warm agent pays no read for the name.
    return playbook_ref(reads.playbook(projection.playbook_id, projection.playbook_version))


def _violations(result: MatchResult) -> list[dict[str, Any]]:
    """The matches ranked above the winner that the tenant policy ruled out, and why."""
    return [
        {
            "playbook_id": item.playbook.playbook_id,
            "version": item.playbook.version,
            "name": item.playbook.name,
            "violations": list(item.violations)[:MAX_VIOLATIONS_PER_PLAYBOOK],
            **(
                {"violations_omitted": len(item.violations) - MAX_VIOLATIONS_PER_PLAYBOOK}
                if len(item.violations) > MAX_VIOLATIONS_PER_PLAYBOOK
                else {}
            ),
        }
        for item in result.passed_over
    ]
