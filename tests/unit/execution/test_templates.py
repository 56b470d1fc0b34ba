"""templates: placeholders filled from plain data only; missing values are empty and reported."""

from __future__ import annotations

import pytest
from exception_playbooks.execution.templates import (
    CONTEXTS,
    lookup,
    placeholders,
    render_text,
    render_value,
    unknown_contexts,
)

CONTEXT = {
    "exception": {
        "exception_id": "EX-1",
        "severity": "high",
        "owner": None,
        "attributes": {
            "trade": {"id": "T-9", "legs": [{"ccy": "EUR"}, {"ccy": "USD"}]},
            "amount": 12.5,
            "count": 0,
            "flag": True,
            "off": False,
            "empty": "",
            "books": ["A", "B"],
            "note": "{policy.secret}",
            "a.b": "dotted key",
        },
    },
    "domain": {"name": "Finance", "desk": "FX"},
    "policy": {"secret": "s3cr3t", "limits": {"max": 5}},
    "step": {"name": "Notify", "step_order": 2},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{exception.exception_id}", "EX-1"),
        ("Trade {exception.attributes.trade.id} on {domain.name}", "Trade T-9 on Finance"),
        ("{exception.attributes.trade.legs.1.ccy}", "USD"),  # list index in a dotted path
        ("{exception.attributes.amount}/{exception.attributes.count}", "12.5/0"),
        ("{exception.attributes.flag} {exception.attributes.off}", "true false"),
        ("{exception.attributes.books}", '["A","B"]'),
        ("{policy.limits}", '{"max":5}'),
        ("step {step.step_order}: {step.name}", "step 2: Notify"),
        ("[{exception.attributes.empty}]", "[]"),  # an empty string is a value, not missing
        ("no placeholders", "no placeholders"),
        ("{not a placeholder} {exception} {{x}} {1+1}", "{not a placeholder} {exception} {{x}} {1+1}"),
    ],
)
def test_render_text(text, expected):
    rendered = render_text(text, CONTEXT)
    assert rendered.value == expected
    assert rendered.missing == []


@pytest.mark.parametrize(
    ("text", "expected", "missing"),
    [
        ("x{exception.attributes.nope}y", "xy", ["exception.attributes.nope"]),
        ("{exception.owner.id}", "", ["exception.owner.id"]),  # walking through null
        ("{exception.owner}", "", ["exception.owner"]),  # null itself counts as missing
        ("{exception.attributes.trade.legs.5.ccy}", "", ["exception.attributes.trade.legs.5.ccy"]),
        ("{exception.attributes.books.x}", "", ["exception.attributes.books.x"]),
        ("{exception.attributes.amount.real}", "", ["exception.attributes.amount.real"]),
        ("{domain.desk} {other.thing}", "FX ", ["other.thing"]),
        ("{exception.attributes.a.b}", "", ["exception.attributes.a.b"]),  # dots always walk
        ("{a.x}{a.x}", "", ["a.x", "a.x"]),
    ],
)
def test_missing_values_render_empty_and_are_listed(text, expected, missing):
    rendered = render_text(text, CONTEXT)
    assert (rendered.value, rendered.missing) == (expected, missing)


@pytest.mark.parametrize(
    "text",
    [
        "{exception.__class__}",
        "{exception.attributes.__class__.__mro__}",
        "{exception.attributes.trade.__dict__}",
        "{exception.attributes.books.__len__}",
        "{exception.attributes.note.upper}",
        "{exception.items}",
        "{step.name.__class__.__init__.__globals__}",
    ],
)
def test_no_attribute_access_on_python_objects(text):
    rendered = render_text(text, CONTEXT)
    assert rendered.value == ""
    assert rendered.missing == [text[1:-1]]


def test_objects_in_the_context_are_never_introspected():
    class Secret:
        token = "leaked"

        def __getitem__(self, item):
            return "leaked"

    context = {"exception": {"obj": Secret()}, "domain": Secret()}
    for text in ("{exception.obj.token}", "{domain.token}", "{exception.obj.__class__}"):
        assert "leaked" not in render_text(text, context).value


def test_rendering_is_not_recursive():
    """A value that itself looks like a placeholder is inserted literally (no template injection)."""
    rendered = render_text("note: {exception.attributes.note}", CONTEXT)
    assert rendered.value == "note: {policy.secret}"
    assert "s3cr3t" not in rendered.value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{exception.attributes.amount}", 12.5),
        ("{exception.attributes.count}", 0),
        ("{exception.attributes.flag}", True),
        ("{exception.attributes.books}", ["A", "B"]),
        ("{exception.attributes.trade}", {"id": "T-9", "legs": [{"ccy": "EUR"}, {"ccy": "USD"}]}),
        ("{exception.attributes.empty}", ""),
        ("amount {exception.attributes.amount}", "amount 12.5"),  # not a whole value: text
        (" {exception.attributes.amount}", " 12.5"),
        (7, 7),
        (None, None),
        (True, True),
    ],
)
def test_a_whole_value_placeholder_keeps_its_json_type(value, expected):
    rendered = render_value(value, CONTEXT)
    assert rendered.value == expected
    assert type(rendered.value) is type(expected)
    assert rendered.missing == []


def test_render_value_walks_nested_objects_and_collects_every_missing_field():
    payload = {
        "id": "{exception.attributes.trade.id}",
        "legs": ["{exception.attributes.trade.legs.0.ccy}", "{exception.attributes.nope}", 3],
        "deep": {"x": "{domain.missing}", "y": "v={policy.limits.max}"},
        "whole_missing": "{exception.attributes.gone}",
    }
    rendered = render_value(payload, CONTEXT)
    assert rendered.value == {
        "id": "T-9",
        "legs": ["EUR", None, 3],
        "deep": {"x": None, "y": "v=5"},
        "whole_missing": None,
    }
    assert rendered.missing == ["exception.attributes.nope", "domain.missing", "exception.attributes.gone"]
    assert payload["id"] == "{exception.attributes.trade.id}"  # the input is untouched


def test_lookup_only_walks_dicts_and_list_indices():
    assert lookup(CONTEXT, "exception", "attributes.trade.legs.0.ccy") == "EUR"
    marker = lookup(CONTEXT, "exception", "attributes.nope")
    assert marker is lookup(CONTEXT, "nothing", "x")  # one sentinel for every miss
    assert lookup(CONTEXT, "exception", "attributes.books.-1") is marker
    assert lookup({"s": "text"}, "s", "0") is marker  # strings are not indexable


def test_placeholders_and_unknown_contexts():
    assert placeholders("{exception.a} and {step.name} and {x}") == [("exception", "a"), ("step", "name")]
    assert CONTEXTS == ("exception", "domain", "policy", "step")
    value = {"a": "{exception.x} {env.HOME}", "b": ["{os.system}", {"c": "{policy.y}"}], "d": 1}
    assert unknown_contexts(value) == ["env.HOME", "os.system"]
    assert unknown_contexts("{domain.x}") == []
