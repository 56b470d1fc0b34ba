from __future__ import annotations

import pytest
from exception_playbooks.matching.language import normalise_conditions, specificity
from exception_playbooks.models.playbook import Conditions, ConditionsInput


def test_legacy_root_keys_move_under_match():
    legacy = {"domain": "Finance", "severity_in": ["high"], "priority": 5}
    assert normalise_conditions(legacy) == {
        "match": {"domain": "Finance", "severity_in": ["high"]},
        "priority": 5,
    }


def test_legacy_without_priority_defaults_to_zero():
    assert normalise_conditions({"domain": "Finance"}) == {"match": {"domain": "Finance"}, "priority": 0}


def test_empty_document_is_a_catch_all():
    assert normalise_conditions({}) == {"match": {}, "priority": 0}


def test_current_form_is_kept_and_priority_defaulted():
    assert normalise_conditions({"match": {"domain": "x"}}) == {"match": {"domain": "x"}, "priority": 0}
    current = {"match": {"domain": "x"}, "priority": 3}
    normalised = normalise_conditions(current)
    assert normalised == current
    assert normalised is not current  # a copy: the input is never modified


def test_mixed_form_keeps_stray_keys_for_validation_to_reject():
    assert normalise_conditions({"match": {}, "domain": "x"}) == {"match": {}, "priority": 0, "domain": "x"}


@pytest.mark.parametrize("raw", [None, [], "text", 3])
def test_non_objects_are_returned_for_validation_to_report(raw: object):
    assert normalise_conditions(raw) is raw


def test_models_accept_the_legacy_form_and_store_it_normalised():
    assert Conditions.model_validate({"domain": "Finance", "priority": 5}).model_dump() == {
        "match": {"domain": "Finance"},
        "priority": 5,
    }
    assert ConditionsInput.model_validate({"domain": "Finance"}).match == {"domain": "Finance"}


def test_specificity_counts_keys_attribute_operators_and_any_of_once():
    match = {
        "domain": "Finance",
        "severity_in": ["high"],
        "attributes": {"amount": {"gt": 1, "lt": 5}, "currency": {"eq": "USD"}},
        "any_of": [{"severity": "high"}, {"policy_tags": ["vip"], "domain": "x"}],
    }
    assert specificity(match) == 1 + 1 + 3 + 1
    assert specificity({}) == 0
