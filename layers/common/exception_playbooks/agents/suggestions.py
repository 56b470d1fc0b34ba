"""The human sentence a ResolutionSuggested carries: what the next step would do, rendered.

Params are rendered with the same templates and context the action executor uses, so the
operator reads the values the step would really use. Nothing here performs the action.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..execution.actions import template_context
from ..execution.templates import render_text, render_value
from ..models.enums import ActionType, Severity
from ..models.exception import ExceptionRecord
from ..models.packs import PackSet
from ..models.playbook import Step

MAX_TEXT = 160  # a suggestion is a sentence, not a copy of the message body


@dataclass(frozen=True)
class Described:
    action: str  # e.g. "call tool retry_settlement with {trade_id: T-1}"
    missing: list[str] = field(default_factory=list)  # placeholders that have no value now
    blockers: list[str] = field(default_factory=list)  # why the step would be refused as it stands


def describe_step(
    step: Step, record: ExceptionRecord, packs: PackSet, severity: Severity | None
) -> Described:
    context = template_context(record, packs, step, severity)
    params = step.params
    if step.action_type is ActionType.CALL_TOOL:
        tool_id = str(params.get("tool_id"))
        payload = render_value(params.get("payload", {}), context)
        blockers = [f"missing {name}" for name in sorted(set(payload.missing))]
        if (
            tool_id not in (packs.domain.tools if packs.domain else {})
            or tool_id not in packs.policy.approved_tools
        ):
            blockers.append(f"tool {tool_id} is not available or approved")
        return Described(f"call tool {tool_id} with {compact(payload.value)}", payload.missing, blockers)
    if step.action_type is ActionType.ASSIGN_OWNER:
        kind = "user" if params.get("user_id") else "queue"
        target = render_text(str(params.get("user_id") or params.get("queue") or ""), context)
        blockers = [f"missing {name}" for name in sorted(set(target.missing))]
        return Described(f"assign the owner to {kind} {target.value}", target.missing, blockers)
    if step.action_type is ActionType.SET_STATUS:
        return Described(f"set the status to {params.get('status')}")
    if step.action_type is ActionType.ADD_COMMENT:
        text = render_text(str(params.get("text", "")), context)
        return Described(f"add the comment {_quote(text.value)}", text.missing)
    # notify
    subject = render_text(str(params.get("subject", "")), context)
    target = render_text(str(params.get("recipient") or params.get("group") or ""), context)
    action = f"send a {params.get('channel')} notification to {target.value}"
    if subject.value:
        action += f": {_quote(subject.value)}"
    return Described(action, [*target.missing, *subject.missing])


def sentence(step: Step, described: Described, requires_approval: bool) -> str:
    """ "Next: 'Retry settlement' — call tool retry_settlement with {...}; needs human approval"."""
    text = f"Next: '{step.name}' — {described.action}; "
    text += "needs human approval" if requires_approval else "no approval needed"
    if described.blockers:
        text += f"; cannot run as it stands: {', '.join(described.blockers)}"
    return text


def compact(value: Any) -> str:
    """Readable inline data: ``{trade_id: T-1, legs: [1, 2]}`` (keys and strings unquoted)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {compact(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(compact(item) for item in value) + "]"
    if isinstance(value, str):
        return _truncate(value)
    return json.dumps(value)


def _quote(text: str) -> str:
    return f"'{_truncate(text)}'"


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
