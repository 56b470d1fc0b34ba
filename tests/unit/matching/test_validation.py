from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from exception_playbooks.matching.validation import validate_conditions, validate_match

VALID = {
    "domain": "Finance",
    "exception_type": "Trade*",
    "severity": "high",
    "severity_in": ["high", "critical"],
    "sla_minutes_remaining_lt": 60,
    "policy_tags": ["vip"],
    "attributes": {
        "amount": {"gte": 1000, "lt": Decimal("1e9")},
        "currency": {"in": ["USD", "EUR"], "ne": "JPY"},
        "counterparty.name": {"glob": "*bank*", "exists": True},
        "book.code": {"not_in": ["TEST"], "eq": "LDN"},
        "trade_date": {"gt": "2026-01-01"},
        "flagged": {"eq": False},
    },
    "any_of": [{"severity": "critical"}, {"any_of": [{"policy_tags": ["regulatory"]}]}],
}


def paths(problems: list[Any]) -> list[str]:
    return [problem.path for problem in problems]


def test_a_complete_valid_match_has_no_problems():
    assert validate_match(VALID) == []
    assert validate_match({}) == []  # the catch-all


def test_every_problem_is_reported_with_its_path():
    match = {
        "domian": "Finance",
        "severity": "urgent",
        "severity_in": ["high", "HIGH", 3],
        "policy_tags": [],
        "sla_minutes_remaining_lt": True,
        "attributes": {
            "amount": {"gtx": 5, "gte": "a", "lt": True},
            "a..b": {"eq": 1},
            "currency": {"in": ["USD", 1]},
            "x": {},
        },
        "any_of": [{"severity": "high"}, {"severity": "bad"}, {}],
    }
    assert paths(validate_match(match)) == [
        "conditions.match.domian",
        "conditions.match.severity",
        "conditions.match.severity_in[1]",
        "conditions.match.severity_in[2]",
        "conditions.match.policy_tags",
        "conditions.match.sla_minutes_remaining_lt",
        "conditions.match.attributes.amount.gtx",
        "conditions.match.attributes.amount.lt",
        "conditions.match.attributes.a..b",
        "conditions.match.attributes.currency.in",
        "conditions.match.attributes.x",
        "conditions.match.any_of[1].severity",
        "conditions.match.any_of[2]",
    ]


def test_ordering_operators_accept_strings_but_not_booleans():
    problems = validate_match({"attributes": {"amount": {"gte": "a", "lt": True}}})
    assert paths(problems) == ["conditions.match.attributes.amount.lt"]


def test_unknown_key_suggests_the_closest_name():
    (problem,) = validate_match({"domian": "x"})
    assert "unknown condition key 'domian'" in problem.message
    assert "did you mean 'domain'" in problem.message


def test_unknown_operator_suggests_the_closest_operator():
    (problem,) = validate_match({"attributes": {"amount": {"gtx": 1}}}, "m")
    assert problem.path == "m.attributes.amount.gtx"
    assert "did you mean 'gt'" in problem.message


def test_priority_inside_match_is_explained():
    (problem,) = validate_match({"priority": 5})
    assert problem.path == "conditions.match.priority"
    assert "next to match" in problem.message


