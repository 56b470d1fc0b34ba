"""Validation of authored documents: playbooks, the tenant policy pack and domain packs.

Every problem is reported at once, each with its JSON path (0-based, e.g.
``steps[0].params.channel``), in one ``ValidationFailed`` (422). The pydantic input models check
the shape; the semantic checks here run on every part that is well-formed enough to look at, so an
author sees all problems in one answer. Where a semantic check covers a part (conditions, step
params, ``when`` objects, tool schemas) it *owns* that path and pydantic's generic messages for it
are dropped, so each problem is reported once, in the most helpful words.

Pure: the packs a playbook refers to come through ``PackLookup``; nothing here touches AWS.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from ..api.errors import problems_from_pydantic
from ..errors import Problem, ValidationFailed
from ..execution import tool_schemas
from ..execution.templates import CONTEXTS, placeholders
from ..matching.conditions import normalise_conditions, validate_conditions, validate_match
from ..models.common import MAX_NOTES, MAX_SUMMARY, is_identifier, storable_json_problem
from ..models.enums import STATUS_TRANSITIONS, ActionType, NotifyChannel
from ..models.exception import ExceptionRecord
from ..models.packs import DomainPack, DomainPackInput, PolicyPack, PolicyPackInput
from ..models.playbook import PlaybookInput

M = TypeVar("M", bound=BaseModel)

# Exception type names appear in conditions, where * and ? are glob wildcards: a name holding
# them could never be told apart from a pattern.
_TYPE_NAME = re.compile(r"^\w(?:[\w .:/()&+-]{0,198}[\w.:/()&+-])?$")
# A field is referenced as {domain.NAME} / {policy.NAME}; dots would walk into nested values.
_FIELD_NAME = re.compile(r"^[A-Za-z0-9_:-]{1,128}$")
MAX_TARGET = 256  # recipient, group, user_id, queue
MAX_MESSAGE = 500  # how much of a library message (e.g. jsonschema's) is worth echoing back

# Placeholders resolve against these (execution.actions.template_context).
EXCEPTION_FIELDS = ExceptionRecord.API_FIELDS
EXCEPTION_NESTED = frozenset({"attributes", "raw_payload", "owner", "policy_tags"})
STEP_FIELDS = ("name", "step_order", "action_type")
# No status change ever leads to these (e.g. ``open``), so a set_status step to one could never run.
REACHABLE_STATUSES = frozenset(s.value for targets in STATUS_TRANSITIONS.values() for s in targets)


class PackLookup(Protocol):
    """The tenant's packs as the playbook being validated needs them (loaded on first use)."""

    def policy(self) -> PolicyPack: ...

    def domain(self, domain: str) -> DomainPack | None: ...


@dataclass(frozen=True)
class PackWrite(Generic[M]):
    """A validated pack document and the version the author read (None: overwrite whatever is there)."""

    body: M
    expected_version: int | None


