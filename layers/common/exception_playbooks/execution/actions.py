"""Action executors: what completing a step does. Pure: they return events and the new record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..bounds import (
    MAX_RENDERED_SUBJECT,
    MAX_RENDERED_TARGET,
    MAX_RENDERED_TEXT,
    MAX_TOOL_PAYLOAD_BYTES,
    cap_list,
    json_size,
)
from ..errors import Conflict
from ..models.enums import ActionType, EventType, ExceptionStatus, Severity, is_legal_transition
from ..models.event import Actor, NewEvent
from ..models.exception import ExceptionRecord, Owner
from ..models.packs import PackSet
from ..models.playbook import Step
from .templates import Rendered, render_text, render_value


@dataclass
class ActionResult:
    record: ExceptionRecord
    events: list[NewEvent]
    outcome: str
    detail: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def summary(self, action_type: ActionType) -> dict[str, Any]:
        return {"action_type": action_type.value, "outcome": self.outcome, "detail": self.detail}


def template_context(
    record: ExceptionRecord, packs: PackSet, step: Step, severity: Severity | None
) -> dict[str, Any]:
    exception = record.to_api()
    exception["severity"] = severity.value if severity else exception["severity"]
    return {
        "exception": exception,
        "domain": {"name": record.domain, **(packs.domain.fields if packs.domain else {})},
        "policy": dict(packs.policy.fields),
        "step": {"name": step.name, "step_order": step.step_order, "action_type": step.action_type.value},
    }


def _require_resolved(rendered: Rendered, what: str) -> Any:
    if rendered.missing:
        raise Conflict(
            f"Cannot run the step: {what} needs {', '.join(sorted(set(rendered.missing)))} (no value)",
            code="TEMPLATE_UNRESOLVED",
            details={"fields": sorted(set(rendered.missing))},
        )
    return rendered.value


def _notify(
    record: ExceptionRecord, step: Step, context: dict[str, Any], packs: PackSet, actor: Actor
) -> ActionResult:
    params = step.params
    texts = {
        "subject": render_text(str(params.get("subject", "")), context, MAX_RENDERED_SUBJECT),
        "message": render_text(str(params.get("message", "")), context, MAX_RENDERED_TEXT),
    }
    for key in ("recipient", "group"):
        if params.get(key):
            texts[key] = render_text(str(params[key]), context, MAX_RENDERED_TARGET)
    warnings, omitted = cap_list([name for rendered in texts.values() for name in rendered.missing])
    payload: dict[str, Any] = {
        "step_order": step.step_order,
        "channel": params.get("channel"),
        "recipient": texts["recipient"].value if "recipient" in texts else None,
        "group": texts["group"].value if "group" in texts else None,
        "subject": texts["subject"].value,
        "message": texts["message"].value,
        "warnings": warnings,
    }
    _mark_truncated(payload, texts, omitted)
    return ActionResult(
        record,
        [NewEvent(event_type=EventType.NOTIFICATION_SENT, actor=actor, payload=payload)],
        "notification_sent",
        {k: payload[k] for k in ("channel", "recipient", "group", "subject")},
        warnings,
    )


def _mark_truncated(payload: dict[str, Any], texts: dict[str, Rendered], warnings_omitted: int) -> None:
    """Say on the event which rendered texts were cut at their bound (docs: "Bounds")."""
    cut = sorted(name for name, rendered in texts.items() if rendered.truncated)
    if cut:
        payload["truncated"] = cut
    if warnings_omitted:
        payload["warnings_omitted"] = warnings_omitted


def _assign_owner(
    record: ExceptionRecord, step: Step, context: dict[str, Any], packs: PackSet, actor: Actor
) -> ActionResult:
    kind: Literal["user", "queue"] = "user" if step.params.get("user_id") else "queue"
    target = step.params.get("user_id") or step.params.get("queue")
    rendered = render_text(str(target), context, MAX_RENDERED_TARGET)
    value = _require_resolved(rendered, "the owner")
    if not value:
        raise Conflict("Cannot run the step: the owner renders empty", code="TEMPLATE_UNRESOLVED")
    if rendered.truncated:  # a cut id would name someone else: refuse rather than guess
        raise Conflict(
            f"Cannot run the step: the owner renders longer than {MAX_RENDERED_TARGET} characters",
            code="OWNER_TOO_LONG",
            details={"limit": MAX_RENDERED_TARGET},
        )
    owner = Owner(type=kind, id=value)
    previous = record.owner.model_dump() if record.owner else None
    event = NewEvent(
        event_type=EventType.OWNER_ASSIGNED,
        actor=actor,
        payload={"step_order": step.step_order, "owner": owner.model_dump(), "previous": previous},
    )
    return ActionResult(
        record.model_copy(update={"owner": owner}), [event], "owner_assigned", {"owner": owner.model_dump()}
    )


def change_status(
    record: ExceptionRecord, target: ExceptionStatus, actor: Actor, extra: dict[str, Any] | None = None
) -> tuple[ExceptionRecord, NewEvent]:
    if not is_legal_transition(record.status, target):
        raise Conflict(
            f"Status cannot change from {record.status.value} to {target.value}",
            code="ILLEGAL_STATUS_TRANSITION",
            details={"from": record.status.value, "to": target.value},
        )
    event = NewEvent(
        event_type=EventType.STATUS_CHANGED,
        actor=actor,
        payload={"from": record.status.value, "to": target.value, **(extra or {})},
    )
    return record.model_copy(update={"status": target}), event


def _set_status(
    record: ExceptionRecord, step: Step, context: dict[str, Any], packs: PackSet, actor: Actor
) -> ActionResult:
    target = ExceptionStatus(step.params["status"])
    updated, event = change_status(record, target, actor, {"step_order": step.step_order})
    return ActionResult(updated, [event], "status_changed", {"from": record.status.value, "to": target.value})


def _add_comment(
    record: ExceptionRecord, step: Step, context: dict[str, Any], packs: PackSet, actor: Actor
) -> ActionResult:
    text = render_text(str(step.params.get("text", "")), context, MAX_RENDERED_TEXT)
    warnings, omitted = cap_list(text.missing)
    payload: dict[str, Any] = {"text": text.value, "step_order": step.step_order, "warnings": warnings}
    _mark_truncated(payload, {"text": text}, omitted)
    event = NewEvent(event_type=EventType.COMMENT_ADDED, actor=actor, payload=payload)
    return ActionResult(record, [event], "comment_added", {"text": text.value}, warnings)


def _call_tool(
    record: ExceptionRecord, step: Step, context: dict[str, Any], packs: PackSet, actor: Actor
) -> ActionResult:
    tool_id = str(step.params.get("tool_id"))
    tool = (packs.domain.tools if packs.domain else {}).get(tool_id)
    if tool is None or tool_id not in packs.policy.approved_tools:
        raise Conflict(
            f"Tool {tool_id!r} is no longer available or approved for this tenant",
            code="TOOL_NOT_ALLOWED",
            details={"tool_id": tool_id},
        )
    payload = _require_resolved(render_value(step.params.get("payload", {}), context), "the tool payload")
    size = json_size(payload)
    if size > MAX_TOOL_PAYLOAD_BYTES:  # never cut: a tool must get what the step says, or nothing
        raise Conflict(
            f"The payload for tool {tool_id!r} renders to {size} bytes; "
            f"the limit is {MAX_TOOL_PAYLOAD_BYTES}",
            code="TOOL_PAYLOAD_TOO_LARGE",
            details={"tool_id": tool_id, "bytes": size, "limit": MAX_TOOL_PAYLOAD_BYTES},
        )
    _check_tool_payload(tool_id, tool.parameters, payload)
    recorded = {
        "step_order": step.step_order,
        "tool_id": tool_id,
        "payload": payload,
        "mode": "dry_run",
        "risk": tool.risk.value,
    }
    event = NewEvent(event_type=EventType.TOOL_CALL_RECORDED, actor=actor, payload=recorded)
    return ActionResult(
        record, [event], "tool_call_recorded", {"tool_id": tool_id, "payload": payload, "mode": "dry_run"}
    )


def _check_tool_payload(tool_id: str, schema: dict[str, Any], payload: Any) -> None:
    from .tool_schemas import SchemaUnusable, payload_errors  # lazily: only call_tool steps need it

    try:
        errors = payload_errors(schema, payload)
    except SchemaUnusable as error:
        raise Conflict(
            f"The parameters schema of tool {tool_id!r} cannot check this payload: {error}; "
            "an admin must fix the tool in the domain pack",
            code="TOOL_SCHEMA_UNUSABLE",
            details={"tool_id": tool_id},
        ) from error
    if errors:
        raise Conflict(
            f"The payload for tool {tool_id!r} does not fit its parameters: {errors[0]['message']}",
            code="TOOL_PAYLOAD_INVALID",
            details={"errors": errors},
        )


Executor = Callable[[ExceptionRecord, Step, dict[str, Any], PackSet, Actor], ActionResult]

EXECUTORS: dict[ActionType, Executor] = {
    ActionType.NOTIFY: _notify,
    ActionType.ASSIGN_OWNER: _assign_owner,
    ActionType.SET_STATUS: _set_status,
    ActionType.ADD_COMMENT: _add_comment,
    ActionType.CALL_TOOL: _call_tool,
}


def perform(
    record: ExceptionRecord, step: Step, packs: PackSet, actor: Actor, severity: Severity | None
) -> ActionResult:
    context = template_context(record, packs, step, severity)
    return EXECUTORS[step.action_type](record, step, context, packs, actor)
