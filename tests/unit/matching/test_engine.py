"""select_playbook: candidates, ranking, guardrails and what the result carries."""

from __future__ import annotations

import pytest
from exception_playbooks.matching import select_for_view, select_playbook
from exception_playbooks.matching.effective import effective_view
from exception_playbooks.models.playbook import PlaybookVersion

from .builders import NOTIFY, NOW, call_tool, iso_in, packs, playbook, record

DOMAIN = {"tools": {"retry_settlement": {"risk": "high"}, "open_ticket": {}}}
POLICY = {"approved_tools": ["open_ticket"]}


def winner_id(candidates: list[PlaybookVersion], **kwargs: object) -> str | None:
    result = select_playbook(record(given_severity="high"), candidates, packs(POLICY, DOMAIN), NOW, **kwargs)  # type: ignore[arg-type]
    return result.winner.playbook_id if result.winner else None


def test_no_candidates_means_no_winner():
    result = select_playbook(record(), [], packs(), NOW)
    assert result.winner is None
    assert result.matched == () and result.passed_over == ()
    assert result.summary == "No playbook matched: there are no active playbooks."
    assert result.reasoning_dict()["candidates"] == []


def test_no_match_means_no_winner():
    result = select_playbook(record(), [playbook("a", {"domain": "Ops"})], packs(), NOW)
    assert result.winner is None
    assert result.summary.startswith(
        "No playbook matched: the conditions of none of the 1 active playbooks held"
    )


def test_the_best_match_wins():
    candidates = [
        playbook("low", {"domain": "Finance"}, priority=1),
        playbook("high", {"domain": "Finance", "severity": "high"}, priority=10),
        playbook("other", {"domain": "Ops"}, priority=100),
    ]
    assert winner_id(candidates) == "high"


def test_inactive_playbooks_are_never_candidates():
    candidates = [playbook("off", {}, priority=100, active=False), playbook("on", {}, priority=1)]
    result = select_playbook(record(), candidates, packs(), NOW)
    assert result.winner is not None and result.winner.playbook_id == "on"
    assert [c["playbook_id"] for c in result.reasoning_dict()["candidates"]] == ["on"]


def test_only_inactive_playbooks_means_no_active_candidates():
    result = select_playbook(record(), [playbook("off", active=False)], packs(), NOW)
    assert result.winner is None
    assert result.summary == "No playbook matched: there are no active playbooks."


def test_matched_lists_every_match_best_first():
    candidates = [
        playbook("a", {}, 1),
        playbook("b", {}, 3),
        playbook("c", {"domain": "Ops"}, 9),
        playbook("d", {}, 2),
    ]
    result = select_playbook(record(), candidates, packs(), NOW)
    assert [p.playbook_id for p in result.matched] == ["b", "d", "a"]


def test_matching_uses_the_effective_view():
    policy = {
        "severity_overrides": {"TradeSettlementFailure": "critical"},
        "tag_rules": [{"when": {"severity": "critical"}, "tags": ["urgent"]}],
    }
    candidates = [
        playbook("sev", {"severity": "critical"}, 1),
        playbook("tag", {"policy_tags": ["urgent"]}, 2),
        playbook("sla", {"sla_minutes_remaining_lt": 30}, 3),
    ]
    result = select_playbook(
        record(given_severity="low", sla_deadline=iso_in(45)), candidates, packs(policy), NOW
    )
    assert [p.playbook_id for p in result.matched] == ["tag", "sev"]
    later = select_playbook(record(sla_deadline=iso_in(45)), candidates, packs(policy), NOW.replace(hour=13))
    assert later.winner is not None and later.winner.playbook_id == "sla"


def test_stored_legacy_conditions_are_understood():
    legacy = PlaybookVersion.model_validate(
        {
            "playbook_id": "legacy",
            "version": 1,
            "name": "Legacy",
            "conditions": {"domain": "Ops", "priority": 50},  # root keys, as old rows may hold them
            "steps": [{"step_order": 1, **NOTIFY}],
            "created_at": "2026-01-01T00:00:00Z",
        }
    )
    assert legacy.conditions.priority == 50
    assert select_playbook(record(), [legacy], packs(), NOW).winner is None  # not a catch-all


