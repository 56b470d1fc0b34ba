"""Pack rules (severity rules, type defaults, overrides, tag rules) compiled once per pack version.

Packs are immutable per version, so the compiled form is cached by object identity. The cache
holds a strong reference to each pack it serves, so an ``id`` is never reused while cached, and
stays small (LRU) because a warm Lambda sees a handful of tenants' packs at a time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..bounds import PACK_RULES_CACHE_MAX_ENTRIES
from ..errors import ValidationFailed
from ..models.enums import Severity
from ..models.packs import DomainPack, PolicyPack
from .compiler import CompiledMatch, compile_match

PackT = TypeVar("PackT")
CompiledT = TypeVar("CompiledT")

CACHE_SIZE = PACK_RULES_CACHE_MAX_ENTRIES


@dataclass(frozen=True, slots=True)
class DomainRules:
    # A rule whose ``when`` is invalid compiles to ``None`` and never holds (reported in warnings).
    severity_rules: tuple[tuple[CompiledMatch | None, Severity], ...]
    type_defaults: dict[str, Severity]  # case-folded exception type -> default severity
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PolicyRules:
    overrides: dict[str, Severity]  # exact exception type -> severity
    folded_overrides: dict[str, Severity]  # case-folded fallback, like matching's type equality
    tag_rules: tuple[tuple[CompiledMatch | None, tuple[str, ...]], ...]
    warnings: tuple[str, ...]


class IdentityCache(Generic[PackT, CompiledT]):
    """Small LRU from an immutable object (by identity) to its compiled form."""

    def __init__(self, build: Callable[[PackT], CompiledT], size: int = CACHE_SIZE):
        self._build = build
        self._size = size
        self._entries: OrderedDict[int, tuple[PackT, CompiledT]] = OrderedDict()

    def get(self, obj: PackT) -> CompiledT:
        key = id(obj)
        hit = self._entries.get(key)
        if hit is not None and hit[0] is obj:
            self._entries.move_to_end(key)
            return hit[1]
        compiled = self._build(obj)
        self._entries[key] = (obj, compiled)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return compiled

    def clear(self) -> None:
        self._entries.clear()


def _compile_when(when: Any, path: str, warnings: list[str]) -> CompiledMatch | None:
    try:
        return compile_match(when, path)
    except ValidationFailed as failure:
        warnings.extend(f"{p.path}: {p.message} (rule ignored)" for p in failure.problems)
        return None


def _build_domain(pack: DomainPack) -> DomainRules:
    warnings: list[str] = []
    rules = tuple(
        (_compile_when(rule.when, f"severity_rules[{index}].when", warnings), rule.severity)
        for index, rule in enumerate(pack.severity_rules)
    )
    defaults = {
        name.casefold(): spec.default_severity
        for name, spec in pack.exception_types.items()
        if spec.default_severity is not None
    }
    return DomainRules(rules, defaults, tuple(warnings))


def _build_policy(pack: PolicyPack) -> PolicyRules:
    warnings: list[str] = []
    rules = tuple(
        (_compile_when(rule.when, f"tag_rules[{index}].when", warnings), tuple(rule.tags))
        for index, rule in enumerate(pack.tag_rules)
    )
    overrides = dict(pack.severity_overrides)
    folded = {name.casefold(): severity for name, severity in overrides.items()}
    return PolicyRules(overrides, folded, rules, tuple(warnings))


_domain_cache: IdentityCache[DomainPack, DomainRules] = IdentityCache(_build_domain)
_policy_cache: IdentityCache[PolicyPack, PolicyRules] = IdentityCache(_build_policy)


def domain_rules(pack: DomainPack) -> DomainRules:
    return _domain_cache.get(pack)


def policy_rules(pack: PolicyPack) -> PolicyRules:
    return _policy_cache.get(pack)
