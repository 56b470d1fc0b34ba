"""The operator's work queue in the browser (issue 17): saved views, sorting and search, SLA
urgency, header actions, role-aware controls for all four roles, the stale-page conflict that
keeps typed notes, news of a colleague's change, keyboard use and bulk actions.

One local stack for the module (conftest); each test makes its own tenant data through the API.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import UiData

pytestmark = pytest.mark.slow


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def row_ids(page: Any) -> list[str]:
    rows = page.get_by_test_id("exception-row")
    return list(rows.evaluate_all("rows => rows.map(r => r.dataset.exceptionId)"))


def open_detail(page: Any, exception_id: str) -> None:
    page.goto(f"/#/exceptions/{exception_id}")
    expect(page.get_by_test_id("playbook-step-1")).to_be_visible()


def test_queue_views_sorting_search_links_and_sla_urgency(new_page: Any, data: UiData) -> None:
    tag = uuid.uuid4().hex[:6]
    overdue = data.exception(
        wait=False, summary=f"{tag} overdue break", sla_deadline=iso(-timedelta(minutes=20)), severity="low"
    )
    soon = data.exception(
        wait=False, summary=f"{tag} soon break", sla_deadline=iso(timedelta(minutes=37)), severity="critical"
    )
    later = data.exception(
        wait=False, summary=f"{tag} later break", sla_deadline=iso(timedelta(days=2)), severity="medium"
    )
    page = new_page(data.operator)
    page.goto(f"/#/exceptions?q={tag}")
    expect(page.get_by_test_id("exception-row")).to_have_count(3)
    assert row_ids(page) == [later["exception_id"], soon["exception_id"], overdue["exception_id"]]

    # SLA urgency in the list: overdue is marked, 37 minutes is urgent, two days is calm.
    def urgency(exception: dict[str, Any]) -> Any:
        return page.locator(f'[data-exception-id="{exception["exception_id"]}"] [data-testid="sla-state"]')

    expect(urgency(overdue)).to_have_attribute("data-urgency", "overdue")
    expect(urgency(overdue)).to_contain_text("Overdue")
    expect(urgency(soon)).to_have_attribute("data-urgency", "urgent")
    expect(urgency(soon)).to_have_text(re.compile(r"^3[67]m left$"))
    expect(urgency(later)).to_have_attribute("data-urgency", "later")

    # Sorts: severity, then SLA deadline (soonest first); the URL keeps the choice.
    page.get_by_label("Sort").select_option("severity")
    expect(page).to_have_url(re.compile(r"sort=severity"))
    expect(page.get_by_test_id("exception-row").first).to_have_attribute(
        "data-exception-id", soon["exception_id"]
    )
    assert row_ids(page) == [soon["exception_id"], later["exception_id"], overdue["exception_id"]]
    page.get_by_label("Sort").select_option("sla_deadline")
    expect(page.get_by_test_id("exception-row").first).to_have_attribute(
        "data-exception-id", overdue["exception_id"]
    )
    assert row_ids(page) == [overdue["exception_id"], soon["exception_id"], later["exception_id"]]

    # Search by words and by id prefix.
    page.get_by_label("Search").fill(f"{tag} soon")
    page.get_by_label("Search").press("Enter")
    expect(page.get_by_test_id("exception-row")).to_have_count(1)
    page.get_by_label("Search").fill(soon["exception_id"][:-2])
    page.get_by_label("Search").press("Enter")
    expect(page.locator(f'[data-exception-id="{soon["exception_id"]}"]')).to_be_visible()

    # Saved views with counts; "Breaching soon" lists the overdue and the 37-minute ones.
    page.get_by_test_id("view-breaching").click()
    expect(page.get_by_test_id("view-count-breaching")).to_have_text(re.compile(r"^\d+\+?$"))
    expect(page.locator(f'[data-exception-id="{overdue["exception_id"]}"]')).to_be_visible()
    expect(page.locator(f'[data-exception-id="{later["exception_id"]}"]')).to_have_count(0)

    # Rows are real links (open in a new tab works), and Back returns to the same view.
    link = page.locator(f'[data-exception-id="{overdue["exception_id"]}"] a.row-link')
    expect(link).to_have_attribute("href", f"#/exceptions/{overdue['exception_id']}")
    link.click()
    expect(page.get_by_test_id("sla-breach")).to_be_visible()  # the breach banner on the detail
    page.go_back()
    expect(page).to_have_url(re.compile(r"view=breaching"))
    expect(page.get_by_test_id("view-breaching")).to_have_attribute("aria-current", "page")


def test_header_actions_assign_severity_and_resolve_with_a_reason(new_page: Any, data: UiData) -> None:
    ex = data.exception()
    page = new_page(data.operator)
    open_detail(page, ex["exception_id"])
    page.get_by_test_id("assign-to-me").click()
    expect(page.get_by_test_id("exception-owner")).to_contain_text("olga")
    expect(page.get_by_test_id("assign-to-me")).to_be_hidden()

    page.get_by_test_id("severity-select").select_option("critical")
    page.get_by_test_id("change-severity").click()
    expect(page.get_by_test_id("exception-severity")).to_contain_text("Critical")
    expect(page.get_by_test_id("change-severity")).to_be_focused()  # focus kept after the action

    # Resolving needs a reason; the UI says so before asking the server.
    page.get_by_test_id("status-select").select_option("resolved")
    page.get_by_test_id("change-status").click()
    expect(page.get_by_test_id("error-message")).to_contain_text("reason")
    page.get_by_test_id("status-reason").fill("Counterparty delivered")
    page.get_by_test_id("change-status").click()
    expect(page.get_by_test_id("exception-status")).to_have_attribute("data-status", "resolved")
    changed = page.locator('[data-testid="timeline-event"][data-event-type="StatusChanged"]')
    expect(changed.last).to_contain_text("Counterparty delivered")
    expect(page.locator('[data-testid="timeline-event"][data-event-type="OwnerAssigned"]')).to_have_count(1)


@pytest.mark.parametrize(
    ("roles", "acts", "creates"),
    [
        (["viewer"], False, False),
        (["operator"], True, True),
        (["admin"], True, True),
        (["automation"], False, True),
    ],
)
def test_actions_a_role_may_not_take_are_not_offered(
    new_page: Any, data: UiData, api: Any, roles: list[str], acts: bool, creates: bool
) -> None:
    ex = data.exception()
    token = api.token(data.tenant, f"user-{roles[0]}", roles)
    page = new_page(token)
    open_detail(page, ex["exception_id"])
    count = 1 if acts else 0
    expect(page.get_by_test_id("complete-step-1")).to_have_count(count)
    expect(page.get_by_test_id("step-notes")).to_have_count(count)
    expect(page.get_by_test_id("recalculate-playbook")).to_be_visible() if acts else expect(
        page.get_by_test_id("recalculate-playbook")
    ).to_be_hidden()
    expect(page.get_by_test_id("header-actions")).to_have_count(count)
    expect(page.get_by_label("Add a comment")).to_be_visible() if acts else expect(
        page.get_by_label("Add a comment")
    ).to_be_hidden()
    page.goto("/#/exceptions")
    expect(page.get_by_test_id("exception-row").first).to_be_visible()
    expect(page.get_by_role("button", name="New exception")).to_have_count(1 if creates else 0)
    expect(page.get_by_test_id("select-all")).to_have_count(count)
    page.goto("/#/playbooks")
    expect(page.get_by_test_id("playbook-row").first).to_be_visible()
    expect(page.get_by_test_id("new-playbook")).to_have_count(1 if "admin" in roles else 0)


def test_a_stale_page_keeps_the_notes_and_shows_the_error_beside_the_step(
    new_page: Any, data: UiData, api: Any
) -> None:
    ex = data.exception()
    page = new_page(data.operator)
    open_detail(page, ex["exception_id"])
    expect(page.get_by_test_id("timeline-event").first).to_be_visible()
    # A colleague takes the exception and completes step 1 while this page is open.
    raj = api.token(data.tenant, "raj.patel", ["operator"])
    api.call(
        "PATCH", f"/api/exceptions/{ex['exception_id']}", {"owner": {"type": "user", "id": "raj.patel"}}, raj
    )
    api.act(f"/api/exceptions/{ex['exception_id']}/playbook/steps/1/complete", {}, raj)

    page.get_by_test_id("step-notes").fill("Called the desk, they confirm")
    page.get_by_test_id("complete-step-1").click()
    # The page catches up: step 1 done by raj, step 2 current, the notes are still there and
    # the error sits beside the step in words, not codes.
    expect(page.get_by_test_id("playbook-step-2")).to_have_attribute("data-current", "true")
    error = page.get_by_test_id("playbook-step-2").get_by_test_id("error-message")
    expect(error).to_be_visible()
    expect(error).to_contain_text("no longer the current one")
    expect(error).not_to_contain_text("STEP_OUT_OF_ORDER")
    expect(page.get_by_test_id("step-notes")).to_have_value("Called the desk, they confirm")
    expect(page.get_by_test_id("panel-news")).to_contain_text("Step 1 was completed by raj.patel")
    expect(page.get_by_test_id("page-news")).to_contain_text("raj.patel: Owner set to raj.patel")


def test_keyboard_moves_opens_and_helps_and_bulk_assigns(new_page: Any, data: UiData) -> None:
    tag = uuid.uuid4().hex[:6]
    first = data.exception(wait=False, summary=f"{tag} one")
    second = data.exception(wait=False, summary=f"{tag} two")
    page = new_page(data.operator)
    page.goto(f"/#/exceptions?q={tag}")
    expect(page.get_by_test_id("exception-row")).to_have_count(2)
    page.get_by_role("heading", name="Exceptions").focus()
    page.keyboard.press("j")
    expect(page.get_by_test_id("exception-row").first).to_be_focused()
    page.keyboard.press("j")
    expect(page.get_by_test_id("exception-row").nth(1)).to_be_focused()
    page.keyboard.press("k")
    expect(page.get_by_test_id("exception-row").first).to_be_focused()
    page.keyboard.press("?")
    expect(page.get_by_test_id("keyboard-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("keyboard-help")).to_be_hidden()
    expect(page.get_by_test_id("exception-row").first).to_be_focused()  # focus came back

    # Bulk: select both, assign to me.
    page.get_by_test_id("select-all").check()
    expect(page.get_by_test_id("bulk-count")).to_have_text("2 selected")
    page.get_by_test_id("bulk-assign").click()
    for exception in (first, second):
        expect(page.locator(f'[data-exception-id="{exception["exception_id"]}"]')).to_contain_text("olga")

    page.get_by_test_id("exception-row").first.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"#/exceptions/{second['exception_id']}$"))


def test_back_returns_to_the_same_page_of_the_queue(new_page: Any, data: UiData) -> None:
    tag = uuid.uuid4().hex[:6]
    made = [data.exception(wait=False, summary=f"{tag} paging {n}") for n in range(11)]
    page = new_page(data.operator)
    page.goto(f"/#/exceptions?q={tag}&limit=10")
    expect(page.get_by_test_id("exception-row")).to_have_count(10)
    page.get_by_test_id("next-page").click()
    expect(page.get_by_test_id("page-info")).to_contain_text("Page 2")
    expect(page.get_by_test_id("exception-row")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"pages="))
    oldest = made[0]["exception_id"]
    page.locator(f'[data-exception-id="{oldest}"] a.row-link').click()
    expect(page.get_by_test_id("exception-title")).to_be_visible()
    page.go_back()
    expect(page.get_by_test_id("page-info")).to_contain_text("Page 2")
    expect(page.locator(f'[data-exception-id="{oldest}"]')).to_be_visible()
