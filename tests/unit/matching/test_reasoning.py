"""The reasoning record: the API shape, every candidate with every check, and the summary."""

from __future__ import annotations

import json
from typing import Any

import pytest
from exception_playbooks.matching import select_playbook
from exception_playbooks.models.playbook import PlaybookVersion

from .builders import NOW, call_tool, iso_in, packs, playbook, record

DOMAIN: dict[str, Any] = {"tools": {"open_ticket": {}}}


def test_every_candidate_with_every_check():
    candidates = [
        playbook("miss", {"domain": "Ops", "severity_in": ["low"]}, 5, name="Miss", version=2),
        playbook(
            "hit",
            {"domain": "finance", "attributes": {"amount": {"gte": 100}}, "policy_tags": ["vip"]},
            10,
            name="Hit",
            steps=[call_tool("open_ticket")],
        ),
        playbook("catch", {}, 0, name="Catch-all"),
    ]
    exception = record(given_severity="high", policy_tags=["vip"], attributes={"amount": 150})
    reasoning = select_playbook(
        exception, candidates, packs({"approved_tools": ["open_ticket"]}, DOMAIN), NOW
    )
    data = reasoning.reasoning_dict()
    json.dumps(data)  # JSON-ready as it is

    assert set(data) >= {"summary", "candidates"}
    assert data["effective"] == {
        "severity": "high",
        "severity_source": "given",
        "tags": ["vip"],
        "added_tags": [],
        "sla_minutes_remaining": None,
    }
    assert data["candidates"] == [
        {
            "playbook_id": "hit",
            "name": "Hit",
            "version": 1,
            "priority": 10,
            "specificity": 3,
            "matched": True,
            "rank": 1,
            "selected": True,
            "compliant": True,
            "violations": [],
            "checks": [
                {"condition": "domain", "expected": "finance", "actual": "Finance", "passed": True},
                {"condition": "policy_tags", "expected": ["vip"], "actual": ["vip"], "passed": True},
                {"condition": "attributes.amount.gte", "expected": 100, "actual": 150, "passed": True},
            ],
        },
        {
            "playbook_id": "catch",
            "name": "Catch-all",
            "version": 1,
            "priority": 0,
            "specificity": 0,
            "matched": True,
            "rank": 2,
            "selected": False,
            "compliant": True,
            "violations": [],
            "checks": [],
        },
        {
            "playbook_id": "miss",
            "name": "Miss",
            "version": 2,
            "priority": 5,
            "specificity": 2,
            "matched": False,
            "rank": None,
            "selected": False,
            "compliant": True,
            "violations": [],
            "checks": [
                {"condition": "domain", "expected": "Ops", "actual": "Finance", "passed": False},
                {"condition": "severity_in", "expected": ["low"], "actual": "high", "passed": False},
            ],
        },
    ]


def test_non_compliant_candidates_carry_their_violations():
    candidates = [playbook("bad", {}, 9, steps=[call_tool("retry")]), playbook("good")]
    data = select_playbook(record(), candidates, packs(None, DOMAIN), NOW).reasoning_dict()
    bad = data["candidates"][0]
    assert (bad["playbook_id"], bad["matched"], bad["selected"], bad["compliant"]) == (
        "bad",
        True,
        False,
        False,
    )
    assert bad["violations"] == [
        "tool 'retry' is not approved by the tenant policy (step 1)",
        "tool 'retry' is not defined in the Finance domain pack (step 1)",
    ]
    assert data["candidates"][1]["selected"] is True


def test_unmatched_candidates_follow_the_matches_ordered_by_playbook_id():
    candidates = [playbook(pid, {"domain": "Ops"}) for pid in ("c", "a", "b")] + [playbook("z", {}, -1)]
    data = select_playbook(record(), candidates, packs(), NOW).reasoning_dict()
    assert [c["playbook_id"] for c in data["candidates"]] == ["z", "a", "b", "c"]


def test_the_reasoning_is_built_once_and_on_demand():
    result = select_playbook(record(), [playbook("a")], packs(), NOW)
    assert result.reasoning.candidates() is result.reasoning.candidates()
    assert result.reasoning_dict()["summary"] == result.summary


# --- summary per deciding factor ----------------------------------------------------------------


def summary(*candidates: PlaybookVersion) -> str:
    return select_playbook(record(given_severity="high"), list(candidates), packs(), NOW).summary


def test_summary_names_the_winner_and_the_only_match():
    text = summary(playbook("a", {"domain": "Finance"}, 7, name="Only"), playbook("b", {"domain": "Ops"}))
    assert text.startswith(
        "Selected 'Only' (a v1, priority 7, specificity 1): it is the only playbook whose conditions held."
    )
    assert "1 of 2 active playbooks matched" in text
    assert "\n" not in text  # one paragraph


@pytest.mark.parametrize(
    ("runner_up", "reason"),
    [
        (
            playbook("b", {"domain": "Finance"}, 3, name="Runner"),
            "its priority is higher than that of the next match, 'Runner' (3)",
        ),
        (
            playbook("b", {}, 5, name="Runner"),
            "it ties on priority with 'Runner' but is more specific (1 conditions against 0)",
        ),
        (
            playbook("b", {"domain": "Finance"}, 5, name="Runner", created_at="2025-01-01T00:00:00.000Z"),
            "it ties on priority and specificity with 'Runner' but is newer "
            "(created 2026-01-01T00:00:00.000Z against 2025-01-01T00:00:00.000Z)",
        ),
        (
            playbook("b", {"domain": "Finance"}, 5, name="Runner"),
            "it ties on priority, specificity and creation time with 'Runner', "
            "and its playbook_id sorts first",
        ),
        (
            playbook("a", {"domain": "Finance"}, 5, name="Runner", version=0),
            "it ties on every factor with 'Runner' but is a newer version",
        ),
    ],
)
def test_summary_explains_the_deciding_factor(runner_up: PlaybookVersion, reason: str):
    winner = playbook("a", {"domain": "Finance"}, 5, name="Winner")
    text = summary(runner_up, winner)
    assert text.startswith("Selected 'Winner' (a v1, priority 5, specificity 1): " + reason + ".")


def test_summary_describes_the_exception_as_matching_saw_it():
    overdue = select_playbook(record(sla_deadline=iso_in(-90), policy_tags=["b", "a"]), [], packs(), NOW)
    assert overdue.summary == "No playbook matched: there are no active playbooks."
    miss = select_playbook(
        record(sla_deadline=iso_in(-90), policy_tags=["b", "a"]),
        [playbook("x", {"domain": "Ops"})],
        packs(),
        NOW,
    )
    assert miss.summary.endswith("(severity medium (default), tags a, b, SLA overdue by 90.0 minutes).")
    hit = select_playbook(
        record(sla_deadline=iso_in(30), severity="low", severity_set_by_human=True),
        [playbook()],
        packs(),
        NOW,
    )
    assert hit.summary.endswith(
        "evaluated with severity low (set by a person), tags none, 30.0 minutes to the SLA deadline."
    )
    no_sla = select_playbook(
        record(), [playbook()], packs({"severity_overrides": {"TradeSettlementFailure": "high"}}), NOW
    )
    assert no_sla.summary.endswith("severity high (tenant override), tags none, no SLA deadline.")
