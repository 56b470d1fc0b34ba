"""Browser tests of the web UI against the real local stack (Playwright + Debian Chromium).

Every test makes its own exceptions through the API, so tests do not depend on each
other's order. Selectors are the data-testid hooks of spec/UI.md wherever one exists.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import DOMAIN, NOMATCH_TYPE, UiData

pytestmark = pytest.mark.slow


def open_detail(page: Any, exception_id: str) -> None:
    page.goto(f"/#/exceptions/{exception_id}")
    expect(page.get_by_test_id("playbook-step-1")).to_be_visible()


def step(page: Any, n: int) -> Any:
    return page.get_by_test_id(f"playbook-step-{n}")


def timeline_events(page: Any, event_type: str) -> Any:
    return page.get_by_test_id("timeline").locator(
        f'[data-testid="timeline-event"][data-event-type="{event_type}"]'
    )


# ---------------------------------------------------------------- sign-in and list


def test_sign_in_with_the_local_form(new_page: Any, data: UiData) -> None:
    page = new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"#/signin$"))
    page.get_by_label("Tenant").fill(data.tenant)
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Role").select_option("operator")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_test_id("exceptions-table")).to_be_visible()
    user = page.get_by_test_id("current-user")
    expect(user).to_contain_text("olga")
    expect(user).to_contain_text(data.tenant)
    expect(user).to_contain_text("operator")
    assert page.evaluate("sessionStorage.getItem('id_token')")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('id_token')") is None


def test_list_shows_newest_first_and_opens_the_detail(new_page: Any, data: UiData) -> None:
    older = data.exception(summary="older one")
    newer = data.exception(summary="newer one", severity="critical", exception_type="UI_FLOW")
    page = new_page(data.operator)
    page.goto("/#/exceptions")
    rows = page.get_by_test_id("exception-row")
    expect(rows.first).to_have_attribute("data-exception-id", newer["exception_id"])
    ids = rows.evaluate_all("rows => rows.map(r => r.dataset.exceptionId)")
    assert ids.index(newer["exception_id"]) < ids.index(older["exception_id"])

    row = page.locator(f'[data-testid="exception-row"][data-exception-id="{older["exception_id"]}"]')
    expect(row).to_contain_text("UI_FLOW")
    expect(row.locator(".sev")).to_have_text("High")
    row.click()
    expect(page).to_have_url(re.compile(f"#/exceptions/{older['exception_id']}$"))
    expect(page.get_by_test_id("playbook-panel")).to_be_visible()
    expect(page.get_by_test_id("playbook-name")).to_have_text(data.flow["name"])
    expect(page.get_by_test_id("playbook-version")).to_have_text("1")
    expect(page.get_by_test_id("exception-title")).to_have_text("UI_FLOW")

    # Keyboard: back to the list, focus a row, Enter opens it.
    page.go_back()
    row = page.locator(f'[data-testid="exception-row"][data-exception-id="{newer["exception_id"]}"]')
    row.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"#/exceptions/{newer['exception_id']}$"))


def test_list_filters_by_severity(new_page: Any, data: UiData) -> None:
    low = data.exception(severity="low", summary="a low one")
    page = new_page(data.operator)
    page.goto("/#/exceptions")
    expect(page.get_by_test_id("exception-row").first).to_be_visible()
    page.get_by_label("Severity").select_option("low")
    expect(page).to_have_url(re.compile(r"severity=low"))
    table = page.get_by_test_id("exceptions-table")
    expect(table.locator(".sev-high")).to_have_count(0)
    expect(page.locator(f'[data-exception-id="{low["exception_id"]}"]')).to_be_visible()
    assert set(table.locator(".sev").all_text_contents()) == {"Low"}


def test_new_exception_form_shows_422_next_to_fields_then_creates(new_page: Any, data: UiData) -> None:
    page = new_page(data.operator)
    page.goto("/#/exceptions")
    page.get_by_role("button", name="New exception").click()
    form = page.locator("form.form-card")
    form.get_by_label("Domain").fill("not a valid domain!")
    form.get_by_label("Exception type").fill("UI_FLOW")
    form.get_by_label("Attributes (JSON object)").fill('{"trade_id": "T-9"}')
    page.get_by_role("button", name="Create exception").click()

    error = page.get_by_test_id("error-message")
    expect(error).to_be_visible()
    expect(error.locator("li code")).to_contain_text(["domain"])
    domain_input = form.get_by_label("Domain")
    expect(domain_input).to_have_attribute("aria-invalid", "true")
    expect(form.locator(".field-error:visible")).to_have_count(1)
    expect(form.locator(".field-error:visible")).to_contain_text("pattern")

    # A broken JSON attribute is caught before anything is sent.
    form.get_by_label("Attributes (JSON object)").fill("{broken")
    page.get_by_role("button", name="Create exception").click()
    expect(error).to_contain_text("Invalid JSON")

    domain_input.fill(DOMAIN)
    form.get_by_label("Attributes (JSON object)").fill('{"trade_id": "T-9"}')
    form.get_by_label("Policy tags").fill("ui, regression")
    form.get_by_label("SLA deadline").fill("2030-01-01T12:30")
    page.get_by_role("button", name="Create exception").click()
    expect(page).to_have_url(re.compile(r"#/exceptions/[^/]+$"))
    # The agents assign a playbook asynchronously; the detail page watches for it.
    expect(page.get_by_test_id("playbook-name")).to_have_text(data.flow["name"], timeout=20_000)
    expect(timeline_events(page, "PlaybookStarted")).to_have_count(1, timeout=20_000)


def test_timeline_catches_up_when_it_was_read_just_before_the_playbook_started(
    new_page: Any, data: UiData
) -> None:
    # The panel and the timeline are read in parallel: the timeline can answer from just before the
    # agents' commit while the panel already shows the playbook. The page must read it again soon,
    # not leave PlaybookStarted out until the 15 s live refresh.
    ex = data.exception()
    page = new_page(data.operator)
    stale_answers = {"left": 1}

    def first_answer_from_before_the_start(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        if stale_answers["left"] > 0:
            stale_answers["left"] -= 1
            body["items"] = [e for e in body["items"] if e["event_type"] != "PlaybookStarted"]
        route.fulfill(response=response, json=body)

    page.route(re.compile(r"/api/exceptions/[^/]+/events"), first_answer_from_before_the_start)
    open_detail(page, ex["exception_id"])
    expect(page.get_by_test_id("playbook-name")).to_have_text(data.flow["name"])
    expect(timeline_events(page, "PlaybookStarted")).to_have_count(1, timeout=6_000)
    assert stale_answers["left"] == 0


# ---------------------------------------------------------------- playbook panel


def test_complete_the_current_step(new_page: Any, data: UiData) -> None:
    ex = data.exception()
    page = new_page(data.operator)
    open_detail(page, ex["exception_id"])
    expect(step(page, 1)).to_have_attribute("data-current", "true")
    expect(step(page, 1)).to_have_attribute("data-status", "pending")
    expect(step(page, 2)).to_have_attribute("data-current", "false")
    expect(step(page, 1).locator(".badge.step-pending")).to_have_text("Pending")

    page.get_by_test_id("step-notes").fill("checked the booking")
    with page.expect_request(re.compile(r"/playbook/steps/1/complete$")) as req:
        page.get_by_test_id("complete-step-1").click()
    sent = req.value
    assert re.fullmatch(r"[0-9a-f-]{36}", sent.headers.get("idempotency-key", ""))
    assert json.loads(sent.post_data or "{}") == {"notes": "checked the booking"}

    expect(step(page, 1)).to_have_attribute("data-status", "completed")
    expect(step(page, 1)).to_have_attribute("data-current", "false")
    expect(step(page, 1).locator(".badge.step-completed")).to_have_text("Completed")
    expect(step(page, 1)).to_contain_text("olga")
    expect(step(page, 1)).to_contain_text("checked the booking")
    expect(step(page, 2)).to_have_attribute("data-current", "true")
    expect(page.get_by_test_id("complete-step-2")).to_be_visible()
    expect(page.get_by_test_id("complete-step-1")).to_have_count(0)
    expect(timeline_events(page, "PlaybookStepCompleted")).to_have_count(1)
    expect(timeline_events(page, "PlaybookStepCompleted")).to_contain_text("Record triage note")

    # Completing without notes sends no notes field; the header picks up the new owner.
    with page.expect_request(re.compile(r"/playbook/steps/2/complete$")) as req:
        page.get_by_test_id("complete-step-2").click()
    assert json.loads(req.value.post_data or "{}") == {}
    expect(step(page, 3)).to_have_attribute("data-current", "true")
    expect(page.get_by_test_id("exception-owner")).to_contain_text("UiOpsQueue")
    expect(timeline_events(page, "OwnerAssigned")).to_have_count(1)


def test_skip_needs_notes_then_skips(new_page: Any, data: UiData) -> None:
    ex = data.exception()
    page = new_page(data.operator)
    open_detail(page, ex["exception_id"])

    skips: list[str] = []
    page.on("request", lambda r: skips.append(r.url) if r.url.endswith("/skip") else None)
    page.get_by_test_id("skip-step-1").click()
    error = page.get_by_test_id("error-message")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Notes are required")
    expect(error).to_have_attribute("role", "alert")
    expect(page.get_by_test_id("step-notes")).to_have_attribute("aria-invalid", "true")
    assert not skips, "the client-side check must stop the request"
    expect(step(page, 1)).to_have_attribute("data-status", "pending")

    page.get_by_test_id("step-notes").fill("already handled by phone")
    page.get_by_test_id("skip-step-1").click()
    expect(step(page, 1)).to_have_attribute("data-status", "skipped")
    expect(step(page, 1).locator(".badge.step-skipped")).to_have_text("Skipped")
    expect(step(page, 2)).to_have_attribute("data-current", "true")
    expect(page.get_by_test_id("error-message")).to_have_count(0)
    expect(timeline_events(page, "PlaybookStepSkipped")).to_have_count(1)
    expect(timeline_events(page, "PlaybookStepSkipped")).to_contain_text("already handled by phone")


def test_unskippable_step_offers_no_skip(new_page: Any, data: UiData) -> None:
    ex = data.exception()
    for n in (1, 2, 3):
        data.api.act(f"/api/exceptions/{ex['exception_id']}/playbook/steps/{n}/complete", {}, data.operator)
    page = new_page(data.operator)
    open_detail(page, ex["exception_id"])
    expect(step(page, 4)).to_have_attribute("data-current", "true")
    expect(page.get_by_test_id("complete-step-4")).to_be_visible()
    expect(page.get_by_test_id("skip-step-4")).to_have_count(0)

    page.get_by_test_id("complete-step-4").click()
    expect(page.get_by_test_id("playbook-completed")).to_be_visible()
    expect(page.locator("[data-testid^=playbook-step-][data-current=true]")).to_have_count(0)
    expect(timeline_events(page, "PlaybookCompleted")).to_have_count(1)
    expect(timeline_events(page, "ToolCallRecorded")).to_have_count(1)


def test_stale_page_shows_the_409(new_page: Any, data: UiData) -> None:
    ex = data.exception()
    first = new_page(data.operator)
    second = new_page(data.operator)
    open_detail(first, ex["exception_id"])
    open_detail(second, ex["exception_id"])

    first.get_by_test_id("complete-step-1").click()
    expect(step(first, 2)).to_have_attribute("data-current", "true")

    # The second page still offers step 1: the server refuses and says why.
    expect(step(second, 1)).to_have_attribute("data-current", "true")
    second.get_by_test_id("complete-step-1").click()
    error = second.get_by_test_id("error-message")
    expect(error).to_be_visible()
    expect(error).to_contain_text("409")
    assert len(error.locator(".error-text").inner_text().strip()) > 10
    # After a conflict the page shows the real state, and the message stays.
    expect(step(second, 1)).to_have_attribute("data-status", "completed")
    expect(step(second, 2)).to_have_attribute("data-current", "true")
    expect(error).to_be_visible()
    expect(timeline_events(second, "PlaybookStepCompleted")).to_have_count(1)


def test_forbidden_and_unavailable_show_the_server_message(new_page: Any, data: UiData, api: Any) -> None:
    ex = data.exception()
    # Viewers are not offered actions their role may not take (issue 17): nothing to click.
    viewer = api.token(data.tenant, "vera", ["viewer"])
    page = new_page(viewer)
    open_detail(page, ex["exception_id"])
    expect(page.get_by_test_id("complete-step-1")).to_have_count(0)

    # A 403 (a role revoked while the page was open) still shows, with the server's status.
    page = new_page(data.operator)
    open_detail(page, ex["exception_id"])
    page.route(
        re.compile(r"/playbook/steps/1/complete$"),
        lambda route: route.fulfill(
            status=403, json={"code": "FORBIDDEN_ROLE", "message": "Your role does not allow this action"}
        ),
    )
    page.get_by_test_id("complete-step-1").click()
    error = page.get_by_test_id("error-message")
    expect(error).to_contain_text("403")
    expect(step(page, 1)).to_have_attribute("data-status", "pending")
    expect(page.get_by_test_id("complete-step-1")).to_be_enabled()
    page.unroute(re.compile(r"/playbook/steps/1/complete$"))

    # A throttled dependency (503) is passed through word for word; the button comes back.
    page.route(
        re.compile(r"/playbook/steps/1/complete$"),
        lambda route: route.fulfill(
            status=503,
            json={"code": "SERVICE_UNAVAILABLE", "message": "DynamoDB is throttling; nothing was written"},
        ),
    )
    page.get_by_test_id("complete-step-1").click()
    expect(error).to_contain_text("DynamoDB is throttling; nothing was written")
    expect(error).to_contain_text("503")
    expect(page.get_by_test_id("complete-step-1")).to_be_enabled()
    expect(page.get_by_test_id("complete-step-1")).to_have_text("Mark completed")


def test_recalculate_shows_loading_then_the_result(new_page: Any, data: UiData) -> None:
    ex = data.exception()
    page = new_page(data.operator)
    open_detail(page, ex["exception_id"])
    button = page.get_by_test_id("recalculate-playbook")
    # Record every state the button goes through (the local answer is too quick to poll for).
    page.evaluate(
        """(el) => {
          window.__states = [];
          new MutationObserver(() => window.__states.push(
            {text: el.textContent.trim(), disabled: el.disabled, busy: el.getAttribute('aria-busy')}
          )).observe(el, {attributes: true, childList: true, subtree: true, characterData: true});
        }""",
        button.element_handle(),
    )
    button.click()
    result = page.get_by_test_id("recalc-result")
    expect(result).to_be_visible()
    expect(result).to_contain_text("No change")
    expect(result).to_contain_text(data.flow["name"])
    states = page.evaluate("window.__states")
    assert {"text": "Recalculating…", "disabled": True, "busy": "true"} in states
    expect(button).to_be_enabled()
    expect(button).to_have_text("Recalculate")
    expect(button).not_to_have_attribute("aria-busy", "true")

    # The per-candidate checks are one click away.
    result.get_by_text("Candidate checks").click()
    table = result.locator("[data-testid=candidate] table").first
    expect(table).to_be_visible()
    expect(result.locator(".fail").first).to_be_visible()  # the critical playbook's severity check


def test_no_playbook_shows_the_empty_state(new_page: Any, data: UiData) -> None:
    ex = data.exception(exception_type=NOMATCH_TYPE, wait=False)
    page = new_page(data.operator)
    page.goto(f"/#/exceptions/{ex['exception_id']}")
    panel = page.get_by_test_id("playbook-panel")
    expect(panel).to_contain_text("No playbook assigned yet")
    expect(page.get_by_test_id("recalculate-playbook")).to_be_visible()
    # The page keeps watching while the agents work: their verdict reaches the timeline.
    expect(timeline_events(page, "PolicyEvaluated")).to_have_count(1, timeout=15_000)
    page.get_by_test_id("recalculate-playbook").click()
    expect(page.get_by_test_id("recalc-result")).to_contain_text("No change")
    expect(page.get_by_test_id("playbook-name")).to_have_count(0)


# ---------------------------------------------------------------- timeline


def test_timeline_renders_filters_and_takes_comments(new_page: Any, data: UiData) -> None:
    ex = data.exception()
    page = new_page(data.operator)
    open_detail(page, ex["exception_id"])
    timeline = page.get_by_test_id("timeline")
    events = timeline.get_by_test_id("timeline-event")
    expect(events.first).to_have_attribute("data-event-type", "ExceptionCreated")
    expect(timeline_events(page, "PlaybookStarted")).to_have_count(1)
    started = timeline_events(page, "PlaybookStarted")
    expect(started.locator(".playbook-badge")).to_be_visible()
    triage = timeline_events(page, "TriageCompleted")
    expect(triage.locator(".actor-agent")).to_contain_text("agent")
    expect(triage).to_contain_text("TriageAgent")

    seqs = events.evaluate_all("els => els.map(e => Number(e.dataset.seq))")
    assert seqs == sorted(seqs), "oldest first"

    timeline.get_by_label("Event type").select_option("PlaybookStarted")
    expect(events).to_have_count(1)
    timeline.get_by_label("Event type").select_option("")
    expect(events).to_have_count(len(seqs))

    page.get_by_label("Add a comment").fill("Spoke to the desk <b>not bold</b>")
    page.get_by_role("button", name="Add comment").click()
    comment = timeline_events(page, "CommentAdded").last
    expect(comment).to_contain_text("Spoke to the desk <b>not bold</b>")
    expect(comment.locator(".actor-human")).to_contain_text("olga")
    expect(page.get_by_label("Add a comment")).to_have_value("")


def test_server_text_is_never_markup(new_page: Any, data: UiData) -> None:
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    ex = data.exception(summary=payload, attributes={"trade_id": payload})
    page = new_page(data.operator)
    open_detail(page, ex["exception_id"])
    expect(page.locator(".detail-summary")).to_have_text(payload)
    page.goto("/#/exceptions")
    expect(page.get_by_test_id("exception-row").first).to_be_visible()
    assert page.evaluate("window.__xss") is None
    assert page.locator("main img").count() == 0


# ---------------------------------------------------------------- playbooks


def test_playbook_create_shows_validation_then_succeeds(new_page: Any, data: UiData) -> None:
    page = new_page(data.admin)
    page.goto("/#/playbooks")
    page.get_by_test_id("new-playbook").click()
    editor = page.get_by_test_id("playbook-json")
    expect(editor).to_be_visible()

    editor.fill('{"name": "Broken", ')
    page.get_by_test_id("playbook-save").click()
    expect(page.get_by_test_id("error-message")).to_contain_text("Invalid JSON")

    invalid = {
        "name": "UI created playbook",
        "conditions": {"match": {"domain": DOMAIN, "colour": "red"}, "priority": 5},
        "steps": [{"name": "Shout", "action_type": "shout", "params": {}}],
    }
    editor.fill(json.dumps(invalid, indent=2))
    page.get_by_test_id("playbook-save").click()
    error = page.get_by_test_id("error-message")
    expect(error).to_contain_text("422")
    paths = error.locator("li code")
    expect(paths.first).to_be_visible()
    listed = paths.all_text_contents()
    assert "steps[0].action_type" in listed
    assert any(p.startswith("conditions") for p in listed)
    expect(editor).to_have_attribute("aria-invalid", "true")

    valid = {
        **invalid,
        "conditions": {"match": {"domain": DOMAIN, "exception_type": "UI_CREATED"}, "priority": 5},
        "steps": [
            {
                "name": "Note it",
                "action_type": "add_comment",
                "params": {"text": "Seen {exception.exception_id}"},
            }
        ],
    }
    editor.fill(json.dumps(valid, indent=2))
    page.get_by_test_id("playbook-save").click()
    expect(page).to_have_url(re.compile(r"#/playbooks/[^/?]+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("UI created playbook")
    expect(page.get_by_test_id("playbook-steps-table")).to_contain_text("Note it")
    expect(page.get_by_test_id("version-link-1")).to_be_visible()


def test_playbook_edit_makes_a_new_version_and_history_stays(new_page: Any, data: UiData) -> None:
    created = data.api.call(
        "POST",
        "/api/playbooks",
        {
            "name": "UI versioned",
            "conditions": {"match": {"domain": DOMAIN, "exception_type": "UI_VERSIONED"}, "priority": 1},
            "steps": [{"name": "First", "action_type": "add_comment", "params": {"text": "one"}}],
        },
        data.admin,
    )
    page = new_page(data.admin)
    page.goto(f"/#/playbooks/{created['playbook_id']}")
    page.get_by_test_id("edit-playbook").click()
    editor = page.get_by_test_id("playbook-json")
    body = json.loads(editor.input_value())
    body["steps"].append({"name": "Second", "action_type": "add_comment", "params": {"text": "two"}})
    editor.fill(json.dumps(body))
    page.get_by_test_id("playbook-save").click()
    expect(page.get_by_test_id("playbook-detail-version")).to_have_text("2")
    expect(page.get_by_test_id("playbook-steps-table")).to_contain_text("Second")

    page.get_by_test_id("version-link-1").click()
    expect(page.get_by_test_id("playbook-detail-version")).to_have_text("1")
    expect(page.get_by_test_id("playbook-steps-table")).not_to_contain_text("Second")

    page.get_by_test_id("deactivate-playbook").click()
    page.get_by_test_id("confirm-deactivate").click()
    expect(page.locator(".detail-header .badge.inactive")).to_be_visible()


def test_simulate_explains_the_choice(new_page: Any, data: UiData) -> None:
    page = new_page(data.operator)
    page.goto("/#/playbooks")
    expect(page.get_by_test_id("playbooks-table")).to_contain_text(data.flow["name"])
    candidate = {
        "domain": DOMAIN,
        "exception_type": "UI_FLOW",
        "severity": "high",
        "sla_deadline": None,
        "policy_tags": [],
        "attributes": {"trade_id": "T-7"},
    }
    page.get_by_test_id("simulate-input").fill(json.dumps(candidate))
    page.get_by_test_id("simulate-button").click()
    result = page.get_by_test_id("simulate-result")
    expect(result).to_contain_text(f"Would get: {data.flow['name']}")
    chosen = result.locator(f'[data-testid=candidate][data-playbook-id="{data.flow["playbook_id"]}"]')
    expect(chosen).to_contain_text("matched")
    expect(chosen.locator("td .pass").first).to_be_visible()
    other = result.locator(f'[data-testid=candidate][data-playbook-id="{data.critical["playbook_id"]}"]')
    expect(other).to_contain_text("not matched")
    expect(other.locator("tr.row-fail")).to_contain_text("severity")

    # By id of an existing exception.
    ex = data.exception()
    page.get_by_label("An existing exception").check()
    page.get_by_test_id("simulate-exception-id").fill(ex["exception_id"])
    page.get_by_test_id("simulate-button").click()
    expect(result).to_contain_text(data.flow["name"])


# ---------------------------------------------------------------- cross-cutting


def test_a_401_returns_to_sign_in(new_page: Any) -> None:
    page = new_page("not-a-valid-token")
    page.goto("/#/exceptions")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Your session has ended")).to_be_visible()


def _panel_and_timeline_boxes(page: Any) -> tuple[dict[str, float], dict[str, float]]:
    # Both boxes from one layout, read together in the page: the header renders in parallel with
    # the panel and moves both columns down when it lands.
    boxes = page.evaluate(
        """() => ['playbook-panel', 'timeline'].map((id) => {
            const r = document.querySelector(`[data-testid="${id}"]`).getBoundingClientRect();
            return { x: r.x, y: r.y, width: r.width, height: r.height };
        })"""
    )
    return boxes[0], boxes[1]


def test_narrow_window_stacks_panel_above_timeline(new_page: Any, data: UiData) -> None:
    ex = data.exception()
    page = new_page(data.operator, width=400, height=800)
    open_detail(page, ex["exception_id"])
    panel, timeline = _panel_and_timeline_boxes(page)
    assert timeline["y"] >= panel["y"] + panel["height"] - 1
    assert panel["width"] <= 400
    no_overflow = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_overflow, "nothing scrolls sideways at 400 px"

    wide = new_page(data.operator)
    open_detail(wide, ex["exception_id"])
    panel, timeline = _panel_and_timeline_boxes(wide)
    assert abs(panel["y"] - timeline["y"]) < 2 and timeline["x"] > panel["x"] + panel["width"] - 1


def test_only_the_own_origin_is_contacted(new_page: Any, data: UiData, base_url: str) -> None:
    ex = data.exception()
    page = new_page(data.operator)
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.goto("/#/exceptions")
    expect(page.get_by_test_id("exception-row").first).to_be_visible()
    open_detail(page, ex["exception_id"])
    page.goto("/#/playbooks")
    expect(page.get_by_test_id("playbooks-table")).to_be_visible()
    foreign = [u for u in urls if not (u.startswith(base_url) or u.startswith("data:"))]
    assert not foreign, foreign


def test_deployed_mode_signs_in_through_the_hosted_ui(new_page: Any, data: UiData, base_url: str) -> None:
    """With config.json present the UI signs in at Cognito: authorization code + PKCE (S256)."""
    page = new_page()
    config = {
        "apiBaseUrl": base_url,
        "cognito": {"domain": "ep-test", "clientId": "client123", "region": "eu-west-1"},
        "local": False,
    }
    page.route("**/config.json", lambda route: route.fulfill(json=config))
    authorize: list[str] = []

    exchanges: list[dict[str, str]] = []

    def hosted_ui(route: Any) -> None:
        # Stand-in for the Cognito hosted UI: /authorize sends the browser back with a code, as
        # Cognito does; /token exchanges it (with the PKCE verifier) for the tokens.
        url = route.request.url
        if urlsplit(url).path == "/oauth2/token":
            exchanges.append(dict(parse_qsl(route.request.post_data or "")))
            route.fulfill(
                # The UI keeps the access token (the API's authorizer wants the API scope, which
                # ID tokens never carry); the ID token here is a decoy it must not use.
                json={"id_token": "not-the-bearer", "access_token": data.operator, "token_type": "Bearer"},
                headers={"Access-Control-Allow-Origin": "*"},
            )
            return
        authorize.append(url)
        query = dict(parse_qsl(urlsplit(url).query))
        back = urlencode({"code": "the-code", "state": query["state"]})
        route.fulfill(status=302, headers={"Location": f"{query['redirect_uri']}?{back}"})

    page.route("https://ep-test.auth.eu-west-1.amazoncognito.com/**", hosted_ui)
    page.goto("/")
    expect(page.get_by_label("Tenant")).to_have_count(0)  # no local form when deployed
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("exceptions-table")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_contain_text("olga")
    assert "id_token" not in page.url and "code=" not in page.url, "nothing stays in the address bar"

    query = dict(parse_qsl(urlsplit(authorize[0]).query))
    assert urlsplit(authorize[0]).path == "/oauth2/authorize"
    assert query["response_type"] == "code"
    assert query["scope"].split() == ["openid", "email", "profile", "exception-playbooks/api"]
    assert page.evaluate("sessionStorage.getItem('id_token')") == data.operator
    assert query["code_challenge_method"] == "S256"
    (exchange,) = exchanges
    assert exchange["grant_type"] == "authorization_code" and exchange["code"] == "the-code"
    digest = hashlib.sha256(exchange["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == query["code_challenge"]
    assert query["client_id"] == "client123"
