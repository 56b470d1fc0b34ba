"""End-to-end proof (issue 10): one exception from intake to feedback, over HTTP and in the browser.

One local stack (``python -m local.server``, ``SEED_DEMO=0``, a temporary ``LOCAL_STATE_DIR``, a
free port) and Debian's Chromium serve the whole module. Agents act asynchronously, so every wait
is a poll with a deadline (the API timeline) or a Playwright ``expect`` with a timeout; there is
no fixed sleep. The scenario (docs/e2e.md tells the same story):

1. Setup over HTTP, as an admin of a fresh tenant:
   - PUT the domain pack ``Settlements``: type ``FailedSettlement``; a severity rule (amount >=
     1,000,000 -> high); tools ``lookup_trade`` (low risk, requires ``trade_id``) and
     ``reverse_settlement`` (HIGH risk, requires ``trade_id`` and ``amount``).
   - PUT the policy pack: both tools approved, ``human_approval.action_types = [assign_owner]``,
     ``auto_resolve_on_completion = true``, field ``escalation_queue``.
   - POST the playbook "Failed settlement - large" (priority 100, 5 steps):
     1 add_comment (completed with notes), 2 call_tool ``reverse_settlement`` (needs a human: high
     risk tool), 3 notify (skipped with notes), 4 assign_owner to ``{policy.escalation_queue}``
     (needs a human: policy), 5 call_tool ``lookup_trade`` (not skippable); and a catch-all
     playbook (empty match, priority 0) that also matches, so the choice is meaningful.
2. An ``automation`` client POSTs the exception (no severity; amount 2.5 M). Polling the timeline:
   ``TriageCompleted`` (agent TriageAgent: severity high from the domain rule, suggests the
   playbook, reasoning names the catch-all it beat), ``PolicyEvaluated`` (decision assigned) and
   ``PlaybookStarted`` (both agent PolicyAgent), ``ResolutionSuggested`` for step 1 (agent
   ResolutionAgent). API state: in_progress, no owner, current_step 1, requires_approval
   computed [F, T, F, T, F]; simulate shows both playbooks matched and the winner.
3. In Chromium, an operator signs in with the local form (tenant, username, role), opens
   #/exceptions, clicks the row and sees the Recommended Playbook panel (name, version 1, five
   pending steps, step 1 current, approval markers on 2 and 4) and the agents' timeline.
4. Step 1: notes + "Mark completed". Panel: 1 completed by the operator, 2 current; UI timeline
   gains PlaybookStepCompleted + CommentAdded; API: current_step 2; ResolutionSuggested for
   step 2 says it needs a human.
5. Step 2 (approval): over HTTP the automation client completing it as ``actor_type: agent`` gets
   403 ``APPROVAL_REQUIRED`` and nothing changes (timeline and state identical); then the
   operator completes it in the UI; ToolCallRecorded (dry run, typed payload) appears.
6. Step 3: skipped in the UI with notes (the notify step performs nothing: no
   NotificationSent).
7. Step 4: completed in the UI; the owner becomes the queue (header, OwnerAssigned, API).
8. Step 5: completed in the UI; the panel shows the playbook completed (no current step,
   statuses completed/completed/skipped/completed/completed); PlaybookCompleted (system) and
   StatusChanged in_progress -> resolved (system, auto-resolve); API: resolved, current_step
   null.
9. FeedbackCaptured (agent FeedbackAgent: 4 completed, 1 skipped, actor the operator) reaches
   the API and, after a reload, the UI timeline. The whole API timeline is checked in order with
   its actors and printed; ``GET /api/playbooks/{id}/stats`` shows 1 run started and completed,
   4 steps completed, 1 skipped, mean/p90 time set; the catch-all has no run. Recalculating the
   completed playbook is refused (409 PLAYBOOK_COMPLETED) and writes nothing. The final timeline
   (seq, type, actor) is printed: run with ``pytest -s`` to see it in the log.
10. Cost budgets, from the ``X-Local-Aws-Calls`` header of every answer seen (this client's and
    the browser's): status reads <= 2 AWS calls, complete/skip <= 3. The local dispatcher's
    record (``/local/deliveries``, ``/local/dead-letters``): every agent delivery for the
    exception succeeded within 3 AWS calls, none dead-lettered.

Every stage asserts the panel (data-status / data-current per step), the UI timeline
(data-event-type, in the API's order) and the API state (status, owner, current_step).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.ui.support import ApiError, LocalStack

from .conftest import AWS_CALLS_HEADER, Metered, MeteredApi, request_kind

pytestmark = pytest.mark.slow

# ARCHITECTURE.md cost budgets (warm, + one GetItem on a playbook-version cache miss).
BUDGETS = {"status": 2, "complete": 3}
AGENT_BUDGET = 3  # AWS calls of an agent handling one event
COLD_PACK_READS = 2  # policy + domain pack, read once per execution environment
AGENT_TIMEOUT_S = 20.0

DOMAIN = "Settlements"
EXCEPTION_TYPE = "FailedSettlement"
OPERATOR = "olivia.ops"
AUTOMATION = "intake-bot"
ESCALATION_QUEUE = "SettlementsTier2"
TRADE_ID = "T-7781"
AMOUNT = 2_500_000

DOMAIN_PACK = {
    "exception_types": {
        EXCEPTION_TYPE: {
            "description": "A trade did not settle on its value date",
            "default_severity": "medium",
        }
    },
    "severity_rules": [{"when": {"attributes": {"amount": {"gte": 1_000_000}}}, "severity": "high"}],
    "tools": {
        "lookup_trade": {
            "description": "Fetch the trade from the booking system",
            "risk": "low",
            "parameters": {
                "type": "object",
                "required": ["trade_id"],
                "properties": {"trade_id": {"type": "string"}},
            },
        },
        "reverse_settlement": {
            "description": "Reverse the failed settlement instruction at the custodian",
            "risk": "high",
            "parameters": {
                "type": "object",
                "required": ["trade_id", "amount"],
                "properties": {"trade_id": {"type": "string"}, "amount": {"type": "number"}},
            },
        },
    },
    "fields": {"desk": "Settlements desk"},
}

POLICY_PACK = {
    "approved_tools": ["lookup_trade", "reverse_settlement"],
    "blocked_action_types": [],
    "human_approval": {"action_types": ["assign_owner"], "severities": []},
    "severity_overrides": {},
    "tag_rules": [],
    "auto_resolve_on_completion": True,
    "fields": {"escalation_queue": ESCALATION_QUEUE},
}

MAIN_PLAYBOOK = {
    "name": "Failed settlement - large",
    "description": "Large failed settlements: record, reverse, tell the desk, hand over, verify",
    "conditions": {
        "match": {"domain": DOMAIN, "exception_type": EXCEPTION_TYPE, "severity_in": ["high", "critical"]},
        "priority": 100,
    },
    "steps": [
        {
            "name": "Record the break",
            "action_type": "add_comment",
            "params": {"text": "Break on {exception.attributes.trade_id} for {domain.desk}"},
        },
        {
            "name": "Reverse the settlement",
            "action_type": "call_tool",
            "params": {
                "tool_id": "reverse_settlement",
                "payload": {
                    "trade_id": "{exception.attributes.trade_id}",
                    "amount": "{exception.attributes.amount}",
                },
            },
        },
        {
            "name": "Notify the desk",
            "action_type": "notify",
            "params": {
                "channel": "email",
                "group": "SettlementsDesk",
                "subject": "Failed settlement {exception.exception_id}",
                "message": "Trade {exception.attributes.trade_id} is being reversed by {domain.desk}",
            },
            "skippable": True,
        },
        {
            "name": "Hand over to Tier 2",
            "action_type": "assign_owner",
            "params": {"queue": "{policy.escalation_queue}"},
        },
        {
            "name": "Verify the trade",
            "action_type": "call_tool",
            "params": {"tool_id": "lookup_trade", "payload": {"trade_id": "{exception.attributes.trade_id}"}},
            "skippable": False,
        },
    ],
}
STEP_COUNT = len(MAIN_PLAYBOOK["steps"])
REQUIRES_APPROVAL = [False, True, False, True, False]  # 2: high-risk tool; 4: policy action type

CATCH_ALL_PLAYBOOK = {
    "name": "Catch-all triage",
    "description": "Anything nothing more specific matched",
    "conditions": {"match": {}, "priority": 0},
    "steps": [{"name": "Look at it", "action_type": "add_comment", "params": {"text": "Unrecognised break"}}],
}

NOTES_STEP_1 = "Break confirmed with the custodian: SSI mismatch"
NOTES_STEP_2 = "Approved: reversal agreed with the desk head"
NOTES_STEP_3 = "Desk already told by phone; no e-mail needed"


@dataclass
class Run:
    api: MeteredApi
    tenant: str
    admin: str
    automation: str
    operator: str
    main_id: str = ""
    catch_all_id: str = ""
    exception_id: str = ""
    browser_seen: list[Metered] = field(default_factory=list)

    def get(self, path: str) -> Any:
        return self.api.call("GET", path, token=self.operator)

    def exception(self) -> dict[str, Any]:
        return dict(self.get(f"/api/exceptions/{self.exception_id}"))

    def status(self) -> dict[str, Any]:
        return dict(self.get(f"/api/exceptions/{self.exception_id}/playbook"))

    def events(self) -> list[dict[str, Any]]:
        return self.api.events(self.exception_id, self.operator)

    def wait_for(self, until: Callable[[list[dict[str, Any]]], bool], what: str) -> list[dict[str, Any]]:
        return self.api.wait_for_events(self.exception_id, self.operator, until, what, AGENT_TIMEOUT_S)

    def wait_for_suggestion(self, step_order: int) -> dict[str, Any]:
        """The ResolutionAgent's suggestion for ``step_order`` (written after the previous action)."""
        events = self.wait_for(
            lambda evs: any(_suggests(e, step_order) for e in evs),
            f"ResolutionSuggested for step {step_order}",
        )
        return next(e for e in events if _suggests(e, step_order))