@pytest.mark.parametrize(
    ("match", "path", "fragment"),
    [
        ([], "conditions.match", "must be an object"),
        ({"domain": ""}, "conditions.match.domain", "non-empty string"),
        ({"domain": "  "}, "conditions.match.domain", "non-empty string"),
        ({"domain": 5}, "conditions.match.domain", "non-empty string"),
        ({"exception_type": None}, "conditions.match.exception_type", "non-empty string"),
        ({"severity": "High"}, "conditions.match.severity", "one of low, medium, high, critical"),
        ({"severity_in": "high"}, "conditions.match.severity_in", "must be a list"),
        ({"severity_in": []}, "conditions.match.severity_in", "must not be empty"),
        ({"sla_minutes_remaining_lt": "60"}, "conditions.match.sla_minutes_remaining_lt", "number"),
        ({"sla_minutes_remaining_lt": float("inf")}, "conditions.match.sla_minutes_remaining_lt", "number"),
        ({"sla_minutes_remaining_lt": Decimal("NaN")}, "conditions.match.sla_minutes_remaining_lt", "number"),
        ({"policy_tags": "vip"}, "conditions.match.policy_tags", "must be a list"),
        ({"policy_tags": ["vip", ""]}, "conditions.match.policy_tags[1]", "non-empty string"),
        ({"attributes": []}, "conditions.match.attributes", "must be an object"),
        ({"attributes": {}}, "conditions.match.attributes", "must not be empty"),
        ({"attributes": {"a": 5}}, "conditions.match.attributes.a", "object of operators"),
        ({"attributes": {".a": {"eq": 1}}}, "conditions.match.attributes..a", "dotted path"),
        ({"attributes": {"a.": {"eq": 1}}}, "conditions.match.attributes.a.", "dotted path"),
        ({"attributes": {"a": {"eq": None}}}, "conditions.match.attributes.a.eq", "use exists"),
        ({"attributes": {"a": {"eq": [1]}}}, "conditions.match.attributes.a.eq", "string, number or boolean"),
        (
            {"attributes": {"a": {"ne": {"x": 1}}}},
            "conditions.match.attributes.a.ne",
            "string, number or boolean",
        ),
        ({"attributes": {"a": {"in": []}}}, "conditions.match.attributes.a.in", "must not be empty"),
        ({"attributes": {"a": {"in": "USD"}}}, "conditions.match.attributes.a.in", "must be a list"),
        ({"attributes": {"a": {"not_in": [1, None]}}}, "conditions.match.attributes.a.not_in[1]", "string"),
        ({"attributes": {"a": {"in": [1, True]}}}, "conditions.match.attributes.a.in", "one kind"),
        ({"attributes": {"a": {"gt": None}}}, "conditions.match.attributes.a.gt", "number or a string"),
        ({"attributes": {"a": {"exists": "yes"}}}, "conditions.match.attributes.a.exists", "true or false"),
        ({"attributes": {"a": {"glob": ""}}}, "conditions.match.attributes.a.glob", "non-empty string"),
        ({"attributes": {"a": {"glob": 3}}}, "conditions.match.attributes.a.glob", "non-empty string"),
        (
            {"attributes": {"a": {"exists": False, "eq": 1}}},
            "conditions.match.attributes.a.exists",
            "combined",
        ),
        ({"any_of": {"severity": "high"}}, "conditions.match.any_of", "list of match objects"),
        ({"any_of": []}, "conditions.match.any_of", "at least one"),
        ({"any_of": ["high"]}, "conditions.match.any_of[0]", "must be an object"),
        ({"any_of": [{}]}, "conditions.match.any_of[0]", "always holds"),
        ({"any_of": [{"any_of": [{"nope": 1}]}]}, "conditions.match.any_of[0].any_of[0].nope", "unknown"),
    ],
)
def test_each_kind_of_problem(match: Any, path: str, fragment: str):
    problems = validate_match(match)
    assert [problem.path for problem in problems] == [path]
    assert fragment in problems[0].message


def test_any_of_nesting_is_bounded():
    match: dict[str, Any] = {"severity": "high"}
    for _ in range(5):
        match = {"any_of": [match]}
    (problem,) = validate_match(match)
    assert problem.path == "conditions.match" + ".any_of[0]" * 4 + ".any_of"
    assert "nested at most" in problem.message


def test_validate_conditions_checks_the_envelope_and_the_match():
    problems = validate_conditions({"match": {"severity": "x"}, "priority": "high", "extra": 1})
    assert paths(problems) == ["conditions.extra", "conditions.priority", "conditions.match.severity"]
    assert validate_conditions({"match": {}, "priority": 2_000_000})[0].path == "conditions.priority"
    assert validate_conditions({"match": {}, "priority": True})[0].message == "must be an integer"
    assert paths(validate_conditions(None)) == ["conditions"]
    assert paths(validate_conditions({"match": None})) == ["conditions.match"]


def test_validate_conditions_accepts_the_legacy_form():
    assert validate_conditions({"domain": "Finance", "priority": 5}) == []
    assert paths(validate_conditions({"domian": "Finance", "priority": 5})) == ["conditions.match.domian"]
