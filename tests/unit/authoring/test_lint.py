"""Each lint rule with a case that fires and one that does not (pure, no AWS)."""

from __future__ import annotations

from typing import Any

import pytest
from exception_playbooks.authoring.lint import Finding, LintContext, has_errors, lint, seen_paths
from exception_playbooks.models.packs import DomainPack, PolicyPack
from exception_playbooks.models.playbook import Conditions, PlaybookVersion, Step

DOMAIN = "CapitalMarkets"
PACK = DomainPack.model_validate(
    {
        "domain": DOMAIN,
        "version": 1,
        "tools": {
            "lookup": {"parameters": {"type": "object"}, "risk": "low"},
            "retry": {"parameters": {"type": "object"}, "risk": "high"},
            "unapproved": {"parameters": {"type": "object"}},
        },
    }
)
POLICY = PolicyPack.model_validate({"approved_tools": ["lookup", "retry"], "version": 1})


def playbook(
    match: dict[str, Any] | None = None,
    *,
    steps: list[dict[str, Any]] | None = None,
    priority: int = 0,
    playbook_id: str = "pb-draft",
    created_at: str = "2026-03-01T00:00:00.000Z",
) -> PlaybookVersion:
    steps = steps or [{"name": "Note", "action_type": "add_comment", "params": {"text": "hello"}}]
    return PlaybookVersion(
        playbook_id=playbook_id,
        version=1,
        name=playbook_id,
        conditions=Conditions(match={"domain": DOMAIN, **(match or {})}, priority=priority),
        steps=tuple(Step(step_order=n, **s) for n, s in enumerate(steps, 1)),
        created_at=created_at,
    )


def rules(
    subject: PlaybookVersion,
    *,
    catalogue: tuple[PlaybookVersion, ...] = (),
    policy: PolicyPack = POLICY,
    pack: DomainPack | None = PACK,
    seen: frozenset[str] | None = None,
) -> list[tuple[str, str, str]]:
    context = LintContext(policy, pack, catalogue, seen, 10 if seen else 0)
    return [(f.rule, f.severity, f.path) for f in lint(subject, context)]


@pytest.mark.parametrize(
    ("match", "path"),
    [
        ({"severity": "low", "severity_in": ["high", "critical"]}, "conditions.match.severity_in"),
        ({"attributes": {"amount": {"gt": 10, "lt": 5}}}, "conditions.match.attributes.amount"),
        ({"attributes": {"venue": {"in": ["A"], "not_in": ["A"]}}}, "conditions.match.attributes.venue"),
        ({"attributes": {"n": {"eq": 1, "ne": 1}}}, "conditions.match.attributes.n"),
        ({"attributes": {"n": {"eq": "1", "gt": 5}}}, "conditions.match.attributes.n"),
    ],
)
def test_never_holds_fires_on_contradictions(match: dict[str, Any], path: str) -> None:
    assert ("never_holds", "error", path) in rules(playbook(match))


@pytest.mark.parametrize(
    "match",
    [
        {"severity": "high", "severity_in": ["high", "critical"]},
        {"attributes": {"amount": {"gt": 5, "lt": 6}}},
        {"attributes": {"venue": {"in": ["A", "B"], "not_in": ["A"]}}},
        {"attributes": {"code": {"glob": "E*", "ne": "E1"}}},
        {"attributes": {"x": {"gte": "2025-01-01", "lt": "2025-01-02"}}},
    ],
)
def test_never_holds_stays_quiet_on_satisfiable_conditions(match: dict[str, Any]) -> None:
    assert rules(playbook(match)) == []


def test_dead_any_of_branch_is_a_warning_a_live_one_is_not() -> None:
    dead = {"any_of": [{"severity": "low", "severity_in": ["high"]}, {"severity": "high"}]}
    assert rules(playbook(dead)) == [("dead_branch", "warning", "conditions.match.any_of[0]")]
    assert rules(playbook({"any_of": [{"severity": "low"}, {"severity": "high"}]})) == []
    every = {"any_of": [{"severity": "low", "severity_in": ["high"]}]}
    assert ("never_holds", "error", "conditions.match.any_of") in rules(playbook(every))


def test_unknown_domain() -> None:
    assert rules(playbook(), pack=None) == [("unknown_domain", "warning", "conditions.match.domain")]
    assert rules(playbook(), pack=PACK) == []