def _suggests(event: dict[str, Any], step_order: int) -> bool:
    return (
        event["event_type"] == "ResolutionSuggested"
        and event["payload"]["next_step"]["step_order"] == step_order
    )


def of_type(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event_type"] == event_type]


def actor(event: dict[str, Any]) -> tuple[str, str]:
    return (event["actor_type"], event["actor_id"])


# ---------------------------------------------------------------- UI helpers


def step(page: Any, n: int) -> Any:
    return page.get_by_test_id(f"playbook-step-{n}")


def ui_events(page: Any, event_type: str | None = None) -> Any:
    selector = '[data-testid="timeline-event"]'
    if event_type:
        selector += f'[data-event-type="{event_type}"]'
    return page.get_by_test_id("timeline").locator(selector)


def expect_panel(page: Any, statuses: list[str], current: int | None) -> None:
    """Every step's data-status, and data-current true on ``current`` only."""
    for n, status in enumerate(statuses, start=1):
        expect(step(page, n)).to_have_attribute("data-status", status)
        expect(step(page, n)).to_have_attribute("data-current", "true" if n == current else "false")


def expect_ui_timeline(page: Any, events: list[dict[str, Any]]) -> None:
    """The UI's timeline shows exactly the API's events, oldest first, with the same actor types."""
    rows = ui_events(page)
    # The page re-reads the timeline after each action and again 1.5 s and 4 s later (agents).
    expect(rows).to_have_count(len(events), timeout=10_000)
    shown = rows.evaluate_all(
        "els => els.map(e => [Number(e.dataset.seq), e.dataset.eventType, e.dataset.actorType])"
    )
    assert shown == [[e["seq"], e["event_type"], e["actor_type"]] for e in events]


def expect_api_state(
    run: Run, *, status: str, owner: dict[str, str] | None, current_step: int | None
) -> None:
    record = run.exception()
    assert (record["status"], record["owner"], record["current_step"]) == (status, owner, current_step)
    assert (record["current_playbook_id"], record["current_playbook_version"]) == (run.main_id, 1)
    playbook = run.status()
    assert playbook["current_step"] == current_step
    assert playbook["completed"] is (current_step is None)


def ui_act(run: Run, page: Any, kind: str, n: int, notes: str | None = None) -> dict[str, Any]:
    """Clicks complete-step-N / skip-step-N (with notes typed first) and checks the answer."""
    if notes is not None:
        page.get_by_test_id("step-notes").fill(notes)
    pattern = re.compile(rf"/api/exceptions/[^/]+/playbook/steps/{n}/{kind}$")
    with page.expect_response(lambda r: r.request.method == "POST" and bool(pattern.search(r.url))) as info:
        page.get_by_test_id(f"{kind}-step-{n}").click()
    response = info.value
    assert response.status == 200, f"{kind} step {n}: {response.status} {response.text()}"
    calls = int(response.headers[AWS_CALLS_HEADER.lower()])
    assert calls <= BUDGETS["complete"], f"{kind} step {n} made {calls} AWS calls"
    return dict(response.json())


# ---------------------------------------------------------------- the scenario


def test_exception_from_intake_to_feedback(stack: LocalStack, api: MeteredApi, browser: Any) -> None:
    started = time.monotonic()
    tenant = f"e2e-{uuid.uuid4().hex[:10]}"
    run = Run(
        api=api,
        tenant=tenant,
        admin=api.token(tenant, "ada.admin", ["admin"]),
        automation=api.token(tenant, AUTOMATION, ["automation"]),
        operator=api.token(tenant, OPERATOR, ["operator"]),
    )

    # 1. Packs and playbooks, as an admin.
    assert api.call("PUT", f"/api/packs/domains/{DOMAIN}", DOMAIN_PACK, run.admin)["version"] == 1
    policy = api.call("PUT", "/api/packs/policy", POLICY_PACK, run.admin)
    assert (policy["version"], policy["auto_resolve_on_completion"]) == (1, True)
    main = api.call("POST", "/api/playbooks", MAIN_PLAYBOOK, run.admin)
    catch_all = api.call("POST", "/api/playbooks", CATCH_ALL_PLAYBOOK, run.admin)
    run.main_id, run.catch_all_id = main["playbook_id"], catch_all["playbook_id"]
    assert main["version"] == 1 and len(main["steps"]) == STEP_COUNT

    # 2. Intake by a machine client; the agents triage and assign on their own.
    created = api.call(
        "POST",
        "/api/exceptions",
        {
            "domain": DOMAIN,
            "exception_type": EXCEPTION_TYPE,
            "source_system": "Murex",
            "summary": f"Trade {TRADE_ID} failed to settle: SSI mismatch",
            "attributes": {"trade_id": TRADE_ID, "amount": AMOUNT, "currency": "EUR"},
        },
        run.automation,
    )
    run.exception_id = created["exception_id"]
    assert (created["status"], created["severity"], created["current_step"]) == ("open", None, None)

    events = run.wait_for(lambda evs: any(_suggests(e, 1) for e in evs), "the agents to assign and suggest")
    assert [(e["event_type"], actor(e)) for e in events] == [
        ("ExceptionCreated", ("system", AUTOMATION)),
        ("TriageCompleted", ("agent", "TriageAgent")),
        ("PolicyEvaluated", ("agent", "PolicyAgent")),
        ("PlaybookStarted", ("agent", "PolicyAgent")),
        ("ResolutionSuggested", ("agent", "ResolutionAgent")),
    ]
    triage, policy_evaluated, playbook_started, suggestion = (e["payload"] for e in events[1:])
    assert triage["severity"] == "high" and triage["severity_source"] == "domain.severity_rules[0]"
    assert triage["suggested_playbook"]["playbook_id"] == run.main_id
    assert CATCH_ALL_PLAYBOOK["name"] in triage["reasoning_summary"]  # it matched too, and lost
    assert policy_evaluated["decision"] == "assigned" and policy_evaluated["violations"] == []
    assert policy_evaluated["playbook"]["playbook_id"] == run.main_id
    assert (playbook_started["playbook_id"], playbook_started["step_count"]) == (run.main_id, STEP_COUNT)
    assert suggestion["next_step"]["requires_approval"] is False

    expect_api_state(run, status="in_progress", owner=None, current_step=1)
    assert run.exception()["severity"] == "high"
    playbook = run.status()
    assert [s["requires_approval"] for s in playbook["steps"]] == REQUIRES_APPROVAL
    assert [s["status"] for s in playbook["steps"]] == ["pending"] * STEP_COUNT
    simulated = api.call("POST", "/api/playbooks/simulate", {"exception_id": run.exception_id}, run.operator)
    ranked = {c["playbook_id"]: (c["matched"], c["selected"]) for c in simulated["reasoning"]["candidates"]}
    assert ranked == {run.main_id: (True, True), run.catch_all_id: (True, False)}

    # 3. The operator signs in with the local form and opens the exception from the list.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=stack.base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda err: page_errors.append(str(err)))
    page.on("response", lambda r: _record_browser_response(run, r))
    try:
        page.goto("/")
        expect(page).to_have_url(re.compile(r"#/signin$"))
        page.get_by_label("Tenant").fill(tenant)
        page.get_by_label("Username").fill(OPERATOR)
        page.get_by_label("Role").select_option("operator")
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"#/exceptions$"))
        expect(page.get_by_test_id("current-user")).to_contain_text(OPERATOR)
        row = page.locator(f'[data-testid="exception-row"][data-exception-id="{run.exception_id}"]')
        expect(row).to_contain_text(MAIN_PLAYBOOK["name"])
        row.click()
        expect(page).to_have_url(re.compile(f"#/exceptions/{run.exception_id}$"))

        panel = page.get_by_test_id("playbook-panel")
        expect(panel).to_be_visible()
        expect(page.get_by_test_id("playbook-name")).to_have_text(MAIN_PLAYBOOK["name"])
        expect(page.get_by_test_id("playbook-version")).to_have_text("1")
        expect_panel(page, ["pending"] * STEP_COUNT, current=1)
        for n, needs_human in enumerate(REQUIRES_APPROVAL, start=1):
            expect(step(page, n).locator(".badge.approval")).to_have_count(1 if needs_human else 0)
        expect(page.get_by_test_id("exception-status")).to_have_attribute("data-status", "in_progress")
        expect(page.get_by_test_id("exception-severity")).to_contain_text("High")
        expect_ui_timeline(page, run.events())
        expect(ui_events(page, "TriageCompleted")).to_contain_text("TriageAgent")
        expect(ui_events(page, "PlaybookStarted")).to_contain_text("PolicyAgent")

        # 4. Step 1: completed with notes.
        answer = ui_act(run, page, "complete", 1, NOTES_STEP_1)
        assert answer["action"]["action_type"] == "add_comment" and answer["current_step"] == 2
        expect_panel(page, ["completed"] + ["pending"] * 4, current=2)
        expect(step(page, 1)).to_contain_text(OPERATOR)
        expect(step(page, 1)).to_contain_text(NOTES_STEP_1)
        expect(ui_events(page, "PlaybookStepCompleted")).to_have_count(1)
        expect(ui_events(page, "CommentAdded")).to_contain_text(f"Break on {TRADE_ID} for Settlements desk")
        suggestion = run.wait_for_suggestion(2)["payload"]["next_step"]
        assert (suggestion["requires_approval"], suggestion["needs_human"]) == (True, True)
        expect_api_state(run, status="in_progress", owner=None, current_step=2)
        expect_ui_timeline(page, run.events())

        # 5. Step 2 needs a human: an automation client acting as an agent is refused...
        before = (run.events(), run.exception())
        with pytest.raises(ApiError) as refused:
            api.call(
                "POST",
                f"/api/exceptions/{run.exception_id}/playbook/steps/2/complete",
                {"actor_type": "agent", "actor_id": f"{AUTOMATION}:settlement-bot", "notes": "auto-reversal"},
                run.automation,
            )
        assert refused.value.status == 403, refused.value.body
        assert refused.value.body["code"] == "APPROVAL_REQUIRED"
        assert (run.events(), run.exception()) == before, "a refused step must write nothing"
        expect(step(page, 2).locator(".approval-hint")).to_be_visible()
        # ... and the operator completes it in the UI.
        answer = ui_act(run, page, "complete", 2, NOTES_STEP_2)
        assert answer["action"]["action_type"] == "call_tool"
        expect_panel(page, ["completed", "completed"] + ["pending"] * 3, current=3)
        expect(step(page, 2)).to_contain_text(OPERATOR)
        expect(ui_events(page, "ToolCallRecorded")).to_contain_text("reverse_settlement")
        run.wait_for_suggestion(3)
        expect_api_state(run, status="in_progress", owner=None, current_step=3)
        expect_ui_timeline(page, run.events())

        # 6. Step 3: skipped with notes (the notification is not sent).
        answer = ui_act(run, page, "skip", 3, NOTES_STEP_3)
        assert answer["action"]["outcome"] == "skipped"
        expect_panel(page, ["completed", "completed", "skipped", "pending", "pending"], current=4)
        expect(step(page, 3).locator(".badge.step-skipped")).to_have_text("Skipped")
        expect(ui_events(page, "PlaybookStepSkipped")).to_contain_text(NOTES_STEP_3)
        expect(step(page, 3)).to_contain_text(OPERATOR)
        expect(step(page, 3)).to_contain_text(NOTES_STEP_3)
        assert run.wait_for_suggestion(4)["payload"]["next_step"]["requires_approval"] is True
        expect_api_state(run, status="in_progress", owner=None, current_step=4)
        expect_ui_timeline(page, run.events())

        # 7. Step 4 (policy says a human): hand over to the Tier 2 queue.
        ui_act(run, page, "complete", 4)
        expect_panel(page, ["completed", "completed", "skipped", "completed", "pending"], current=5)
        expect(page.get_by_test_id("exception-owner")).to_contain_text(ESCALATION_QUEUE)
        expect(ui_events(page, "OwnerAssigned")).to_have_count(1)
        run.wait_for_suggestion(5)
        queue = {"type": "queue", "id": ESCALATION_QUEUE}
        expect_api_state(run, status="in_progress", owner=queue, current_step=5)
        expect_ui_timeline(page, run.events())

        # 8. Step 5 (not skippable): the last one completes the playbook and auto-resolves.
        expect(page.get_by_test_id("skip-step-5")).to_have_count(0)
        answer = ui_act(run, page, "complete", 5)
        assert answer["completed"] is True and answer["current_step"] is None
        expect(page.get_by_test_id("playbook-completed")).to_be_visible()
        final_statuses = ["completed", "completed", "skipped", "completed", "completed"]
        expect_panel(page, final_statuses, current=None)
        expect(page.locator("[data-testid^=playbook-step-][data-current=true]")).to_have_count(0)
        expect(page.get_by_test_id("complete-step-5")).to_have_count(0)
        expect(ui_events(page, "PlaybookCompleted")).to_have_count(1)
        expect(ui_events(page, "StatusChanged")).to_have_count(1)
        expect(page.get_by_test_id("exception-status")).to_have_attribute("data-status", "resolved")
        expect_api_state(run, status="resolved", owner=queue, current_step=None)

        # 9. Feedback: FeedbackCaptured and the playbook's stats.
        events = run.wait_for(lambda evs: bool(of_type(evs, "FeedbackCaptured")), "FeedbackCaptured")
        page.reload()  # the page's follow-up reads may have run before the agent wrote
        expect(page.get_by_test_id("playbook-completed")).to_be_visible()
        expect_panel(page, final_statuses, current=None)
        expect_ui_timeline(page, events)
        expect(ui_events(page, "FeedbackCaptured")).to_contain_text("FeedbackAgent")

        # A completed playbook is final: recalculate answers 409 and nothing is written.
        with pytest.raises(ApiError) as final:
            api.call("POST", f"/api/exceptions/{run.exception_id}/playbook/recalculate", {}, run.operator)
        assert (final.value.status, final.value.body["code"]) == (409, "PLAYBOOK_COMPLETED")
        assert run.events() == events
    finally:
        context.close()
    assert not page_errors, f"uncaught errors in the page: {page_errors}"

    print_timeline(run, events)
    check_final_timeline(run, events)
    check_stats(run, events)
    check_cost_budgets(run)
    check_agent_deliveries(run)
    print(f"end-to-end scenario took {time.monotonic() - started:.1f} s (stack started before)")


