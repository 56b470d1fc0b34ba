from __future__ import annotations

from exception_playbooks.matching.facts import MISSING, fact_sheet, path_getter
from exception_playbooks.models.enums import Severity

ATTRIBUTES = {
    "amount": 5,
    "counterparty": {"name": "ACME", "limits": {"daily": 10}},
    "list": [1, 2],
    "none": None,
}


def test_top_level_and_nested_paths_resolve():
    assert path_getter("amount")(ATTRIBUTES) == 5
    assert path_getter("counterparty.name")(ATTRIBUTES) == "ACME"
    assert path_getter("counterparty.limits.daily")(ATTRIBUTES) == 10


def test_missing_paths_resolve_to_missing_not_none():
    assert path_getter("absent")(ATTRIBUTES) is MISSING
    assert path_getter("counterparty.absent")(ATTRIBUTES) is MISSING
    assert path_getter("absent.deeper.still")(ATTRIBUTES) is MISSING


def test_only_objects_are_walked():
    assert path_getter("amount.value")(ATTRIBUTES) is MISSING
    assert path_getter("list.0")(ATTRIBUTES) is MISSING


def test_json_null_is_a_present_value():
    assert path_getter("none")(ATTRIBUTES) is None


def test_fact_sheet_folds_case_and_sorts_unique_tags():
    sheet = fact_sheet(domain="FiNance", exception_type="TradeBreak", severity="high", tags=["b", "a", "b"])
    assert sheet.domain_folded == "finance"
    assert sheet.exception_type_folded == "tradebreak"
    assert sheet.tags == ("a", "b")
    assert sheet.tag_set == frozenset({"a", "b"})
    assert sheet.severity is Severity.HIGH
    assert sheet.attributes == {}
    assert repr(MISSING) == "MISSING"