class Problems:
    """Collects problems, and the paths whose checks this module owns (see the module docstring)."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self._owned: list[str] = []
        self._pydantic: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(Problem(path, message))

    def extend(self, problems: list[Problem]) -> None:
        self.items.extend(problems)

    def own(self, path: str) -> None:
        self._owned.append(path)

    def model(self, model: type[M], raw: dict[str, Any]) -> M | None:
        try:
            return model.model_validate(raw)
        except ValidationError as error:
            self._pydantic.extend(problems_from_pydantic(list(error.errors())))
            return None

    def storable(self, value: Any, path: str) -> bool:
        problem = storable_json_problem(value)
        if problem:
            self.add(path, problem)
        return problem is None

    def result(self) -> list[Problem]:
        merged = [p for p in self._pydantic if not self._covered(p)] + self.items
        return sorted(dict.fromkeys(merged), key=lambda p: _path_key(p.path))

    def _covered(self, problem: Problem) -> bool:
        """A pydantic problem is dropped only where a semantic check of the same part spoke up,
        so a refusal is never swallowed (the two may disagree on an edge case)."""
        roots = [owned for owned in self._owned if _under(problem.path, owned)]
        return any(_under(mine.path, root) for root in roots for mine in self.items)

    def raise_if_any(self) -> None:
        problems = self.result()
        if problems:
            raise ValidationFailed(problems)


# --- playbooks ----------------------------------------------------------------------------------


def validate_playbook(raw: Any, packs: PackLookup) -> PlaybookInput:
    """The playbook body as ``PlaybookInput``, or ValidationFailed listing every problem."""
    if not isinstance(raw, dict):
        raise ValidationFailed([Problem("body", "must be a JSON object")])
    problems = Problems()
    model = problems.model(PlaybookInput, raw)
    domain: str | None = None
    if "conditions" in raw:
        problems.own("conditions")
        problems.storable(raw["conditions"], "conditions")
        problems.extend(validate_conditions(raw["conditions"], "conditions"))
        conditions = normalise_conditions(raw["conditions"])
        match = conditions.get("match") if isinstance(conditions, dict) else None
        if isinstance(match, dict) and isinstance(match.get("domain"), str) and match["domain"].strip():
            domain = match["domain"]
    steps = raw.get("steps")
    if isinstance(steps, list):
        for index, step in enumerate(steps):
            if isinstance(step, dict):
                _check_step(step, f"steps[{index}]", domain, packs, problems)
    problems.raise_if_any()
    assert model is not None  # result() is never empty when pydantic refused the body
    return model


def _check_step(
    step: dict[str, Any], path: str, domain: str | None, packs: PackLookup, problems: Problems
) -> None:
    for flag in ("requires_approval", "skippable"):
        if flag in step:
            problems.own(f"{path}.{flag}")
            # pydantic would read "yes" or 1 as true; a flag that gates human approval must be exact.
            if not isinstance(step[flag], bool):
                problems.add(f"{path}.{flag}", "must be true or false")
    problems.own(f"{path}.action_type")
    action = step.get("action_type")
    if action is None:
        problems.add(f"{path}.action_type", "is required")
        return
    if not isinstance(action, str) or action not in ActionType._value2member_map_:
        allowed = ", ".join(a.value for a in ActionType)
        problems.add(f"{path}.action_type", f"unknown action type {action!r}; allowed: {allowed}")
        return
    problems.own(f"{path}.params")
    params = step.get("params", {})
    here = f"{path}.params"
    if not isinstance(params, dict):
        problems.add(here, "must be an object")
        return
    problems.storable(params, here)
    spec = ACTIONS[ActionType(action)]
    for key in params:
        if key not in spec.allowed:
            problems.add(
                f"{here}.{key}",
                f"unknown parameter {key!r} for {action}; allowed: {', '.join(spec.allowed)}",
            )
    spec.check(params, here, ParamContext(domain, packs), problems)
    _check_templates(params, here, problems)


@dataclass(frozen=True)
class ParamContext:
    domain: str | None
    packs: PackLookup


@dataclass(frozen=True)
class ActionSpec:
    allowed: tuple[str, ...]
    check: Callable[[dict[str, Any], str, ParamContext, Problems], None]


def _text(
    params: dict[str, Any], key: str, path: str, problems: Problems, *, limit: int, required: bool = True
) -> bool:
    """Check ``params[key]`` is a non-empty string within ``limit``; True when it is usable."""
    value = params.get(key)
    if value is None:
        if required:
            problems.add(f"{path}.{key}", "is required")
        return False
    if not isinstance(value, str) or not value.strip():
        problems.add(f"{path}.{key}", "must be a non-empty string")
        return False
    if len(value) > limit:
        problems.add(f"{path}.{key}", f"must be at most {limit} characters")
        return False
    return True


def _notify(params: dict[str, Any], path: str, context: ParamContext, problems: Problems) -> None:
    channel = params.get("channel")
    channels = tuple(c.value for c in NotifyChannel)
    if channel is None:
        problems.add(f"{path}.channel", "is required")
    elif channel not in channels:
        problems.add(f"{path}.channel", f"must be one of {', '.join(channels)}")
    targets = [key for key in ("recipient", "group") if params.get(key) is not None]
    if not targets:
        problems.add(path, "needs a recipient or a group (at least one)")
    for key in targets:
        _text(params, key, path, problems, limit=MAX_TARGET)
    _text(params, "subject", path, problems, limit=MAX_SUMMARY)
    _text(params, "message", path, problems, limit=MAX_NOTES)


def _assign_owner(params: dict[str, Any], path: str, context: ParamContext, problems: Problems) -> None:
    targets = [key for key in ("user_id", "queue") if params.get(key) is not None]
    if len(targets) != 1:
        problems.add(path, "needs exactly one of user_id or queue")
    for key in targets:
        _text(params, key, path, problems, limit=MAX_TARGET)


def _set_status(params: dict[str, Any], path: str, context: ParamContext, problems: Problems) -> None:
    status = params.get("status")
    if status is None:
        problems.add(f"{path}.status", "is required")
    elif not isinstance(status, str) or status not in REACHABLE_STATUSES:
        # A template cannot be allowed here: the target is checked against the transition table.
        problems.add(f"{path}.status", f"must be one of {', '.join(sorted(REACHABLE_STATUSES))}")


def _add_comment(params: dict[str, Any], path: str, context: ParamContext, problems: Problems) -> None:
    _text(params, "text", path, problems, limit=MAX_NOTES)


def _call_tool(params: dict[str, Any], path: str, context: ParamContext, problems: Problems) -> None:
    payload = params.get("payload")
    payload_ok = isinstance(payload, dict)
    if payload is None:
        problems.add(f"{path}.payload", "is required (an object; {} when the tool takes no parameters)")
    elif not payload_ok:
        problems.add(f"{path}.payload", "must be an object")
    if not _text(params, "tool_id", path, problems, limit=128):
        return
    tool_id: str = params["tool_id"]
    here = f"{path}.tool_id"
    if tool_id not in context.packs.policy().approved_tools:
        problems.add(here, f"tool {tool_id!r} is not approved by the tenant policy (approved_tools)")
    # Tools live in domain packs; without a domain the tool to check the payload against is unknown.
    if context.domain is None:
        problems.add(here, "call_tool steps need conditions.match.domain: the tool is looked up in its pack")
        return
    pack = context.packs.domain(context.domain) if is_identifier(context.domain) else None
    if pack is None:
        problems.add(here, f"there is no domain pack for {context.domain!r} to define tool {tool_id!r}")
        return
    tool = pack.tools.get(tool_id)
    if tool is None:
        known = ", ".join(sorted(pack.tools)) or "none"
        problems.add(here, f"unknown tool {tool_id!r} in the {pack.domain} domain pack; tools: {known}")
        return
    if not isinstance(payload, dict):
        return
    schema = tool.parameters
    required = schema.get("required")
    for key in required if isinstance(required, list) else []:
        if isinstance(key, str) and key not in payload:
            problems.add(f"{path}.payload.{key}", f"is required by tool {tool_id!r}")
    properties = schema.get("properties")
    if schema.get("additionalProperties") is False and isinstance(properties, dict):
        for key in payload:
            if key not in properties:
                problems.add(
                    f"{path}.payload.{key}",
                    f"is not a parameter of tool {tool_id!r}; parameters: {', '.join(properties)}",
                )


ACTIONS: dict[ActionType, ActionSpec] = {
    ActionType.NOTIFY: ActionSpec(("channel", "recipient", "group", "subject", "message"), _notify),
    ActionType.ASSIGN_OWNER: ActionSpec(("user_id", "queue"), _assign_owner),
    ActionType.SET_STATUS: ActionSpec(("status",), _set_status),
    ActionType.ADD_COMMENT: ActionSpec(("text",), _add_comment),
    ActionType.CALL_TOOL: ActionSpec(("tool_id", "payload"), _call_tool),
}


def _check_templates(params: dict[str, Any], path: str, problems: Problems) -> None:
    """Placeholders must name a known context (and, where the shape is fixed, a known field)."""
    for here, text in _strings(params, path):
        for context, field in placeholders(text):
            message = _placeholder_problem(context, field)
            if message:
                problems.add(here, message)


def _placeholder_problem(context: str, field: str) -> str | None:
    placeholder = "{" + f"{context}.{field}" + "}"
    head, _, rest = field.partition(".")
    if context not in CONTEXTS:
        return (
            f"placeholder {placeholder} has an unknown context {context!r}; use one of {', '.join(CONTEXTS)}"
        )
    if context == "exception":
        if head not in EXCEPTION_FIELDS:
            return (
                f"placeholder {placeholder} names no exception field; fields: {', '.join(EXCEPTION_FIELDS)}"
            )
        if rest and head not in EXCEPTION_NESTED:
            return f"placeholder {placeholder}: exception.{head} has no nested fields"
    if context == "step" and (head not in STEP_FIELDS or rest):
        return f"placeholder {placeholder} names no step field; fields: {', '.join(STEP_FIELDS)}"
    return None


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string value with its path (iterative: depth was bounded by ``storable`` already)."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        node, here = stack.pop()
        if isinstance(node, str):
            yield here, node
        elif isinstance(node, dict):
            stack.extend((child, f"{here}.{key}") for key, child in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((child, f"{here}[{i}]") for i, child in reversed(list(enumerate(node))))


# --- packs --------------------------------------------------------------------------------------


def validate_policy_pack(raw: Any) -> PackWrite[PolicyPackInput]:
    """The policy pack document, or ValidationFailed listing every problem.

    The read-only fields a GET answers (``version``, ``updated_at``) may be sent back unchanged,
    so a client can GET, edit and PUT the document; ``version`` then guards against lost updates.
    """
    problems = Problems()
    body, echoed = _split_read_only(raw, ("version", "updated_at"))
    expected = _expected_version(echoed, problems)
    model = problems.model(PolicyPackInput, body)
    for index, rule in _list_items(body.get("tag_rules")):
        _check_when(rule, f"tag_rules[{index}]", problems)
    overrides = body.get("severity_overrides")
    if isinstance(overrides, dict):
        for name in overrides:
            _check_type_name(name, f"severity_overrides.{name}", problems)
    for index, tool_id in _list_items(body.get("approved_tools")):
        if isinstance(tool_id, str) and 0 < len(tool_id) <= 128 and not is_identifier(tool_id):
            problems.add(f"approved_tools[{index}]", _tool_id_message())
    _check_fields(body.get("fields"), problems)
    problems.raise_if_any()
    assert model is not None
    return PackWrite(model, expected)


def validate_domain_pack(raw: Any, domain: str) -> PackWrite[DomainPackInput]:
    """The domain pack document for ``domain`` (from the path), or ValidationFailed listing every problem."""
    problems = Problems()
    body, echoed = _split_read_only(raw, ("version", "updated_at", "domain"))
    expected = _expected_version(echoed, problems)
    named = echoed.get("domain")
    if named is not None and (not isinstance(named, str) or named.lower() != domain.lower()):
        problems.add("domain", f"must be {domain!r}, the domain in the path (or be left out)")
    model = problems.model(DomainPackInput, body)
    types = body.get("exception_types")
    if isinstance(types, dict):
        for name in types:
            _check_type_name(name, f"exception_types.{name}", problems)
    for index, rule in _list_items(body.get("severity_rules")):
        _check_when(rule, f"severity_rules[{index}]", problems)
    tools = body.get("tools")
    if isinstance(tools, dict):
        for tool_id, spec in tools.items():
            here = f"tools.{tool_id}"
            if not is_identifier(tool_id):
                problems.add(here, _tool_id_message())
            if isinstance(spec, dict) and "parameters" in spec:
                problems.own(f"{here}.parameters")
                _check_tool_schema(spec["parameters"], f"{here}.parameters", problems)
    _check_fields(body.get("fields"), problems)
    problems.raise_if_any()
    assert model is not None
    return PackWrite(model, expected)


def _split_read_only(raw: Any, names: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the document without the read-only fields a GET answers, those fields)."""
    if not isinstance(raw, dict):
        raise ValidationFailed([Problem("body", "must be a JSON object")])
    return {k: v for k, v in raw.items() if k not in names}, {k: raw[k] for k in names if k in raw}