def _record_browser_response(run: Run, response: Any) -> None:
    path = response.url.removeprefix(run.api.base_url)
    if request_kind(response.request.method, path):
        header = response.headers.get(AWS_CALLS_HEADER.lower())
        calls = int(header) if header is not None else None
        run.browser_seen.append(Metered("browser", response.request.method, path, response.status, calls))


# ---------------------------------------------------------------- final checks


def print_timeline(run: Run, events: list[dict[str, Any]]) -> None:
    print(f"\nFinal timeline of {run.exception_id} (tenant {run.tenant}):")
    for e in events:
        print(f"  {e['seq']:>2} {e['event_type']:<22} {e['actor_type']}:{e['actor_id']}")


def check_final_timeline(run: Run, events: list[dict[str, Any]]) -> None:
    human = ("human", OPERATOR)
    system = ("system", "system")
    suggested = ("ResolutionSuggested", ("agent", "ResolutionAgent"))
    assert [(e["event_type"], actor(e)) for e in events] == [
        ("ExceptionCreated", ("system", AUTOMATION)),
        ("TriageCompleted", ("agent", "TriageAgent")),
        ("PolicyEvaluated", ("agent", "PolicyAgent")),
        ("PlaybookStarted", ("agent", "PolicyAgent")),
        suggested,
        ("PlaybookStepCompleted", human),
        ("CommentAdded", human),
        suggested,
        ("PlaybookStepCompleted", human),
        ("ToolCallRecorded", human),
        suggested,
        ("PlaybookStepSkipped", human),
        suggested,
        ("PlaybookStepCompleted", human),
        ("OwnerAssigned", human),
        suggested,
        ("PlaybookStepCompleted", human),
        ("ToolCallRecorded", human),
        ("PlaybookCompleted", system),
        ("StatusChanged", system),
        ("FeedbackCaptured", ("agent", "FeedbackAgent")),
    ]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), "seq is 1, 2, 3... with no gaps"
    assert not of_type(events, "NotificationSent"), "a skipped notify step sends nothing"

    next_steps = [e["payload"]["next_step"] for e in of_type(events, "ResolutionSuggested")]
    assert [s["step_order"] for s in next_steps] == [1, 2, 3, 4, 5]
    assert [s["requires_approval"] for s in next_steps] == REQUIRES_APPROVAL
    assert [s["needs_human"] for s in next_steps] == REQUIRES_APPROVAL

    steps = {
        e["payload"]["step_order"]: e["payload"] for e in events if e["event_type"].startswith("PlaybookStep")
    }
    assert sorted(steps) == [1, 2, 3, 4, 5]
    assert [steps[n]["notes"] for n in (1, 2, 3)] == [NOTES_STEP_1, NOTES_STEP_2, NOTES_STEP_3]
    assert all(p["playbook_id"] == run.main_id and p["actor_id"] == OPERATOR for p in steps.values())

    tools = [e["payload"] for e in of_type(events, "ToolCallRecorded")]
    assert [t["tool_id"] for t in tools] == ["reverse_settlement", "lookup_trade"]
    assert all(t["mode"] == "dry_run" for t in tools)
    # A whole-value placeholder keeps its JSON type: the amount stays a number.
    assert tools[0]["payload"] == {"trade_id": TRADE_ID, "amount": AMOUNT}
    assert tools[1]["payload"] == {"trade_id": TRADE_ID}

    (owner,) = of_type(events, "OwnerAssigned")
    assert owner["payload"]["owner"] == {"type": "queue", "id": ESCALATION_QUEUE}
    (status_changed,) = of_type(events, "StatusChanged")
    change = status_changed["payload"]
    assert (change["from"], change["to"], change["reason"]) == (
        "in_progress",
        "resolved",
        "auto_resolve_on_completion",
    )
    (completed,) = of_type(events, "PlaybookCompleted")
    assert completed["payload"]["playbook_id"] == run.main_id
    assert completed["payload"]["step_count"] == STEP_COUNT

    (feedback,) = of_type(events, "FeedbackCaptured")
    payload = feedback["payload"]
    assert (payload["playbook_id"], payload["playbook_version"]) == (run.main_id, 1)
    assert (payload["steps_completed"], payload["steps_skipped"]) == (4, 1)
    assert payload["actors"] == [f"human:{OPERATOR}"]
    assert payload["time_to_complete_seconds"] > 0


