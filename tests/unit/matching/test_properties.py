"""Properties of selection: a total order, order independence, irrelevant playbooks change nothing."""

from __future__ import annotations

from typing import Any

from exception_playbooks.matching import (
    compile_match,
    rank_key,
    select_playbook,
    validate_conditions,
    validate_match,
)
from exception_playbooks.matching.language import ATTRIBUTE_OPERATORS, MATCH_KEYS
from exception_playbooks.models.playbook import PlaybookVersion
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .builders import NOW, facts, packs, playbook, record

SETTINGS = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXCEPTION = record(given_severity="high", policy_tags=["vip"], attributes={"amount": 500, "currency": "USD"})
PACKS = packs({"approved_tools": ["ok_tool"]}, {"tools": {"ok_tool": {}, "bad_tool": {}}})

# Small vocabularies so that matches, misses and ties are all common.
match_objects = st.fixed_dictionaries(
    {},
    optional={
        "domain": st.sampled_from(["Finance", "finance", "Ops"]),
        "exception_type": st.sampled_from(
            ["Trade*", "TradeSettlementFailure", "*Break", "?radeSettlementFailure"]
        ),
        "severity_in": st.lists(
            st.sampled_from(["low", "medium", "high", "critical"]), min_size=1, unique=True
        ),
        "policy_tags": st.lists(st.sampled_from(["vip", "emea"]), min_size=1, unique=True),
        "attributes": st.fixed_dictionaries(
            {},
            optional={
                "amount": st.sampled_from([{"gte": 100}, {"lt": 100}]),
                "currency": st.just({"eq": "USD"}),
            },
        ).filter(bool),
    },
)
steps = st.sampled_from(
    [
        [{"name": "n", "action_type": "notify", "params": {}}],
        [{"name": "t", "action_type": "call_tool", "params": {"tool_id": "ok_tool"}}],
        [{"name": "t", "action_type": "call_tool", "params": {"tool_id": "bad_tool"}}],
    ]
)


@st.composite
def playbooks(draw: Any, match: Any = match_objects) -> PlaybookVersion:
    return playbook(
        draw(st.sampled_from(["pb-a", "pb-b", "pb-c", "pb-d"])),
        draw(match),
        draw(st.integers(0, 3)),
        version=draw(st.integers(1, 3)),
        created_at=draw(
            st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.001Z", "2026-02-01T00:00:00Z"])
        ),
        steps=draw(steps),
    )


candidate_lists = st.lists(playbooks(), max_size=12, unique_by=lambda p: (p.playbook_id, p.version))


def outcome(candidates: list[PlaybookVersion]) -> tuple[Any, ...]:
    result = select_playbook(EXCEPTION, candidates, PACKS, NOW)
    winner = (result.winner.playbook_id, result.winner.version) if result.winner else None
    return winner, result.reasoning_dict()


@SETTINGS
@given(candidate_lists)
def test_ranking_is_a_total_order(candidates: list[PlaybookVersion]) -> None:
    keys = [rank_key(p) for p in candidates]
    assert len(set(keys)) == len(keys)  # no two distinct versions tie
    for a in keys:
        for b in keys:
            assert (a < b) + (b < a) + (a == b) == 1


@SETTINGS
@given(st.data(), candidate_lists)
def test_result_is_independent_of_candidate_order(data: Any, candidates: list[PlaybookVersion]) -> None:
    shuffled = data.draw(st.permutations(candidates))
    assert outcome(shuffled) == outcome(candidates)


@SETTINGS
@given(
    st.data(),
    candidate_lists,
    playbooks(match_objects.map(lambda match: {**match, "domain": "Nowhere"})),
    st.integers(-1_000_000, 1_000_000),
)
def test_a_playbook_that_does_not_match_never_changes_the_winner(
    data: Any, candidates: list[PlaybookVersion], extra: PlaybookVersion, priority: int
) -> None:
    extra = playbook(
        "pb-z",
        extra.conditions.match,
        priority,
        created_at="2030-01-01T00:00:00Z",
        steps=[{"name": "n", "action_type": "notify"}],
    )
    position = data.draw(st.integers(0, len(candidates)))
    before = select_playbook(EXCEPTION, candidates, PACKS, NOW).winner
    after = select_playbook(
        EXCEPTION, [*candidates[:position], extra, *candidates[position:]], PACKS, NOW
    ).winner
    assert after is before


@SETTINGS
@given(
    match_objects,
    st.sampled_from(["low", "high", None]),
    st.lists(st.sampled_from(["vip", "emea"]), unique=True),
    st.sampled_from([{}, {"amount": 500}, {"amount": 50, "currency": "USD"}, {"amount": "500"}]),
)
def test_fast_path_and_explanation_always_agree(
    match: dict[str, Any], severity: str | None, tags: list[str], attributes: dict[str, Any]
) -> None:
    sheet = facts(severity=severity, tags=tags, attributes=attributes)
    compiled = compile_match(match)
    assert compiled.evaluate(sheet) is all(check.passed for check in compiled.explain(sheet))


# --- robustness of the language on arbitrary JSON ----------------------------------------------------

_words = st.sampled_from([*MATCH_KEYS, *ATTRIBUTE_OPERATORS, "amount", "a.b", "", "priority", "match"])
_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5) | _words
)
json_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(_words | st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=12,
)


@SETTINGS
@given(st.dictionaries(_words, json_values, max_size=5))
def test_validation_never_crashes_and_valid_means_compilable(raw: dict[str, Any]) -> None:
    problems = validate_match(raw)
    assert all(problem.path.startswith("conditions.match") for problem in problems)
    validate_conditions(raw)  # the same document read as a legacy conditions object
    if not problems:
        compiled = compile_match(raw)
        sheet = facts()
        assert compiled.evaluate(sheet) is all(check.passed for check in compiled.explain(sheet))
