"""The condition language end to end: each key true, false, at its boundary and when missing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from exception_playbooks.errors import ValidationFailed
from exception_playbooks.matching.conditions import Check, compile_match, jsonable
from exception_playbooks.models.enums import Severity

from .builders import facts


def holds(match: dict[str, Any], **overrides: Any) -> bool:
    compiled = compile_match(match)
    result = compiled.evaluate(facts(**overrides))
    # The explained form must always agree with the fast path.
    explained = all(check.passed for check in compiled.explain(facts(**overrides)))
    assert explained is result
    return result


def test_empty_match_is_a_catch_all():
    compiled = compile_match({})
    assert compiled.is_catch_all
    assert compiled.evaluate(facts())
    assert compiled.explain(facts()) == []
    assert compiled.specificity == 0


@pytest.mark.parametrize(
    ("wanted", "expected"), [("Finance", True), ("FINANCE", True), ("finance ", False), ("Ops", False)]
)
def test_domain_is_case_insensitive_equality(wanted: str, expected: bool):
    assert holds({"domain": wanted}) is expected


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ("TradeSettlementFailure", True),
        ("tradesettlementfailure", True),
        ("TradeSettlement", False),
        ("Trade*", True),
        ("trade*", True),
        ("*failure", True),
        ("Trade?ettlementFailure", True),
        ("Trade?Failure", False),
        ("Payment*", False),
    ],
)
def test_exception_type_exact_or_glob(wanted: str, expected: bool):
    assert holds({"exception_type": wanted}) is expected


@pytest.mark.parametrize(("severity", "expected"), [("high", True), ("medium", False), ("critical", False)])
def test_severity_equals(severity: str, expected: bool):
    assert holds({"severity": "high"}, severity=severity) is expected


def test_severity_without_a_value_never_holds():
    assert not holds({"severity": "high"}, severity=None)
    assert not holds({"severity_in": ["high"]}, severity=None)


@pytest.mark.parametrize(("severity", "expected"), [("high", True), ("critical", True), ("low", False)])
def test_severity_in(severity: str, expected: bool):
    assert holds({"severity_in": ["high", "critical"]}, severity=severity) is expected


@pytest.mark.parametrize(
    ("remaining", "expected"),
    [
        (59.99, True),
        (60.0, False),  # equal to the threshold does not match
        (60.01, False),
        (0.0, True),
        (-30.0, True),  # overdue counts as negative
        (None, False),  # no deadline never matches
    ],
)
def test_sla_minutes_remaining_lt(remaining: float | None, expected: bool):
    assert holds({"sla_minutes_remaining_lt": 60}, sla_minutes_remaining=remaining) is expected


def test_sla_threshold_may_be_negative_to_mean_overdue_by_at_least():
    assert holds({"sla_minutes_remaining_lt": -10}, sla_minutes_remaining=-30.0)
    assert not holds({"sla_minutes_remaining_lt": -10}, sla_minutes_remaining=-5.0)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (("vip", "emea"), True),
        (("vip", "emea", "x"), True),
        (("vip",), False),
        ((), False),
        (("VIP", "emea"), False),
    ],
)
def test_policy_tags_must_all_be_present(tags: tuple[str, ...], expected: bool):
    assert holds({"policy_tags": ["vip", "emea"]}, tags=tags) is expected


# --- attributes -----------------------------------------------------------------------------

ATTRS: dict[str, Any] = {
    "amount": 2_500_000,
    "ratio": 0.5,
    "big": Decimal("10.5"),  # DynamoDB numbers
    "currency": "USD",
    "flagged": True,
    "count_text": "10",
    "nothing": None,
    "counterparty": {"name": "ACME Bank", "region": "EMEA"},
}


@pytest.mark.parametrize(
    ("path", "operator", "operand", "expected"),
    [
        # eq / ne
        ("currency", "eq", "USD", True),
        ("currency", "eq", "usd", False),  # eq is exact; glob is the case-insensitive one
        ("amount", "eq", 2_500_000, True),
        ("amount", "eq", 2_500_000.0, True),
        ("big", "eq", 10.5, True),
        ("flagged", "eq", True, True),
        ("flagged", "eq", 1, False),  # bool is not a number
        ("amount", "eq", True, False),
        ("count_text", "eq", 10, False),  # strings only with strings
        ("currency", "ne", "EUR", True),
        ("currency", "ne", "USD", False),
        ("amount", "ne", "x", False),  # unlike kinds never hold, not even ne
        ("nothing", "ne", "x", False),
        ("flagged", "ne", False, True),
        # in / not_in
        ("currency", "in", ["USD", "EUR"], True),
        ("currency", "in", ["EUR"], False),
        ("amount", "in", [1, 2_500_000], True),
        ("flagged", "in", [1], False),
        ("flagged", "in", [True], True),
        ("amount", "in", [True], False),
        ("currency", "not_in", ["EUR"], True),
        ("currency", "not_in", ["USD"], False),
        ("amount", "not_in", ["USD"], False),  # unlike kinds: does not hold
        # ordering
        ("amount", "gt", 2_499_999, True),
        ("amount", "gt", 2_500_000, False),
        ("amount", "gte", 2_500_000, True),
        ("amount", "gte", 2_500_001, False),
        ("amount", "lt", 2_500_001, True),
        ("amount", "lt", 2_500_000, False),
        ("amount", "lte", 2_500_000, True),
        ("amount", "lte", 2_499_999, False),
        ("ratio", "lt", 1, True),
        ("big", "gt", 10, True),
        ("big", "lt", Decimal("11"), True),
        ("currency", "gt", "EUR", True),  # strings compare with strings
        ("currency", "lt", "EUR", False),
        ("count_text", "gt", 5, False),  # "10" is not a number
        ("amount", "gt", "1", False),
        ("flagged", "gt", 0, False),  # True is not a number
        ("nothing", "lt", 5, False),
        # glob
        ("counterparty.name", "glob", "*bank*", True),
        ("counterparty.name", "glob", "acme*", True),
        ("counterparty.name", "glob", "*capital", False),
        ("amount", "glob", "2*", False),  # glob only on strings
        # nested path eq
        ("counterparty.region", "eq", "EMEA", True),
    ],
)
def test_attribute_operators(path: str, operator: str, operand: Any, expected: bool):
    assert holds({"attributes": {path: {operator: operand}}}, attributes=ATTRS) is expected


@pytest.mark.parametrize(
    ("operator", "operand"),
    [
        ("eq", "x"),
        ("ne", "x"),
        ("in", ["x"]),
        ("not_in", ["x"]),
        ("gt", 0),
        ("gte", 0),
        ("lt", 0),
        ("lte", 0),
        ("glob", "*"),
        ("exists", True),
    ],
)
def test_a_missing_attribute_never_satisfies(operator: str, operand: Any):
    assert not holds({"attributes": {"absent": {operator: operand}}}, attributes=ATTRS)
    assert not holds({"attributes": {"counterparty.absent": {operator: operand}}}, attributes=ATTRS)


@pytest.mark.parametrize(
    ("path", "exists", "expected"),
    [
        ("currency", True, True),
        ("currency", False, False),
        ("absent", True, False),
        ("absent", False, True),  # the one condition a missing attribute satisfies
        ("counterparty.region", True, True),
        ("counterparty.absent", False, True),
        ("nothing", True, True),  # a JSON null is present
    ],
)
def test_exists(path: str, exists: bool, expected: bool):
    assert holds({"attributes": {path: {"exists": exists}}}, attributes=ATTRS) is expected


def test_every_operator_on_a_path_must_hold():
    assert holds({"attributes": {"amount": {"gt": 1_000_000, "lt": 5_000_000}}}, attributes=ATTRS)
    assert not holds({"attributes": {"amount": {"gt": 1_000_000, "lt": 2_000_000}}}, attributes=ATTRS)


def test_every_path_must_hold():
    match = {"attributes": {"currency": {"eq": "USD"}, "counterparty.region": {"eq": "APAC"}}}
    assert not holds(match, attributes=ATTRS)


# --- any_of and combinations --------------------------------------------------------------------


def test_any_of_holds_when_one_branch_holds():
    match = {"any_of": [{"severity": "critical"}, {"policy_tags": ["vip"]}]}
    assert holds(match)
    assert not holds(match, tags=())
    assert holds(match, tags=(), severity="critical")


def test_any_of_branches_are_full_match_objects():
    match = {"any_of": [{"domain": "Ops"}, {"domain": "Finance", "attributes": {"amount": {"gte": 1}}}]}
    assert holds(match, attributes=ATTRS)
    assert not holds(match, attributes={})


def test_all_keys_must_hold():
    match = {"domain": "Finance", "severity": "high", "policy_tags": ["vip"]}
    assert holds(match)
    assert not holds(match, severity="low")


def test_compile_rejects_invalid_match_objects_listing_every_problem():
    with pytest.raises(ValidationFailed) as raised:
        compile_match({"domian": "x", "severity": "bad"})
    assert [p.path for p in raised.value.problems] == ["conditions.match.domian", "conditions.match.severity"]


def test_specificity_of_compiled_match():
    match = {
        "domain": "Finance",
        "attributes": {"amount": {"gt": 1, "lt": 9}},
        "any_of": [{"severity": "high"}],
    }
    assert compile_match(match).specificity == 4


def test_domain_test_is_separable_for_indexing():
    compiled = compile_match({"domain": "FINANCE", "severity": "high"})
    assert compiled.domain == "finance"
    assert len(compiled.tests) == 2 and len(compiled.tests_besides_domain) == 1
    assert compile_match({"severity": "high"}).domain is None


# --- explain --------------------------------------------------------------------------------


def test_explain_reports_every_condition_in_canonical_order_without_short_circuit():
    match = {
        "attributes": {"amount": {"gte": 5_000_000}, "absent": {"exists": False}},
        "severity_in": ["low"],
        "domain": "ops",
        "sla_minutes_remaining_lt": 30,
        "exception_type": "Trade*",
        "policy_tags": ["vip"],
        "severity": "high",
    }
    checks = compile_match(match).explain(facts(attributes=ATTRS))
    assert [check.as_dict() for check in checks] == [
        {"condition": "domain", "expected": "ops", "actual": "Finance", "passed": False},
        {
            "condition": "exception_type",
            "expected": "Trade*",
            "actual": "TradeSettlementFailure",
            "passed": True,
        },
        {"condition": "severity", "expected": "high", "actual": "high", "passed": True},
        {"condition": "severity_in", "expected": ["low"], "actual": "high", "passed": False},
        {"condition": "sla_minutes_remaining_lt", "expected": 30, "actual": 45.0, "passed": False},
        {"condition": "policy_tags", "expected": ["vip"], "actual": ["vip"], "passed": True},
        {"condition": "attributes.amount.gte", "expected": 5_000_000, "actual": 2_500_000, "passed": False},
        {"condition": "attributes.absent.exists", "expected": False, "actual": False, "passed": True},
    ]


def test_explain_shows_a_missing_attribute_as_null_and_no_deadline_as_null():
    checks = compile_match({"attributes": {"absent": {"eq": 1}}, "sla_minutes_remaining_lt": 5}).explain(
        facts(sla_minutes_remaining=None)
    )
    assert [(c.condition, c.actual, c.passed) for c in checks] == [
        ("sla_minutes_remaining_lt", None, False),
        ("attributes.absent.eq", None, False),
    ]


def test_explain_any_of_lists_branches_and_which_held():
    match = {"any_of": [{"severity": "critical"}, {"policy_tags": ["vip"]}, {"domain": "finance"}]}
    (check,) = compile_match(match).explain(facts())
    assert check.condition == "any_of"
    assert check.passed is True
    assert check.actual == [1, 2]
    assert check.expected == match["any_of"]
    data = check.as_dict()
    assert data["branches"] == [
        [{"condition": "severity", "expected": "critical", "actual": "high", "passed": False}],
        [{"condition": "policy_tags", "expected": ["vip"], "actual": ["vip"], "passed": True}],
        [{"condition": "domain", "expected": "finance", "actual": "Finance", "passed": True}],
    ]


def test_check_as_dict_is_json_ready():
    check = Check("attributes.big.gt", Decimal("10"), Decimal("10.5"), True)
    assert check.as_dict() == {
        "condition": "attributes.big.gt",
        "expected": 10,
        "actual": 10.5,
        "passed": True,
    }
    assert jsonable({"s": Severity.HIGH, "t": (1, Decimal("2.5")), 3: [Decimal("1")]}) == {
        "s": "high",
        "t": [1, 2.5],
        "3": [1],
    }


# --- sharing of equal tests ------------------------------------------------------------------------


def test_equal_conditions_share_one_test_across_playbooks():
    first = compile_match({"exception_type": "Trade*", "attributes": {"amount": {"gte": 5}}})
    second = compile_match({"attributes": {"amount": {"gte": 5}}, "exception_type": "Trade*"})
    assert first.tests == second.tests  # the very same closures


@pytest.mark.parametrize(
    ("left", "right"),
    [(1, True), (0, False), (Decimal("1.0"), "1.0"), ("1", 1), ("true", True)],
)
def test_conditions_that_only_look_alike_never_share_a_test(left: Any, right: Any):
    a = compile_match({"attributes": {"x": {"eq": left}}})
    b = compile_match({"attributes": {"x": {"eq": right}}})
    assert a.tests[0] is not b.tests[0]