def test_a_stored_playbook_with_invalid_conditions_never_matches_and_says_why():
    # Stored rows are not re-validated on read; a bad one must not break matching for the tenant.
    broken = playbook("broken", {"bogus": 1}, 100)
    result = select_playbook(record(), [broken, playbook("ok", {}, 1)], packs(), NOW)
    assert result.winner is not None and result.winner.playbook_id == "ok"
    (entry,) = [c for c in result.reasoning_dict()["candidates"] if c["playbook_id"] == "broken"]
    assert entry["matched"] is False
    (check,) = entry["checks"]
    assert check["condition"] == "conditions" and check["passed"] is False
    assert check["actual"][0]["path"] == "conditions.match.bogus"


# --- guardrails -----------------------------------------------------------------------------


def test_a_non_compliant_match_is_passed_over_for_the_next_compliant_one():
    candidates = [
        playbook(
            "retry",
            {"domain": "Finance"},
            100,
            name="Retry settlement",
            steps=[call_tool("retry_settlement")],
        ),
        playbook("ticket", {"domain": "Finance"}, 50, name="Open ticket", steps=[call_tool("open_ticket")]),
    ]
    result = select_playbook(record(), candidates, packs(POLICY, DOMAIN), NOW)
    assert result.winner is not None and result.winner.playbook_id == "ticket"
    assert [(p.playbook.playbook_id, p.violations) for p in result.passed_over] == [
        ("retry", ("tool 'retry_settlement' is not approved by the tenant policy (step 1)",))
    ]
    assert (
        "'Retry settlement' matched with higher rank but was passed over: "
        "tool 'retry_settlement' is not approved by the tenant policy" in result.summary
    )
    assert result.summary.startswith("Selected 'Open ticket' (ticket v1, priority 50, specificity 1)")


def test_guardrails_can_be_left_to_the_caller():
    candidates = [
        playbook("retry", {}, 100, name="Retry", steps=[call_tool("retry_settlement")]),
        playbook("b", {}, 1),
    ]
    result = select_playbook(record(), candidates, packs(POLICY, DOMAIN), NOW, enforce_guardrails=False)
    assert result.winner is not None and result.winner.playbook_id == "retry"
    assert result.passed_over == ()
    assert (
        "Guardrails were not applied; it violates the tenant policy: tool 'retry_settlement'"
        in result.summary
    )
    (top, _) = result.reasoning_dict()["candidates"]
    assert top["selected"] is True and top["compliant"] is False


def test_when_every_match_violates_the_policy_nothing_is_selected():
    candidates = [
        playbook("a", {}, 2, name="A", steps=[call_tool("retry_settlement")]),
        playbook("b", {}, 1, name="B", steps=[NOTIFY]),
        playbook("c", {"domain": "Ops"}, 9),
    ]
    result = select_playbook(record(), candidates, packs({"blocked_action_types": ["notify"]}, DOMAIN), NOW)
    assert result.winner is None
    assert [p.playbook.playbook_id for p in result.passed_over] == ["a", "b"]
    assert result.summary.startswith(
        "No playbook was selected: 2 playbooks matched but each violates the tenant policy."
    )
    assert "'A' matched but was passed over: tool 'retry_settlement' is not approved" in result.summary
    assert (
        "'B' matched but was passed over: action type 'notify' is blocked by the tenant policy"
        in result.summary
    )


def test_many_passed_over_playbooks_are_counted_not_all_named():
    bad = [playbook(f"bad-{i}", {}, 100 - i, name=f"Bad {i}", steps=[call_tool("nope")]) for i in range(8)]
    result = select_playbook(record(), [*bad, playbook("good", {}, 0)], packs(POLICY, DOMAIN), NOW)
    assert result.winner is not None and result.winner.playbook_id == "good"
    assert result.summary.count("matched with higher rank but was passed over") == 5
    assert "3 more playbooks were passed over for policy violations." in result.summary


def test_select_for_view_reuses_a_computed_view():
    view = effective_view(record(given_severity="high"), packs(), NOW)
    candidates = [playbook("a", {"severity": "high"}), playbook("b", {"severity": "low"}, 5)]
    assert select_for_view(view, candidates, packs()).winner is candidates[0]


@pytest.mark.parametrize("container", [list, tuple])
def test_any_sequence_of_candidates_is_accepted(container: type):
    candidates = container([playbook("a"), playbook("b")])
    assert select_playbook(record(), candidates, packs(), NOW).winner is candidates[0]


def test_the_result_does_not_depend_on_later_changes_to_the_callers_list():
    candidates = [playbook("a", {}, 1), playbook("b", {"domain": "Ops"})]
    result = select_playbook(record(), candidates, packs(), NOW)
    candidates.clear()
    assert [c["playbook_id"] for c in result.reasoning_dict()["candidates"]] == ["a", "b"]
