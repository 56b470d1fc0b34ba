"""Field-by-field playbook diffs: conditions per key and attribute path, priority, steps."""

from __future__ import annotations

from typing import Any

from exception_playbooks.authoring.diff import diff_playbooks


def step(name: str, text: str = "x", action: str = "add_comment", **flags: Any) -> dict[str, Any]:
    return {"name": name, "action_type": action, "params": {"text": text}, **flags}


def doc(
    match: dict[str, Any], steps: list[dict[str, Any]], priority: int = 0, **fields: Any
) -> dict[str, Any]:
    return {
        "name": "P",
        "description": None,
        "conditions": {"match": match, "priority": priority},
        "steps": steps,
        **fields,
    }


def changes(diff: dict[str, Any]) -> list[tuple[str, int | None, int | None]]:
    return [(s["change"], s["before_order"], s["after_order"]) for s in diff["steps"]]


def test_identical_documents_have_no_changes() -> None:
    same = doc({"domain": "D"}, [step("a"), step("b")])
    diff = diff_playbooks(same, same)
    assert diff["changed"] is False
    assert changes(diff) == [("unchanged", 1, 1), ("unchanged", 2, 2)]


def test_conditions_priority_and_fields() -> None:
    before = doc(
        {"domain": "D", "severity": "high", "attributes": {"amount": {"gt": 1}, "desk": {"eq": "A"}}},
        [step("a")],
    )
    after = doc(
        {"domain": "D", "severity_in": ["high"], "attributes": {"amount": {"gt": 5}, "venue": {"ne": "X"}}},
        [step("a")],
        priority=3,
        name="Q",
    )
    diff = diff_playbooks(before, after)
    assert diff["changed"] is True
    assert diff["priority"] == {"before": 0, "after": 3}
    assert diff["fields"] == [{"field": "name", "before": "P", "after": "Q"}]
    assert [(c["path"], c["change"]) for c in diff["conditions"]] == [
        ("severity", "removed"),
        ("attributes.amount", "changed"),
        ("attributes.desk", "removed"),
        ("attributes.venue", "added"),
        ("severity_in", "added"),
    ]


def test_steps_added_removed_reordered_and_changed() -> None:
    before = doc({}, [step("a"), step("b"), step("c"), step("d")])
    after = doc({}, [step("c"), step("a"), step("b", text="new"), step("e")])
    diff = diff_playbooks(before, after)
    assert changes(diff) == [
        ("moved", 3, 1),
        ("unchanged", 1, 2),
        ("changed", 2, 3),
        ("added", None, 4),
        ("removed", 4, None),
    ]
    # A removed step shows where it was, before its old successor.
    middle = diff_playbooks(doc({}, [step("a"), step("x"), step("b")]), doc({}, [step("a"), step("b")]))
    assert changes(middle) == [("unchanged", 1, 1), ("removed", 2, None), ("unchanged", 3, 2)]
    changed = next(s for s in diff["steps"] if s["change"] == "changed")
    assert changed["changed_fields"] == ["params"]


def test_flags_count_as_changes_and_defaults_do_not() -> None:
    before = doc({}, [{"name": "a", "action_type": "add_comment", "params": {"text": "x"}}])
    explicit = doc({}, [step("a", requires_approval=False, skippable=True)])
    assert diff_playbooks(before, explicit)["changed"] is False
    flagged = doc({}, [step("a", requires_approval=True)])
    assert diff_playbooks(before, flagged)["steps"][0]["changed_fields"] == ["requires_approval"]


def test_a_new_playbook_against_nothing() -> None:
    diff = diff_playbooks({}, doc({"domain": "D"}, [step("a")], priority=2))
    assert changes(diff) == [("added", None, 1)]
    assert [(c["path"], c["change"]) for c in diff["conditions"]] == [("domain", "added")]
