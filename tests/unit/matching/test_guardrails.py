from __future__ import annotations

from exception_playbooks.matching.guardrails import Guardrails, policy_violations

from .builders import NOTIFY, call_tool, packs, playbook

DOMAIN = {"tools": {"retry_settlement": {"risk": "high"}, "open_ticket": {}}}


def test_compliant_playbook_has_no_violations():
    steps = [NOTIFY, call_tool("open_ticket")]
    assert policy_violations(playbook(steps=steps), packs({"approved_tools": ["open_ticket"]}, DOMAIN)) == []


def test_tool_not_approved_by_the_tenant():
    steps = [NOTIFY, call_tool("retry_settlement")]
    assert policy_violations(playbook(steps=steps), packs({"approved_tools": ["open_ticket"]}, DOMAIN)) == [
        "tool 'retry_settlement' is not approved by the tenant policy (step 2)"
    ]


def test_tool_missing_from_the_domain_pack():
    steps = [call_tool("page_oncall")]
    assert policy_violations(playbook(steps=steps), packs({"approved_tools": ["page_oncall"]}, DOMAIN)) == [
        "tool 'page_oncall' is not defined in the Finance domain pack (step 1)"
    ]


def test_no_domain_pack_means_no_tool_can_be_checked():
    steps = [call_tool("open_ticket")]
    assert policy_violations(playbook(steps=steps), packs({"approved_tools": ["open_ticket"]})) == [
        "tool 'open_ticket' cannot be checked: there is no domain pack (step 1)"
    ]


def test_blocked_action_types():
    steps = [NOTIFY, {"name": "Comment", "action_type": "add_comment", "params": {"text": "x"}}, NOTIFY]
    assert policy_violations(playbook(steps=steps), packs({"blocked_action_types": ["notify"]}, DOMAIN)) == [
        "action type 'notify' is blocked by the tenant policy (step 1)",
        "action type 'notify' is blocked by the tenant policy (step 3)",
    ]


def test_every_violation_is_listed_in_step_order():
    steps = [call_tool("nope"), {"name": "Bad", "action_type": "call_tool", "params": {}}]
    assert policy_violations(
        playbook(steps=steps), packs({"blocked_action_types": ["call_tool"]}, DOMAIN)
    ) == [
        "action type 'call_tool' is blocked by the tenant policy (step 1)",
        "tool 'nope' is not approved by the tenant policy (step 1)",
        "tool 'nope' is not defined in the Finance domain pack (step 1)",
        "action type 'call_tool' is blocked by the tenant policy (step 2)",
        "a call_tool step names no tool_id (step 2)",
    ]


def test_guardrails_prepared_once_apply_to_many_playbooks():
    guardrails = Guardrails(packs({"approved_tools": ["open_ticket"]}, DOMAIN))
    assert guardrails.violations(playbook(steps=[call_tool("open_ticket")])) == []
    assert len(guardrails.violations(playbook(steps=[call_tool("retry_settlement")]))) == 1
