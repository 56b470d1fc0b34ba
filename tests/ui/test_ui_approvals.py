"""Browser tests of two-person approval and the SLA banner (ui/js/views/approvals.js,
components/approval-box.js, components/sla-banner.js) against the real local stack."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import DOMAIN, DOMAIN_PACK, FLOW_PLAYBOOK, FLOW_TYPE, POLICY_PACK
from .support import Api

pytestmark = pytest.mark.slow

POLICY = {
    **POLICY_PACK,
    # The flow's first step (add_comment) needs a second person; the clock warns 60 minutes ahead.
    "two_person_approval": {"action_types": ["add_comment"], "quorum": 1, "roles": ["approver"]},
    "sla_clock": {"warn_minutes": [60], "escalation": {"channel": "log", "group": "UiDuty"}},
}


def test_an_approver_finds_the_request_in_the_inbox_sees_the_breach_and_approves(
    new_page: Any, api: Api
) -> None:
    tenant = f"ui-ap-{uuid.uuid4().hex[:8]}"
    admin = api.token(tenant, "ada", ["admin", "operator"])
    olga = api.token(tenant, "olga", ["operator"])
    pat = api.token(tenant, "pat", ["approver"])
    api.call("PUT", "/api/packs/policy", POLICY, admin)
    api.call("PUT", f"/api/packs/domains/{DOMAIN}", DOMAIN_PACK, admin)
    api.call("POST", "/api/playbooks", FLOW_PLAYBOOK, admin)
    overdue = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"domain": DOMAIN, "exception_type": FLOW_TYPE, "severity": "high", "sla_deadline": overdue}
    exception_id = api.call("POST", "/api/exceptions", body, olga)["exception_id"]
    assert api.wait_for_playbook(exception_id, olga)["playbook"]
    asked = api.act(f"/api/exceptions/{exception_id}/playbook/steps/1/complete", {"notes": "please"}, olga)
    assert asked["action"]["outcome"] == "approval_requested"

    page = new_page(pat)
    page.goto("/#/approvals")
    row = page.locator(f'[data-testid="approval-row"][data-exception-id="{exception_id}"]')
    expect(row).to_contain_text("olga")
    row.get_by_role("link").click()

    expect(page.get_by_test_id("sla-banner")).to_have_attribute("data-sla-state", "breached")
    step = page.get_by_test_id("playbook-step-1")
    expect(step).to_have_attribute("data-status", "awaiting_approval")
    expect(page.get_by_test_id("approval-request-1")).to_contain_text("0 of 1")
    page.get_by_test_id("approval-reason").fill("fine by me")
    page.get_by_test_id("approve-step-1").click()
    expect(step).to_have_attribute("data-status", "completed")
    expect(page.get_by_test_id("playbook-step-2")).to_have_attribute("data-current", "true")
    timeline = page.get_by_test_id("timeline")
    expect(timeline.locator('[data-event-type="ApprovalGranted"]')).to_have_count(1)
    expect(timeline.locator('[data-event-type="SlaBreached"]')).to_have_count(1)

    # Nothing is left for olga to approve (she asked; the next step is not covered).
    api.act(
        f"/api/exceptions/{exception_id}/playbook/steps/2/complete", {}, olga
    )  # assign_owner: not covered
    mine = new_page(olga)
    mine.goto("/#/approvals")
    expect(mine.get_by_test_id("approvals-empty")).to_be_visible()

    # The list shows the clock's state per row (the tenant's sla_clock and the deadline).
    mine.goto("/#/exceptions")
    row_of = mine.locator(f'[data-testid="exception-row"][data-exception-id="{exception_id}"]')
    expect(row_of.get_by_test_id("sla-state")).to_have_attribute("data-sla-state", "breached")