def test_shadowed_by_a_broader_higher_ranked_compliant_playbook() -> None:
    broad = playbook({}, priority=10, playbook_id="pb-broad", created_at="2026-01-01T00:00:00.000Z")
    narrow = playbook({"severity_in": ["high"], "attributes": {"n": {"gt": 3}}}, priority=5)
    assert rules(narrow, catalogue=(broad,)) == [("shadowed", "error", "conditions.match")]
    # Not shadowed: it ranks higher, or the broad one does not cover it, or is not compliant.
    assert rules(playbook({"severity": "high"}, priority=10), catalogue=(broad,)) == []
    other = playbook({"severity": "low"}, priority=10, playbook_id="pb-low", created_at=broad.created_at)
    assert rules(narrow, catalogue=(other,)) == []
    blocked = PolicyPack.model_validate({**POLICY.model_dump(), "blocked_action_types": ["notify"]})
    noisy = playbook(
        {},
        priority=10,
        playbook_id="pb-noisy",
        steps=[{"name": "N", "action_type": "notify", "params": {"channel": "log", "group": "g"}}],
    )
    assert rules(narrow, catalogue=(noisy,), policy=blocked) == []


def test_a_stored_playbook_with_broken_conditions_shadows_nothing() -> None:
    broken = playbook(
        {"severity": "urgent"}, priority=99, playbook_id="pb-broken", created_at="2026-01-01T00:00:00.000Z"
    )
    assert rules(playbook({}, priority=1), catalogue=(broken,)) == []


def test_shadows_warns_when_the_new_playbook_would_silence_a_live_one() -> None:
    live = playbook(
        {"severity": "high"}, priority=5, playbook_id="pb-live", created_at="2026-01-01T00:00:00.000Z"
    )
    assert rules(playbook({}, priority=20), catalogue=(live,)) == [("shadows", "warning", "conditions.match")]
    assert rules(playbook({"severity": "low"}, priority=20), catalogue=(live,)) == []
    assert rules(playbook({}, priority=1), catalogue=(live,)) == []


def test_unseen_template_and_condition_attributes() -> None:
    steps = [
        {"name": "Note", "action_type": "add_comment", "params": {"text": "{exception.attributes.trade.id}"}}
    ]
    subject = playbook({"attributes": {"desk": {"eq": "A"}}}, steps=steps)
    seen = seen_paths([{"trade": {"ref": "T-1"}, "venue": "X"}])
    assert rules(subject, seen=seen) == [
        ("unseen_attribute", "warning", "steps[0].params.text"),
        ("unseen_attribute", "warning", "conditions.match.attributes.desk"),
    ]
    known = seen_paths([{"trade": {"id": "T-1"}, "desk": "A"}])
    assert rules(subject, seen=known) == []
    assert rules(subject, seen=None) == []  # no recent exceptions: nothing to compare with


def test_steps_needing_approval() -> None:
    flagged = [
        {"name": "Sign", "action_type": "add_comment", "params": {"text": "x"}, "requires_approval": True}
    ]
    assert rules(playbook(steps=flagged)) == [("needs_approval", "warning", "steps[0]")]
    risky = [{"name": "Retry", "action_type": "call_tool", "params": {"tool_id": "retry", "payload": {}}}]
    assert rules(playbook(steps=risky)) == [("needs_approval", "warning", "steps[0]")]
    by_severity = PolicyPack.model_validate(
        {**POLICY.model_dump(), "human_approval": {"severities": ["critical"]}}
    )
    assert rules(playbook(), policy=by_severity) == [("needs_approval", "warning", "steps[0]")]
    assert rules(playbook({"severity": "low"}), policy=by_severity) == []
    assert rules(playbook()) == []


def test_tools_and_action_types_the_policy_refuses() -> None:
    unapproved = [
        {"name": "T", "action_type": "call_tool", "params": {"tool_id": "unapproved", "payload": {}}}
    ]
    assert rules(playbook(steps=unapproved)) == [("tool_not_approved", "error", "steps[0].params.tool_id")]
    undefined = [{"name": "T", "action_type": "call_tool", "params": {"tool_id": "nowhere", "payload": {}}}]
    policy = PolicyPack.model_validate({"approved_tools": ["nowhere"]})
    assert rules(playbook(steps=undefined), policy=policy) == [
        ("tool_unknown", "error", "steps[0].params.tool_id")
    ]
    lookup = [{"name": "T", "action_type": "call_tool", "params": {"tool_id": "lookup", "payload": {}}}]
    assert rules(playbook(steps=lookup)) == []
    blocked = PolicyPack.model_validate({**POLICY.model_dump(), "blocked_action_types": ["add_comment"]})
    assert rules(playbook(), policy=blocked) == [("blocked_action", "error", "steps[0].action_type")]


def test_has_errors() -> None:
    assert has_errors([Finding("error", "x", "p", "m")])
    assert not has_errors([Finding("warning", "x", "p", "m")])


def test_every_rule_is_documented_in_the_guide() -> None:
    import re
    from pathlib import Path

    from exception_playbooks.authoring import lint as module

    source = Path(module.__file__).read_text(encoding="utf-8")
    rules = set(re.findall(r'Finding\(\s*(?:ERROR|WARNING),\s*"([a-z_]+)"', source))
    guide = (Path(__file__).resolve().parents[3] / "docs" / "playbooks.md").read_text(encoding="utf-8")
    assert rules and all(f"| `{rule}` |" in guide for rule in rules), rules
