"""Facts: the exception-side values a match object is evaluated against.

Conditions read facts through the ``Facts`` protocol, so the same compiled match runs on the
effective view (playbook matching, tag rules) and on the pre-severity view (severity rules).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Protocol

from ..models.enums import Severity


class _Missing:
    """Sentinel for an attribute path that does not resolve (distinct from a JSON null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

# Exact types, so ``bool`` (a subclass of ``int``) is never a number. Decimal is what DynamoDB returns.
NUMBER_TYPES: Final[frozenset[type]] = frozenset({int, float, Decimal})


class Facts(Protocol):
    @property
    def domain(self) -> str: ...
    @property
    def domain_folded(self) -> str: ...
    @property
    def exception_type(self) -> str: ...
    @property
    def exception_type_folded(self) -> str: ...
    @property
    def severity(self) -> Severity | None: ...
    @property
    def tags(self) -> tuple[str, ...]: ...
    @property
    def tag_set(self) -> frozenset[str]: ...
    @property
    def sla_minutes_remaining(self) -> float | None: ...
    @property
    def attributes(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class FactSheet:
    """Plain facts; build with :func:`fact_sheet` so the folded and set forms stay consistent."""

    domain: str
    exception_type: str
    severity: Severity | None
    tags: tuple[str, ...]
    sla_minutes_remaining: float | None
    attributes: Mapping[str, Any]
    domain_folded: str = field(repr=False)
    exception_type_folded: str = field(repr=False)
    tag_set: frozenset[str] = field(repr=False)


def fact_sheet(
    *,
    domain: str,
    exception_type: str,
    severity: Severity | str | None,
    tags: tuple[str, ...] | list[str] = (),
    sla_minutes_remaining: float | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> FactSheet:
    unique = tuple(sorted(set(tags)))
    return FactSheet(
        domain=domain,
        exception_type=exception_type,
        severity=Severity(severity) if severity is not None else None,
        tags=unique,
        sla_minutes_remaining=sla_minutes_remaining,
        attributes=attributes if attributes is not None else {},
        domain_folded=domain.casefold(),
        exception_type_folded=exception_type.casefold(),
        tag_set=frozenset(unique),
    )


def path_getter(path: str) -> Callable[[Mapping[str, Any]], Any]:
    """Compile a dotted path into a lookup returning the value or ``MISSING``.

    Only nested objects are walked (BEHAVIOUR.md: "dotted paths walk nested objects").
    """
    parts = tuple(path.split("."))
    if len(parts) == 1:
        key = parts[0]

        def get_top(attributes: Mapping[str, Any]) -> Any:
            return attributes.get(key, MISSING)

        return get_top

    first, rest = parts[0], parts[1:]

    def get_nested(attributes: Mapping[str, Any]) -> Any:
        node = attributes.get(first, MISSING)
        for part in rest:
            if not isinstance(node, dict):  # also ends the walk once MISSING
                return MISSING
            node = node.get(part, MISSING)
        return node

    return get_nested
