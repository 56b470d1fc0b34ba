"""Domain models the data layer stores: API shape of a record, playbook steps, enums."""

from __future__ import annotations

import pytest
from exception_playbooks.models.enums import (
    STATUS_TRANSITIONS,
    ExceptionStatus,
    Severity,
    is_legal_transition,
)
from exception_playbooks.models.exception import ExceptionRecord, PlaybookProjection
from exception_playbooks.models.playbook import Conditions, PlaybookVersion, Step

API_RECORD_FIELDS = [
    "exception_id",
    "domain",
    "exception_type",
    "severity",
    "status",
    "owner",
    "source_system",
    "summary",
    "sla_deadline",
    "policy_tags",
    "attributes",
    "raw_payload",
    "current_playbook_id",
    "current_playbook_version",
    "current_step",
    "created_at",
    "updated_at",
    "version",
]


def test_record_to_api_is_exactly_the_api_md_fields_in_order():
    record = ExceptionRecord(
        exception_id="EX-1",
        domain="Finance",
        exception_type="T",
        created_at="a",
        updated_at="b",
        last_seq=9,
        request_hash="h",
        given_severity=Severity.LOW,
        projection=PlaybookProjection(playbook_id="pb", current_step=2),
    )
    api = record.to_api()
    assert list(api) == API_RECORD_FIELDS
    assert api["status"] == "open"
    assert api["severity"] is None
    assert api["owner"] is None
    assert api["policy_tags"] == [] and api["attributes"] == {}


def test_status_transitions_table():
    assert {s: sorted(t) for s, t in STATUS_TRANSITIONS.items()} == {
        ExceptionStatus.OPEN: ["escalated", "in_progress"],
        ExceptionStatus.IN_PROGRESS: ["escalated", "pending_review", "resolved"],
        ExceptionStatus.PENDING_REVIEW: ["escalated", "in_progress", "resolved"],
        ExceptionStatus.ESCALATED: ["in_progress", "resolved"],
        ExceptionStatus.RESOLVED: ["closed", "in_progress"],
        ExceptionStatus.CLOSED: [],
    }
    assert not is_legal_transition(ExceptionStatus.OPEN, ExceptionStatus.RESOLVED)
    assert all(not is_legal_transition(s, s) for s in ExceptionStatus)


def test_severity_rank_orders_low_to_critical():
    assert sorted(Severity, key=lambda s: s.rank) == [
        Severity.LOW,
        Severity.MEDIUM,
        Severity.HIGH,
        Severity.CRITICAL,
    ]


def _playbook(**fields) -> PlaybookVersion:
    steps = tuple(
        Step(step_order=n, name=f"s{n}", action_type="add_comment", params={"text": "x"}) for n in (1, 2)
    )
    return PlaybookVersion(
        playbook_id="pb",
        version=2,
        name="P",
        conditions=Conditions(match={"domain": "Finance"}, priority=3),
        steps=steps,
        created_at="t",
        **fields,
    )


@pytest.mark.parametrize(("order", "name"), [(0, None), (1, "s1"), (2, "s2"), (3, None), (-1, None)])
def test_step_lookup_is_1_based_and_bounded(order, name):
    found = _playbook().step(order)
    assert (found.name if found else None) == name


def test_playbook_summary_and_domain():
    playbook = _playbook(description="d")
    assert playbook.summary_dict() == {
        "playbook_id": "pb",
        "name": "P",
        "version": 2,
        "description": "d",
        "conditions": {"match": {"domain": "Finance"}, "priority": 3},
    }
    assert playbook.domain == "Finance"
    assert _playbook().model_copy(update={"conditions": Conditions(match={})}).domain is None
    assert [s["step_order"] for s in playbook.to_api()["steps"]] == [1, 2]


def test_versions_are_immutable_and_compare_by_value():
    one, two = _playbook(), _playbook()
    assert one == two
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        one.version = 3  # type: ignore[misc]