def check_stats(run: Run, events: list[dict[str, Any]]) -> None:
    stats = run.get(f"/api/playbooks/{run.main_id}/stats")
    assert stats["playbook_id"] == run.main_id
    counters = ("runs_started", "runs_completed", "steps_completed", "steps_skipped")
    assert {k: stats[k] for k in counters} == {
        "runs_started": 1,
        "runs_completed": 1,
        "steps_completed": 4,
        "steps_skipped": 1,
    }
    took = of_type(events, "FeedbackCaptured")[0]["payload"]["time_to_complete_seconds"]
    assert stats["mean_time_to_complete_seconds"] is not None
    assert stats["p90_time_to_complete_seconds"] is not None
    assert stats["mean_time_to_complete_seconds"] == pytest.approx(took, abs=0.01)  # one run
    assert stats["p90_time_to_complete_seconds"] == pytest.approx(took, abs=0.01)
    other = run.get(f"/api/playbooks/{run.catch_all_id}/stats")
    assert (other["runs_started"], other["runs_completed"]) == (0, 0), "the catch-all never ran"


def check_cost_budgets(run: Run) -> None:
    seen = [m for m in run.api.seen if request_kind(m.method, m.path)] + run.browser_seen
    by_kind: dict[str, list[Metered]] = {"status": [], "complete": []}
    for metered in seen:
        by_kind[str(request_kind(metered.method, metered.path))].append(metered)
    missing = [m for m in seen if m.aws_calls is None]
    assert not missing, f"answers without {AWS_CALLS_HEADER}: {missing}"
    over = [m for kind, ms in by_kind.items() for m in ms if (m.aws_calls or 0) > BUDGETS[kind]]
    assert not over, f"over the cost budget {BUDGETS}: {over}"
    # Enough of each was observed for the check to mean something: this client's status reads,
    # the browser's, the five UI actions and the refused agent attempt.
    assert sum(m.origin == "http" for m in by_kind["status"]) >= 6
    assert sum(m.origin == "browser" for m in by_kind["status"]) >= 6
    assert sum(m.origin == "browser" for m in by_kind["complete"]) == STEP_COUNT
    assert sum(m.origin == "http" for m in by_kind["complete"]) == 1
    for kind, ms in by_kind.items():
        counts = sorted({m.aws_calls for m in ms if m.aws_calls is not None})
        print(f"X-Local-Aws-Calls for {kind}: {len(ms)} answers, values {counts} (budget <= {BUDGETS[kind]})")


