"""approval: which steps need a human (step flag, high-risk action, tenant policy)."""

from __future__ import annotations

import pytest
from exception_playbooks.execution.approval import is_high_risk, requires_approval
from exception_playbooks.models.enums import ActionType, Severity
from exception_playbooks.models.packs import DomainPack, PackSet, PolicyPack
from exception_playbooks.models.playbook import Step

DOMAIN = DomainPack.model_validate(
    {
        "domain": "Finance",
        "version": 1,
        "tools": {"cancel": {"risk": "high"}, "retry": {"risk": "low"}, "lookup": {}},
    }
)


def _packs(action_types=(), severities=(), domain=DOMAIN) -> PackSet:
    policy = PolicyPack.model_validate(
        {"human_approval": {"action_types": list(action_types), "severities": list(severities)}}
    )
    return PackSet(policy=policy, domain=domain)


def _step(action: str, params=None, flag=False) -> Step:
    return Step(
        step_order=1, name="s", action_type=ActionType(action), params=params or {}, requires_approval=flag
    )


SAFE_STEPS = {
    "notify": _step("notify", {"channel": "log", "group": "g"}),
    "assign_owner": _step("assign_owner", {"queue": "q"}),
    "add_comment": _step("add_comment", {"text": "t"}),
    "set_status escalated": _step("set_status", {"status": "escalated"}),
    "set_status in_progress": _step("set_status", {"status": "in_progress"}),
    "set_status pending_review": _step("set_status", {"status": "pending_review"}),
    "call_tool low risk": _step("call_tool", {"tool_id": "retry"}),
    "call_tool default risk": _step("call_tool", {"tool_id": "lookup"}),
}
RISKY_STEPS = {
    "set_status resolved": _step("set_status", {"status": "resolved"}),
    "set_status closed": _step("set_status", {"status": "closed"}),
    "call_tool high risk": _step("call_tool", {"tool_id": "cancel"}),
}


@pytest.mark.parametrize("name", sorted(SAFE_STEPS))
def test_safe_steps_need_no_human_by_themselves(name):
    step = SAFE_STEPS[name]
    assert is_high_risk(step, _packs()) is False
    assert requires_approval(step, Severity.HIGH, _packs()) is False


@pytest.mark.parametrize("name", sorted(RISKY_STEPS))
def test_high_risk_actions_need_a_human(name):
    step = RISKY_STEPS[name]
    assert is_high_risk(step, _packs()) is True
    assert requires_approval(step, Severity.LOW, _packs()) is True


@pytest.mark.parametrize("name", sorted(SAFE_STEPS))
def test_the_step_flag_makes_any_step_need_a_human(name):
    flagged = SAFE_STEPS[name].model_copy(update={"requires_approval": True})
    assert requires_approval(flagged, None, _packs()) is True


ONE_SAFE_STEP_PER_ACTION = {
    "notify": SAFE_STEPS["notify"],
    "assign_owner": SAFE_STEPS["assign_owner"],
    "add_comment": SAFE_STEPS["add_comment"],
    "set_status": SAFE_STEPS["set_status escalated"],
    "call_tool": SAFE_STEPS["call_tool low risk"],
}


@pytest.mark.parametrize("action", sorted(ONE_SAFE_STEP_PER_ACTION))
def test_policy_action_types(action):
    step = ONE_SAFE_STEP_PER_ACTION[action]
    assert requires_approval(step, Severity.LOW, _packs(action_types=[action])) is True
    others = [a for a in ActionType if a.value != action]
    assert requires_approval(step, Severity.LOW, _packs(action_types=others)) is False


@pytest.mark.parametrize("severity", list(Severity))
def test_policy_severities(severity):
    step = SAFE_STEPS["add_comment"]
    assert requires_approval(step, severity, _packs(severities=[severity])) is True
    others = [s for s in Severity if s is not severity]
    assert requires_approval(step, severity, _packs(severities=others)) is False
    assert requires_approval(step, None, _packs(severities=list(Severity))) is False


def test_a_tool_without_a_domain_pack_is_not_high_risk_by_itself():
    """Without the pack the tool's risk is unknown; running it is refused anyway (TOOL_NOT_ALLOWED)."""
    step = RISKY_STEPS["call_tool high risk"]
    assert is_high_risk(step, _packs(domain=None)) is False
    assert is_high_risk(_step("call_tool", {"tool_id": "unknown"}), _packs()) is False