def _expected_version(echoed: dict[str, Any], problems: Problems) -> int | None:
    version = echoed.get("version")
    if version is None:
        return None
    if type(version) is not int or version < 0:
        problems.add("version", "must be the version you read (an integer, 0 before the first write)")
        return None
    return version


def _list_items(value: Any) -> list[tuple[int, Any]]:
    return list(enumerate(value)) if isinstance(value, list) else []


def _check_when(rule: Any, path: str, problems: Problems) -> None:
    if isinstance(rule, dict) and "when" in rule:
        problems.own(f"{path}.when")
        problems.storable(rule["when"], f"{path}.when")
        problems.extend(validate_match(rule["when"], f"{path}.when"))


def _check_type_name(name: str, path: str, problems: Problems) -> None:
    if not _TYPE_NAME.fullmatch(name):
        problems.add(
            path,
            "must be an exception type name: up to 200 letters, digits, spaces and _ . : / ( ) & + -, "
            "not starting or ending with a space (* and ? are wildcards in conditions)",
        )


def _tool_id_message() -> str:
    return "must be a tool id: a letter or digit, then up to 127 letters, digits and . _ : -"


def _check_fields(fields: Any, problems: Problems) -> None:
    if not isinstance(fields, dict):
        return  # pydantic reports the shape
    for name in fields:
        if not _FIELD_NAME.fullmatch(name):
            problems.add(f"fields.{name}", "must be usable in templates: 1 to 128 letters, digits and _ : -")
    problems.storable(fields, "fields")