def check_agent_deliveries(run: Run) -> None:
    """The local dispatcher's record: every agent delivery for this exception succeeded, in budget."""
    dead = [d for d in run.get("/local/dead-letters")["items"] if d["exception_id"] == run.exception_id]
    assert not dead, f"dead-lettered agent deliveries: {dead}"
    deliveries = [d for d in run.get("/local/deliveries")["items"] if d["exception_id"] == run.exception_id]
    for d in deliveries:
        print(
            f"  delivery {d['agent']:<16} {d['event_type']:<22} ok={d['ok']} aws_calls={d['aws_calls']}"
            f" in {d['environment']}"
        )
    assert deliveries and all(d["ok"] for d in deliveries), deliveries
    # The first delivery in each agent environment finds it cold (a fresh Lambda one in AWS): it
    # reads the policy and domain packs, which later deliveries there find in its cache.
    assert all(d["environment"].startswith("pid-") for d in deliveries), deliveries
    warmed: set[str] = set()
    over = []
    for d in deliveries:
        cold = d["environment"] not in warmed
        warmed.add(d["environment"])
        if d["aws_calls"] > AGENT_BUDGET + (COLD_PACK_READS if cold else 0):
            over.append(d)
    assert not over, f"agent deliveries over {AGENT_BUDGET} AWS calls: {over}"
