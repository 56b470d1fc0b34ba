"""Effective severity precedence, tag rules and the SLA clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from exception_playbooks.matching.effective import effective_view, minutes_remaining
from exception_playbooks.matching.pack_rules import IdentityCache, domain_rules, policy_rules
from exception_playbooks.models.enums import Severity
from exception_playbooks.models.packs import PolicyPack

from .builders import NOW, iso_in, packs, record

DOMAIN: dict[str, Any] = {
    "exception_types": {"TradeSettlementFailure": {"default_severity": "low"}},
    "severity_rules": [
        {"when": {"attributes": {"amount": {"gte": 10_000_000}}}, "severity": "critical"},
        {"when": {"policy_tags": ["vip"]}, "severity": "high"},
        {"when": {"severity": "low"}, "severity": "medium"},
    ],
}
POLICY: dict[str, Any] = {"severity_overrides": {"TradeSettlementFailure": "critical"}}


def severity(packs_: Any, **fields: Any) -> tuple[Severity, str]:
    view = effective_view(record(**fields), packs_, NOW)
    return view.severity, view.severity_source


def test_a_severity_set_by_a_person_beats_everything():
    result = severity(packs(POLICY, DOMAIN), severity="low", severity_set_by_human=True, policy_tags=["vip"])
    assert result == (Severity.LOW, "human")


def test_a_human_flag_without_a_severity_falls_through():
    assert severity(packs(POLICY, DOMAIN), severity_set_by_human=True) == (
        Severity.CRITICAL,
        "policy.severity_overrides",
    )


def test_tenant_override_beats_domain_rules():
    assert severity(packs(POLICY, DOMAIN), policy_tags=["vip"], given_severity="low") == (
        Severity.CRITICAL,
        "policy.severity_overrides",
    )


def test_tenant_override_matches_the_type_case_insensitively():
    policy = {"severity_overrides": {"tradesettlementfailure": "low"}}
    assert severity(packs(policy), given_severity="high") == (Severity.LOW, "policy.severity_overrides")


def test_override_for_another_type_does_not_apply():
    policy = {"severity_overrides": {"TradeBreak": "critical"}}
    assert severity(packs(policy), given_severity="high") == (Severity.HIGH, "given")


def test_first_domain_rule_that_holds_wins():
    big = {"amount": 20_000_000}
    assert severity(packs(None, DOMAIN), attributes=big, policy_tags=["vip"]) == (
        Severity.CRITICAL,
        "domain.severity_rules[0]",
    )
    assert severity(packs(None, DOMAIN), policy_tags=["vip"]) == (Severity.HIGH, "domain.severity_rules[1]")


def test_domain_rules_see_the_given_severity():
    assert severity(packs(None, DOMAIN), given_severity="low") == (
        Severity.MEDIUM,
        "domain.severity_rules[2]",
    )


def test_domain_rules_do_not_see_the_current_severity_only_the_given_one():
    # Triage wrote "low" as the record's severity; rules still see what was given at creation (nothing).
    assert severity(packs(None, DOMAIN), severity="low") == (Severity.LOW, "domain.exception_types")


def test_domain_rules_see_own_tags_not_tags_added_by_tag_rules():
    policy = {"tag_rules": [{"when": {"domain": "Finance"}, "tags": ["vip"]}]}
    view = effective_view(record(given_severity="medium"), packs(policy, DOMAIN), NOW)
    assert "vip" in view.tags
    assert (view.severity, view.severity_source) == (Severity.MEDIUM, "given")


def test_given_severity_when_no_rule_holds():
    assert severity(packs(None, DOMAIN), given_severity="high") == (Severity.HIGH, "given")


def test_type_default_severity_when_nothing_was_given():
    assert severity(packs(None, DOMAIN)) == (Severity.LOW, "domain.exception_types")


def test_type_default_matches_the_type_case_insensitively():
    domain = {"exception_types": {"tradesettlementFAILURE": {"default_severity": "critical"}}}
    assert severity(packs(None, domain)) == (Severity.CRITICAL, "domain.exception_types")


def test_medium_when_nothing_else_applies():
    assert severity(packs()) == (Severity.MEDIUM, "default")
    assert severity(packs(None, {"exception_types": {"TradeSettlementFailure": {}}})) == (
        Severity.MEDIUM,
        "default",
    )


# --- tags -------------------------------------------------------------------------------------


def test_tag_rules_add_tags_and_see_the_effective_severity():
    policy = {
        "severity_overrides": {"TradeSettlementFailure": "critical"},
        "tag_rules": [
            {"when": {"severity": "critical"}, "tags": ["page-oncall", "urgent"]},
            {"when": {"severity": "low"}, "tags": ["never"]},
            {"when": {"policy_tags": ["vip"]}, "tags": ["vip", "priority-client"]},
        ],
    }
    view = effective_view(record(given_severity="low", policy_tags=["vip", "emea"]), packs(policy), NOW)
    assert view.tags == ("emea", "page-oncall", "priority-client", "urgent", "vip")
    assert view.added_tags == ("page-oncall", "priority-client", "urgent")
    assert view.tag_set == frozenset(view.tags)


def test_tag_rules_do_not_chain_on_each_others_tags():
    policy = {
        "tag_rules": [
            {"when": {"policy_tags": ["a"]}, "tags": ["b"]},
            {"when": {"policy_tags": ["b"]}, "tags": ["c"]},
        ]
    }
    assert effective_view(record(policy_tags=["a"]), packs(policy), NOW).tags == ("a", "b")


def test_invalid_pack_rules_are_ignored_and_reported():
    policy = PolicyPack.model_validate({"tag_rules": [{"when": {"bogus": 1}, "tags": ["x"]}]})
    view = effective_view(record(), packs().model_copy(update={"policy": policy}), NOW)
    assert view.tags == ()
    (warning,) = view.warnings
    assert warning.startswith("tag_rules[0].when.bogus: unknown condition key 'bogus'")
    assert warning.endswith("(rule ignored)")


# --- SLA and facts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        (iso_in(45), 45.0),
        (iso_in(-30), -30.0),
        (iso_in(0.5), 0.5),
        (None, None),
        ("", None),
        ("not a date", None),
    ],
)
def test_minutes_remaining(deadline: str | None, expected: float | None):
    assert minutes_remaining(deadline, NOW) == expected


def test_minutes_remaining_treats_a_naive_clock_as_utc():
    assert minutes_remaining(iso_in(10), NOW.replace(tzinfo=None)) == 10.0
    other_zone = (NOW + timedelta(hours=2)).astimezone().isoformat()
    assert minutes_remaining(other_zone, NOW) == 120.0


def test_view_carries_the_facts_conditions_need():
    attributes = {"amount": 5}
    view = effective_view(
        record(domain="FINANCE", sla_deadline=iso_in(15), attributes=attributes, given_severity="high"),
        packs(),
        NOW,
    )
    assert (view.domain, view.domain_folded, view.exception_type_folded) == (
        "FINANCE",
        "finance",
        "tradesettlementfailure",
    )
    assert view.sla_minutes_remaining == 15.0
    assert view.attributes == attributes
    assert view.as_dict() == {
        "severity": "high",
        "severity_source": "given",
        "tags": [],
        "added_tags": [],
        "sla_minutes_remaining": 15.0,
    }


def test_the_clock_is_injected():
    later = effective_view(record(sla_deadline=iso_in(15)), packs(), NOW + timedelta(minutes=20))
    assert later.sla_minutes_remaining == -5.0
    assert isinstance(NOW, datetime)


# --- pack rule cache --------------------------------------------------------------------------------


def test_pack_rules_are_compiled_once_per_pack_object():
    pack_set = packs(POLICY, DOMAIN)
    assert policy_rules(pack_set.policy) is policy_rules(pack_set.policy)
    assert pack_set.domain is not None
    assert domain_rules(pack_set.domain) is domain_rules(pack_set.domain)
    assert policy_rules(pack_set.policy) is not policy_rules(packs(POLICY).policy)


def test_identity_cache_is_bounded_and_never_confuses_objects():
    built: list[object] = []

    def build(obj: object) -> int:
        built.append(obj)
        return len(built)

    cache: IdentityCache[object, int] = IdentityCache(build, size=2)
    first, second, third = object(), object(), object()
    assert cache.get(first) == 1 and cache.get(first) == 1
    assert cache.get(second) == 2 and cache.get(third) == 3
    assert cache.get(first) == 4  # evicted (least recently used), rebuilt
    cache.clear()
    assert cache.get(third) == 5
