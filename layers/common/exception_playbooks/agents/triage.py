"""TriageAgent: effective severity and tags, plus a playbook suggestion. Assigns nothing.

Triggered by ExceptionCreated and ExceptionUpdated. The suggestion is the best *match*
(guardrails off): checking it against the tenant policy is the PolicyAgent's job, and its
PolicyEvaluated says which playbooks it passed over and why. Re-matching the assignment after
a PATCH happens synchronously in the PATCH use case, so triage never touches the run.
"""

from __future__ import annotations

from typing import Any

from ..bounds import MAX_EVENT_REASONING_CHARS, truncate_text
from ..execution.operations import Change
from ..matching.effective import effective_view
from ..matching.engine import select_for_view
from ..models.enums import EventType, Severity
from ..models.exception import ExceptionRecord
from .base import Agent, Plan, Reads, Skip, playbook_ref
from .envelope import Trigger

# PATCH fields that change what matching sees; a summary edit is not worth a re-triage.
RETRIAGE_FIELDS = frozenset({"severity", "sla_deadline", "policy_tags"})


def changed_fields(payload: dict[str, Any]) -> set[str]:
    """Field names in an ExceptionUpdated ``changes`` (an object keyed by field, or a list)."""
    changes = payload.get("changes")
    if isinstance(changes, dict):
        return {str(name) for name in changes}
    if isinstance(changes, list):
        names = set()
        for entry in changes:
            if isinstance(entry, str):
                names.add(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("field"), str):
                names.add(entry["field"])
        return names
    return set()


class TriageAgent(Agent):
    name = "TriageAgent"
    matches = True

    def plan(self, trigger: Trigger, reads: Reads) -> Plan | Skip:
        if trigger.event_type is EventType.EXCEPTION_UPDATED:
            relevant = changed_fields(trigger.payload) & RETRIAGE_FIELDS
            if not relevant:
                return Skip("the update changed nothing matching depends on")
        record = reads.exception()
        packs = reads.packs(record.domain)
        view = effective_view(record, packs, reads.now())
        result = select_for_view(view, reads.candidates(record.domain), packs, enforce_guardrails=False)

        change = Change(_with_severity(record, view.severity))
        change.events.append(
            self.event(
                EventType.TRIAGE_COMPLETED,
                {
                    "severity": view.severity.value,
                    "severity_source": view.severity_source,
                    "previous_severity": record.severity.value if record.severity else None,
                    "tags": list(view.tags),
                    "added_tags": list(view.added_tags),
                    "sla_minutes_remaining": (
                        None if view.sla_minutes_remaining is None else round(view.sla_minutes_remaining, 2)
                    ),
                    "suggested_playbook": playbook_ref(result.winner),
                    "reasoning_summary": truncate_text(result.summary, MAX_EVENT_REASONING_CHARS)[0],
                    "trigger_event_id": trigger.event_id,
                    "trigger_event_type": trigger.event_type.value,
                },
            )
        )
        return Plan(change)


def _with_severity(record: ExceptionRecord, severity: Severity) -> ExceptionRecord:
    """The API record shows the triaged severity, unless a person set it (theirs stands)."""
    if record.severity_set_by_human or record.severity == severity:
        return record
    return record.model_copy(update={"severity": severity})
