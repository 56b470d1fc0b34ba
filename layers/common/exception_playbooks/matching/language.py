"""The condition language's vocabulary and the legacy-form normalisation (BEHAVIOUR.md, Matching)."""

from __future__ import annotations

from typing import Any, Final

from ..models.enums import Severity

# Canonical order: reasoning lists checks in this order, whatever order the author wrote.
MATCH_KEYS: Final[tuple[str, ...]] = (
    "domain",
    "exception_type",
    "severity",
    "severity_in",
    "sla_minutes_remaining_lt",
    "policy_tags",
    "attributes",
    "any_of",
)
ATTRIBUTE_OPERATORS: Final[tuple[str, ...]] = (
    "eq",
    "ne",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "exists",
    "glob",
)
ORDERING_OPERATORS: Final[frozenset[str]] = frozenset({"gt", "gte", "lt", "lte"})
SEVERITY_NAMES: Final[tuple[str, ...]] = tuple(severity.value for severity in Severity)
CONDITIONS_KEYS: Final[tuple[str, ...]] = ("match", "priority")
# Guards against pathological documents (recursion depth, evaluation cost).
MAX_ANY_OF_DEPTH: Final = 4


def normalise_conditions(raw: Any) -> Any:
    """Return ``{"match": {...}, "priority": N}`` for a legacy document with the keys at the root.

    A document that already has ``match`` is returned as a shallow copy (with ``priority``
    defaulting to 0); anything else it holds is kept so validation can reject it rather
    than it being silently dropped. Non-objects are returned unchanged for validation to report.
    """
    if not isinstance(raw, dict):
        return raw
    if "match" in raw:
        return {"priority": 0, **raw}
    legacy = dict(raw)
    priority = legacy.pop("priority", 0)
    return {"match": legacy, "priority": priority}


def specificity(match: dict[str, Any]) -> int:
    """How specific a (valid) match object is: each key one, each attribute path-and-operator one."""
    count = 0
    for key, value in match.items():
        if key == "attributes" and isinstance(value, dict):
            count += sum(len(ops) for ops in value.values() if isinstance(ops, dict))
        else:
            count += 1
    return count
