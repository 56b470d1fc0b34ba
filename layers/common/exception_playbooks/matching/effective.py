"""The effective view of an exception: severity and tags after the packs, and the SLA clock.

Precedence (BEHAVIOUR.md, Packs): a severity a person set, else the tenant override for the
type, else the first domain severity rule that holds (rules see the severity given at creation
and the exception's own tags), else the given severity, else the type's default, else medium.
Tag rules see the effective severity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ..models.enums import Severity
from ..models.exception import ExceptionRecord
from ..models.packs import PackSet
from ..ports import parse_iso
from .facts import FactSheet, fact_sheet
from .pack_rules import DomainRules, PolicyRules, domain_rules, policy_rules

# Where the effective severity came from (shown in reasoning and triage).
SOURCE_HUMAN = "human"
SOURCE_OVERRIDE = "policy.severity_overrides"
SOURCE_GIVEN = "given"
SOURCE_TYPE_DEFAULT = "domain.exception_types"
SOURCE_DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class EffectiveView:
    """What matching sees of one exception at one moment (satisfies ``facts.Facts``)."""

    domain: str
    exception_type: str
    severity: Severity
    severity_source: str  # one of the SOURCE_* values or "domain.severity_rules[N]"
    tags: tuple[str, ...]  # sorted, unique: own tags plus those tag rules add
    added_tags: tuple[str, ...]  # the tags only tag rules contributed
    sla_minutes_remaining: float | None
    attributes: Mapping[str, Any] = field(repr=False)
    domain_folded: str = field(repr=False)
    exception_type_folded: str = field(repr=False)
    tag_set: frozenset[str] = field(repr=False)
    warnings: tuple[str, ...] = ()  # pack rules that could not be compiled and were ignored

    def as_dict(self) -> dict[str, Any]:
        remaining = self.sla_minutes_remaining
        return {
            "severity": self.severity.value,
            "severity_source": self.severity_source,
            "tags": list(self.tags),
            "added_tags": list(self.added_tags),
            "sla_minutes_remaining": None if remaining is None else round(remaining, 2),
        }


def effective_view(record: ExceptionRecord, packs: PackSet, now: datetime) -> EffectiveView:
    policy = policy_rules(packs.policy)
    domain = domain_rules(packs.domain) if packs.domain is not None else None
    own = fact_sheet(
        domain=record.domain,
        exception_type=record.exception_type,
        severity=record.given_severity,
        tags=record.policy_tags,
        sla_minutes_remaining=minutes_remaining(record.sla_deadline, now),
        attributes=record.attributes,
    )
    severity, source = _effective_severity(record, own, policy, domain)
    added = _rule_tags(replace(own, severity=severity), policy)
    tags = tuple(sorted(own.tag_set | added))
    return EffectiveView(
        domain=own.domain,
        exception_type=own.exception_type,
        severity=severity,
        severity_source=source,
        tags=tags,
        added_tags=tuple(sorted(added - own.tag_set)),
        sla_minutes_remaining=own.sla_minutes_remaining,
        attributes=own.attributes,
        warnings=policy.warnings + (domain.warnings if domain else ()),
        domain_folded=own.domain_folded,
        exception_type_folded=own.exception_type_folded,
        tag_set=frozenset(tags),
    )


def minutes_remaining(deadline: str | None, now: datetime) -> float | None:
    """Minutes from ``now`` to the deadline (negative when overdue); ``None`` without a deadline."""
    if not deadline:
        return None
    try:
        moment = parse_iso(deadline)
    except ValueError:
        return None  # an unreadable deadline is treated as no deadline rather than failing matching
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return (moment - now).total_seconds() / 60.0


def _effective_severity(
    record: ExceptionRecord, own: FactSheet, policy: PolicyRules, domain: DomainRules | None
) -> tuple[Severity, str]:
    if record.severity_set_by_human and record.severity is not None:
        return record.severity, SOURCE_HUMAN
    override = policy.overrides.get(record.exception_type) or policy.folded_overrides.get(
        own.exception_type_folded
    )
    if override is not None:
        return override, SOURCE_OVERRIDE
    if domain is not None:
        for index, (when, severity) in enumerate(domain.severity_rules):
            if when is not None and when.evaluate(own):
                return severity, f"domain.severity_rules[{index}]"
    if record.given_severity is not None:
        return record.given_severity, SOURCE_GIVEN
    if domain is not None:
        default = domain.type_defaults.get(own.exception_type_folded)
        if default is not None:
            return default, SOURCE_TYPE_DEFAULT
    return Severity.MEDIUM, SOURCE_DEFAULT


def _rule_tags(facts: FactSheet, policy: PolicyRules) -> frozenset[str]:
    # Every rule sees the same facts (own tags only), so the result does not depend on rule order.
    added: set[str] = set()
    for when, tags in policy.tag_rules:
        if when is not None and when.evaluate(facts):
            added.update(tags)
    return frozenset(added)
