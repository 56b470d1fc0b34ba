"""Browser journeys of safe authoring: draft, lint (clickable to its line), impact preview,
simulate with the draft, publish, and version diffs side by side."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import DOMAIN, NOMATCH_TYPE, UiData

pytestmark = pytest.mark.slow

DRAFT_URL = re.compile(r"#/playbooks/drafts/dr-[^/?]+$")
PLAYBOOK_URL = re.compile(r"#/playbooks/pb-[^/?]+$")


def document(name: str, match: dict[str, Any], priority: int = 500) -> dict[str, Any]:
    return {
        "name": name,
        "conditions": {
            "match": {"domain": DOMAIN, "exception_type": NOMATCH_TYPE, **match},
            "priority": priority,
        },
        "steps": [
            {
                "name": "Note it",
                "action_type": "add_comment",
                "params": {"text": "Seen {exception.exception_id}"},
            }
        ],
    }


def test_draft_lint_preview_publish(new_page: Any, data: UiData) -> None:
    data.exception(wait=False, exception_type=NOMATCH_TYPE, severity="low")
    page = new_page(data.admin)
    page.goto("/#/playbooks/new")
    editor = page.get_by_test_id("playbook-json")
    expect(editor).to_be_visible()
    # The starter is written for the tenant's own domain, not another desk's example.
    expect(editor).to_have_value(re.compile(DOMAIN))
    expect(page.get_by_test_id("editor-gutter")).to_contain_text("12")
    expect(page.get_by_test_id("editor-outline")).to_contain_text("steps")

    contradictory = document("UI draft", {"severity": "low", "severity_in": ["high"]})
    editor.fill(json.dumps(contradictory, indent=2))
    page.get_by_test_id("lint-run").click()  # Check: the lint of the text, nothing saved
    expect(page.locator('[data-testid=lint-finding][data-rule="never_holds"]')).to_be_visible()
    expect(
        page.get_by_test_id("editor-outline").locator('[data-path="conditions.match.severity_in"]')
    ).to_be_visible()
    page.get_by_test_id("draft-save").click()
    expect(page).to_have_url(DRAFT_URL)
    expect(page.get_by_test_id("draft-badge")).to_be_visible()
    finding = page.locator('[data-testid=lint-finding][data-rule="never_holds"]')
    expect(finding).to_have_attribute("data-severity", "error")

    # A finding jumps to its line: the caret lands on "severity_in".
    finding.get_by_role("button").click()
    editor = page.get_by_test_id("playbook-json")
    expect(editor).to_be_focused()
    caret = editor.evaluate("el => el.value.slice(el.selectionStart, el.selectionStart + 13)")
    assert caret == '"severity_in"'
    expect(page.locator(".gutter-line.marked")).to_have_count(1)

    # Publishing is refused while the lint has errors.
    page.get_by_test_id("draft-publish").click()
    expect(page.get_by_test_id("error-message")).to_contain_text("LINT_FAILED")

    # The preview runs on the draft being edited: the unsaved text is saved first.
    editor.fill(json.dumps(document("UI draft", {"severity_in": ["low", "high"]}), indent=2))
    page.get_by_test_id("impact-run").click()
    expect(page.get_by_test_id("draft-status")).to_contain_text("Revision 2 saved")
    expect(page.get_by_test_id("lint-findings")).to_contain_text("Ready to publish")
    result = page.get_by_test_id("impact-result")
    expect(result).to_be_visible()
    expect(page.get_by_test_id("impact-captured")).to_contain_text("Captured: 1")
    expect(page.get_by_test_id("impact-cost")).to_contain_text("complete")

    page.get_by_test_id("simulate-input").fill(
        json.dumps({"domain": DOMAIN, "exception_type": NOMATCH_TYPE, "severity": "high"})
    )
    page.get_by_test_id("simulate-button").click()
    expect(page.locator(".simulate-result-host")).to_contain_text("UI draft")

    page.get_by_test_id("draft-publish").click()
    expect(page).to_have_url(PLAYBOOK_URL)
    expect(page.get_by_role("heading", level=1)).to_contain_text("UI draft")
    expect(page.get_by_test_id("playbook-detail-version")).to_have_text("1")


def expect_the_change(page: Any) -> None:
    """A step added before the unchanged one, and the priority changed, side by side."""
    diff = page.get_by_test_id("diff-view")
    expect(diff.locator('[data-testid=diff-step][data-change="added"]')).to_contain_text("Escalate")
    expect(diff.locator('[data-testid=diff-step][data-change="unchanged"]')).to_contain_text("Note it")
    expect(page.get_by_test_id("diff-fields")).to_contain_text("priority")


def test_edit_as_draft_then_diff_side_by_side(new_page: Any, data: UiData) -> None:
    created = data.api.call("POST", "/api/playbooks", document("UI diffed", {}, priority=3), data.admin)
    page = new_page(data.admin)
    page.goto(f"/#/playbooks/{created['playbook_id']}")
    page.get_by_test_id("edit-as-draft").click()
    expect(page).to_have_url(DRAFT_URL)
    editor = page.get_by_test_id("playbook-json")
    body = json.loads(editor.input_value())
    body["conditions"]["priority"] = 7
    body["steps"].insert(
        0, {"name": "Escalate", "action_type": "set_status", "params": {"status": "escalated"}}
    )
    editor.fill(json.dumps(body, indent=2))
    page.get_by_test_id("draft-save").click()
    expect(page.get_by_test_id("draft-status")).to_contain_text("saved")

    page.get_by_test_id("draft-diff").click()
    expect_the_change(page)

    page.get_by_test_id("draft-publish").click()
    expect(page.get_by_test_id("playbook-detail-version")).to_have_text("2")
    page.get_by_test_id("compare-versions").click()
    expect_the_change(page)
    expect(page.get_by_test_id("diff-from")).to_have_value("1")
    expect(page.get_by_test_id("diff-to")).to_have_value("2")

    page.goto("/#/playbooks")
    expect(page.get_by_test_id("playbooks-table")).to_contain_text("UI diffed")
    expect(page.get_by_test_id("drafts-table")).to_have_count(0)  # published drafts are gone
