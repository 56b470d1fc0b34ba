"""When a step needs a human (BEHAVIOUR.md, Human approval)."""

from __future__ import annotations

from ..models.enums import ActionType, ExceptionStatus, Severity, ToolRisk
from ..models.packs import PackSet, TwoPersonApproval
from ..models.playbook import Step

_FINAL_STATUSES = {ExceptionStatus.RESOLVED.value, ExceptionStatus.CLOSED.value}


def is_high_risk(step: Step, packs: PackSet) -> bool:
    if step.action_type is ActionType.SET_STATUS:
        return step.params.get("status") in _FINAL_STATUSES
    if step.action_type is ActionType.CALL_TOOL:
        tools = packs.domain.tools if packs.domain else {}
        tool = tools.get(str(step.params.get("tool_id")))
        return tool is not None and tool.risk is ToolRisk.HIGH
    return False


def requires_approval(step: Step, severity: Severity | None, packs: PackSet) -> bool:
    policy = packs.policy.human_approval
    return (
        step.requires_approval
        or is_high_risk(step, packs)
        or step.action_type in policy.action_types
        or (severity is not None and severity in policy.severities)
        or two_person_rule(step, severity, packs) is not None
    )


def two_person_rule(step: Step, severity: Severity | None, packs: PackSet) -> TwoPersonApproval | None:
    """The policy's two-person rule when it covers ``step`` on this exception, else None."""
    rule = packs.policy.two_person_approval
    if rule is None:
        return None
    if rule.severities and (severity is None or severity not in rule.severities):
        return None
    covered = (
        (rule.high_risk and is_high_risk(step, packs))
        or step.action_type in rule.action_types
        or (step.action_type is ActionType.CALL_TOOL and str(step.params.get("tool_id")) in rule.tools)
        or (rule.flagged_steps and step.requires_approval)
    )
    return rule if covered else None
