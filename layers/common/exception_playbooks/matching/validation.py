"""Validation of conditions and match objects: every problem, each with its JSON path.

Runs when a playbook or pack is written (422 listing every problem) and again before
compiling, so nothing is ever silently ignored.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from ..errors import Problem
from .facts import NUMBER_TYPES
from .language import (
    ATTRIBUTE_OPERATORS,
    CONDITIONS_KEYS,
    MATCH_KEYS,
    MAX_ANY_OF_DEPTH,
    ORDERING_OPERATORS,
    SEVERITY_NAMES,
    normalise_conditions,
)

PRIORITY_LIMIT = 1_000_000
_SCALAR_HINT = "a string, number or boolean"


def validate_conditions(raw: Any, path: str = "conditions") -> list[Problem]:
    """Validate a whole ``conditions`` document (legacy form accepted) and its match object."""
    conditions = normalise_conditions(raw)
    if not isinstance(conditions, dict):
        return [Problem(path, "must be an object")]
    problems = [
        Problem(f"{path}.{key}", _unknown("key", key, CONDITIONS_KEYS))
        for key in conditions
        if key not in CONDITIONS_KEYS
    ]
    priority = conditions.get("priority", 0)
    if type(priority) is not int:
        problems.append(Problem(f"{path}.priority", "must be an integer"))
    elif not -PRIORITY_LIMIT <= priority <= PRIORITY_LIMIT:
        problems.append(
            Problem(f"{path}.priority", f"must be between -{PRIORITY_LIMIT} and {PRIORITY_LIMIT}")
        )
    problems.extend(validate_match(conditions.get("match"), f"{path}.match"))
    return problems


def validate_match(obj: Any, path: str = "conditions.match", *, _depth: int = 0) -> list[Problem]:
    """Return every problem of a match object (an empty list when it is valid)."""
    if not isinstance(obj, dict):
        return [Problem(path, "must be an object")]
    problems: list[Problem] = []
    for key, value in obj.items():
        here = f"{path}.{key}"
        if key == "any_of":
            problems.extend(_any_of(value, here, _depth))
            continue
        check = _KEY_CHECKS.get(key) if isinstance(key, str) else None
        if check is None:
            problems.append(Problem(here, _unknown_match_key(key)))
        else:
            problems.extend(check(value, here))
    return problems


# --- keys ---------------------------------------------------------------------------------


def _text(value: Any, path: str) -> list[Problem]:
    if not isinstance(value, str) or not value.strip():
        return [Problem(path, "must be a non-empty string")]
    return []


def _severity(value: Any, path: str) -> list[Problem]:
    if not isinstance(value, str) or value not in SEVERITY_NAMES:
        return [Problem(path, f"must be one of {', '.join(SEVERITY_NAMES)}")]
    return []


def _severity_list(value: Any, path: str) -> list[Problem]:
    return _non_empty_list(value, path, _severity)


def _sla_threshold(value: Any, path: str) -> list[Problem]:
    return [] if _is_finite_number(value) else [Problem(path, "must be a number (minutes)")]


def _tags(value: Any, path: str) -> list[Problem]:
    return _non_empty_list(value, path, _text)


def _attributes(value: Any, path: str) -> list[Problem]:
    if not isinstance(value, dict):
        return [Problem(path, 'must be an object of {"dotted.path": {operator: value}}')]
    if not value:
        return [Problem(path, "must not be empty (omit the key instead)")]
    problems: list[Problem] = []
    for attribute, operators in value.items():
        here = f"{path}.{attribute}"
        if not _is_dotted_path(attribute):
            problems.append(
                Problem(here, "must be a dotted path of non-empty names (e.g. counterparty.name)")
            )
        problems.extend(_operators(operators, here))
    return problems


def _any_of(value: Any, path: str, depth: int) -> list[Problem]:
    if depth >= MAX_ANY_OF_DEPTH:
        return [Problem(path, f"any_of may be nested at most {MAX_ANY_OF_DEPTH} levels deep")]
    if not isinstance(value, list):
        return [Problem(path, "must be a list of match objects")]
    if not value:
        return [Problem(path, "must list at least one match object")]
    problems: list[Problem] = []
    for index, branch in enumerate(value):
        here = f"{path}[{index}]"
        if isinstance(branch, dict) and not branch:
            problems.append(Problem(here, "must not be empty (an empty match object always holds)"))
        else:
            problems.extend(validate_match(branch, here, _depth=depth + 1))
    return problems


_KEY_CHECKS: dict[str, Callable[[Any, str], list[Problem]]] = {
    "domain": _text,
    "exception_type": _text,
    "severity": _severity,
    "severity_in": _severity_list,
    "sla_minutes_remaining_lt": _sla_threshold,
    "policy_tags": _tags,
    "attributes": _attributes,
}


# --- attribute operators ------------------------------------------------------------------


def _operators(value: Any, path: str) -> list[Problem]:
    if not isinstance(value, dict):
        return [Problem(path, 'must be an object of operators, e.g. {"gte": 1000}')]
    if not value:
        return [Problem(path, "must list at least one operator")]
    problems: list[Problem] = []
    for operator, operand in value.items():
        here = f"{path}.{operator}"
        check = _OPERATOR_CHECKS.get(operator) if isinstance(operator, str) else None
        if check is None:
            problems.append(Problem(here, _unknown("operator", operator, ATTRIBUTE_OPERATORS)))
        else:
            problems.extend(check(operand, here))
    if value.get("exists") is False and len(value) > 1:
        # Every other operator needs the attribute, so the combination can never hold.
        problems.append(Problem(f"{path}.exists", "exists: false cannot be combined with other operators"))
    return problems


def _scalar(value: Any, path: str) -> list[Problem]:
    if _kind(value) is None:
        hint = " (use exists to test presence)" if value is None else ""
        return [Problem(path, f"must be {_SCALAR_HINT}{hint}")]
    return []


def _scalar_list(value: Any, path: str) -> list[Problem]:
    problems = _non_empty_list(value, path, _scalar)
    if not problems and len({_kind(item) for item in value}) > 1:
        problems.append(
            Problem(path, "must list values of one kind (all strings, all numbers or all booleans)")
        )
    return problems


def _ordered(value: Any, path: str) -> list[Problem]:
    if isinstance(value, str) or _is_finite_number(value):
        return []
    return [Problem(path, "must be a number or a string")]


def _boolean(value: Any, path: str) -> list[Problem]:
    return [] if isinstance(value, bool) else [Problem(path, "must be true or false")]


_OPERATOR_CHECKS: dict[str, Callable[[Any, str], list[Problem]]] = {
    "eq": _scalar,
    "ne": _scalar,
    "in": _scalar_list,
    "not_in": _scalar_list,
    **dict.fromkeys(ORDERING_OPERATORS, _ordered),
    "exists": _boolean,
    "glob": _text,
}


# --- helpers ------------------------------------------------------------------------------


def _kind(value: Any) -> str | None:
    """The comparison kind of a value; ``None`` for anything that cannot be compared."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if _is_finite_number(value):
        return "number"
    return None


def _is_finite_number(value: Any) -> bool:
    if type(value) not in NUMBER_TYPES:
        return False
    if isinstance(value, Decimal):
        return value.is_finite()
    return math.isfinite(value)


def _is_dotted_path(value: Any) -> bool:
    return isinstance(value, str) and all(part.strip() for part in value.split("."))


def _non_empty_list(value: Any, path: str, item_check: Callable[[Any, str], list[Problem]]) -> list[Problem]:
    if not isinstance(value, list):
        return [Problem(path, "must be a list")]
    if not value:
        return [Problem(path, "must not be empty")]
    problems: list[Problem] = []
    for index, item in enumerate(value):
        problems.extend(item_check(item, f"{path}[{index}]"))
    return problems


def _unknown(what: str, name: Any, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    message = f"unknown {what} {name!r}"
    close = difflib.get_close_matches(str(name), allowed, n=1)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    return f"{message}; allowed: {', '.join(allowed)}"


def _unknown_match_key(name: Any) -> str:
    if name == "priority":
        return "priority belongs next to match, not inside it"
    return _unknown("condition key", name, MATCH_KEYS)