def _check_tool_schema(schema: Any, path: str, problems: Problems) -> None:
    """A tool's ``parameters`` must be a JSON Schema (2020-12, the version payloads are checked with)."""
    if not isinstance(schema, dict):
        problems.add(path, "must be a JSON Schema object")
        return
    if not problems.storable(schema, path):
        return
    from jsonschema import Draft202012Validator  # lazily: only pack writes pay for it

    meta = Draft202012Validator(
        Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    try:
        errors = list(meta.iter_errors(schema))
    except Exception as error:  # untrusted input into a library: a refusal, never a 500
        problems.add(path, _short(f"could not be checked as a JSON Schema: {error}"))
        return
    for found in errors:
        problems.add(path + _json_path(found.path), _short(f"is not a valid JSON Schema: {found.message}"))
    kind = schema.get("type")
    if kind is not None and kind != "object" and not (isinstance(kind, list) and "object" in kind):
        problems.add(f"{path}.type", 'must be "object": a tool payload is an object')
    own = tool_schemas.schema_problems(schema)
    for here, message in own:
        problems.add(path + here, message)
    if errors or own:
        return
    try:  # what execution will do with it; anything it cannot handle is refused now, not at run time
        tool_schemas.payload_errors(schema, {})
    except tool_schemas.SchemaUnusable as error:
        problems.add(path, _short(f"cannot be used to check a payload: {error}"))


# --- paths --------------------------------------------------------------------------------------


def _json_path(parts: Any) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def _under(path: str, owner: str) -> bool:
    return path == owner or path.startswith((owner + ".", owner + "["))


_TOKEN = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def _path_key(path: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key: document order by name, list items by index (``steps[2]`` before ``steps[10]``)."""
    return tuple((1, int(index), "") if index else (0, 0, name) for index, name in _TOKEN.findall(path))
