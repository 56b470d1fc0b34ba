"""Shadowing checked against the matching engine itself (hypothesis).

Over a finite universe of effective views that covers every region the generated conditions can
tell apart (each operand, between operands, beyond them, other kinds, missing), a playbook the
lint reports as shadowed never wins, and a satisfiable playbook it does not report wins for at
least one of them (the witness is constructed by search over the universe).
"""

from __future__ import annotations

import itertools
from typing import Any

from exception_playbooks.authoring import regions
from exception_playbooks.authoring.lint import LintContext, lint
from exception_playbooks.matching.effective import EffectiveView
from exception_playbooks.matching.engine import select_for_view
from exception_playbooks.matching.facts import MISSING
from exception_playbooks.models.enums import ActionType, Severity
from exception_playbooks.models.packs import PackSet, PolicyPack
from exception_playbooks.models.playbook import Conditions, PlaybookVersion, Step
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

POLICY = PolicyPack()
PACKS = PackSet(policy=POLICY)
OPERANDS = (1, 2, 3)


def _view(
    domain: str, kind: str, severity: Severity, tags: tuple[str, ...], sla: float | None, n: Any
) -> EffectiveView:
    return EffectiveView(
        domain=domain,
        exception_type=kind,
        severity=severity,
        severity_source="given",
        tags=tags,
        added_tags=(),
        sla_minutes_remaining=sla,
        attributes={} if n is MISSING else {"n": n},
        domain_folded=domain.casefold(),
        exception_type_folded=kind.casefold(),
        tag_set=frozenset(tags),
    )


UNIVERSE = tuple(
    _view(*combo)
    for combo in itertools.product(
        ("D1", "D2", "D3"),
        ("T1", "T2", "U"),
        tuple(Severity),
        ((), ("a",), ("a", "b")),
        (None, 20.0, 45.0, 90.0),
        (MISSING, 0, 1, 1.5, 2, 2.5, 3, 4, "s"),
    )
)

operand = st.sampled_from(OPERANDS)
attribute_ops = st.one_of(
    st.builds(lambda v: {"eq": v}, operand),
    st.builds(lambda v: {"ne": v}, operand),
    st.builds(lambda v: {"gt": v}, operand),
    st.builds(lambda v: {"lte": v}, operand),
    st.builds(lambda a, b: {"gte": a, "lt": b}, operand, operand),
    st.builds(lambda vs: {"in": sorted(vs)}, st.sets(operand, min_size=1)),
    st.builds(lambda vs: {"not_in": sorted(vs)}, st.sets(operand, min_size=1)),
    st.sampled_from([{"exists": True}, {"exists": False}]),
)
severity_names = st.sampled_from([s.value for s in Severity])


@st.composite
def matches(draw: st.DrawFn) -> dict[str, Any]:
    match: dict[str, Any] = {}
    if draw(st.booleans()):
        match["domain"] = draw(st.sampled_from(["D1", "D2"]))
    if draw(st.booleans()):
        match["exception_type"] = draw(st.sampled_from(["T1", "T2", "T*"]))
    if draw(st.integers(0, 3)) == 0:
        match["severity"] = draw(severity_names)
    if draw(st.booleans()):
        match["severity_in"] = sorted(draw(st.sets(severity_names, min_size=1)))
    if draw(st.integers(0, 2)) == 0:
        match["sla_minutes_remaining_lt"] = draw(st.sampled_from([30, 60]))
    if draw(st.integers(0, 2)) == 0:
        match["policy_tags"] = draw(st.sampled_from([["a"], ["a", "b"], ["b"]]))
    if draw(st.booleans()):
        match["attributes"] = {"n": draw(attribute_ops)}
    return match


_COUNTER = itertools.count()


def make(match: dict[str, Any], priority: int) -> PlaybookVersion:
    number = next(_COUNTER)
    return PlaybookVersion(
        playbook_id=f"pb-{number:06d}",
        version=1,
        name=f"P{number}",
        conditions=Conditions(match=match, priority=priority),
        steps=(Step(step_order=1, name="Note", action_type=ActionType.ADD_COMMENT, params={"text": "x"}),),
        created_at=f"2026-01-01T00:{number // 60 % 60:02d}:{number % 60:02d}.000Z",
    )


def shadowed(subject: PlaybookVersion, catalogue: list[PlaybookVersion]) -> bool:
    context = LintContext(POLICY, None, tuple(catalogue))
    return any(f.rule == "shadowed" for f in lint(subject, context))


def wins_somewhere(subject: PlaybookVersion, catalogue: list[PlaybookVersion]) -> bool:
    candidates = [*catalogue, subject]
    return any(select_for_view(view, candidates, PACKS).winner is subject for view in UNIVERSE)


priorities = st.sampled_from([0, 5])
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(st.tuples(matches(), priorities), min_size=1, max_size=3), matches(), priorities)
def test_a_playbook_reported_shadowed_never_wins(
    others: list[tuple[dict[str, Any], int]], match: dict[str, Any], priority: int
) -> None:
    catalogue = [make(m, p) for m, p in others]
    subject = make(match, priority)
    if shadowed(subject, catalogue):
        assert not wins_somewhere(subject, catalogue)


@SETTINGS
@given(matches(), priorities, matches(), priorities)
def test_a_satisfiable_playbook_not_reported_wins_for_some_exception(
    other: dict[str, Any], other_priority: int, match: dict[str, Any], priority: int
) -> None:
    rival = make(other, other_priority)
    subject = make(match, priority)
    if regions.never_holds(subject.conditions.match) or shadowed(subject, [rival]):
        return
    assert wins_somewhere(subject, [rival])


def test_the_properties_are_not_vacuous() -> None:
    broad, narrow = make({"domain": "D1"}, 5), make({"domain": "D1", "attributes": {"n": {"gt": 2}}}, 0)
    assert shadowed(narrow, [broad]) and not wins_somewhere(narrow, [broad])
    assert not shadowed(broad, [narrow]) and wins_somewhere(broad, [narrow])
