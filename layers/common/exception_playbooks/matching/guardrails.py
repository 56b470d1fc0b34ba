"""Guardrails: does a playbook respect the tenant policy and the domain pack's tools?"""

from __future__ import annotations

from ..models.enums import ActionType
from ..models.packs import PackSet
from ..models.playbook import PlaybookVersion


class Guardrails:
    """The policy checks for one pack set, prepared once and applied to many playbooks."""

    __slots__ = ("_approved", "_blocked", "_domain", "_domain_tools")

    def __init__(self, packs: PackSet):
        self._approved = frozenset(packs.policy.approved_tools)
        self._blocked = frozenset(packs.policy.blocked_action_types)
        self._domain = packs.domain.domain if packs.domain is not None else None
        self._domain_tools = frozenset(packs.domain.tools) if packs.domain is not None else frozenset()

    def violations(self, playbook: PlaybookVersion) -> list[str]:
        """Every violation, one sentence each, in step order (empty when compliant)."""
        found: list[str] = []
        for step in playbook.steps:
            where = f"(step {step.step_order})"
            if step.action_type in self._blocked:
                found.append(
                    f"action type '{step.action_type.value}' is blocked by the tenant policy {where}"
                )
            if step.action_type is ActionType.CALL_TOOL:
                found.extend(
                    f"{problem} {where}" for problem in self._tool_problems(step.params.get("tool_id"))
                )
        return found

    def _tool_problems(self, tool: object) -> list[str]:
        if not isinstance(tool, str) or not tool:
            return ["a call_tool step names no tool_id"]
        problems = []
        if tool not in self._approved:
            problems.append(f"tool '{tool}' is not approved by the tenant policy")
        if self._domain is None:
            problems.append(f"tool '{tool}' cannot be checked: there is no domain pack")
        elif tool not in self._domain_tools:
            problems.append(f"tool '{tool}' is not defined in the {self._domain} domain pack")
        return problems


def policy_violations(playbook: PlaybookVersion, packs: PackSet) -> list[str]:
    """Why ``playbook`` may not be assigned under ``packs`` (empty when it is compliant)."""
    return Guardrails(packs).violations(playbook)
