"""Fixtures for the browser tests: one local stack and one Chromium per module, test
data created through the public API (packs, playbooks, exceptions, tokens)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .support import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, Api, LocalStack

DOMAIN = "UiOps"
FLOW_TYPE = "UI_FLOW"
NOMATCH_TYPE = "UI_NOMATCH"

DOMAIN_PACK = {
    "exception_types": {
        FLOW_TYPE: {"description": "Break handled by the standard flow", "default_severity": "medium"},
        NOMATCH_TYPE: {"description": "Nothing matches this one", "default_severity": "low"},
    },
    "severity_rules": [],
    "tools": {
        "lookup_trade": {
            "description": "Fetch the trade from the booking system",
            "risk": "low",
            "parameters": {
                "type": "object",
                "required": ["trade_id"],
                "properties": {"trade_id": {"type": "string"}},
            },
        }
    },
    "fields": {"desk": "UI Ops desk"},
}

POLICY_PACK = {
    "approved_tools": ["lookup_trade"],
    "blocked_action_types": [],
    "human_approval": {"action_types": [], "severities": []},
    "severity_overrides": {},
    "tag_rules": [],
    "auto_resolve_on_completion": False,
    "fields": {"escalation_queue": "UiTier2"},
}

FLOW_PLAYBOOK = {
    "name": "UI flow - standard",
    "description": "Standard handling used by the UI tests",
    "conditions": {"match": {"domain": DOMAIN, "exception_type": FLOW_TYPE}, "priority": 100},
    "steps": [
        {
            "name": "Record triage note",
            "action_type": "add_comment",
            "params": {"text": "Triage for {exception.exception_id}"},
        },
        {"name": "Assign to the UI queue", "action_type": "assign_owner", "params": {"queue": "UiOpsQueue"}},
        {
            "name": "Notify the desk",
            "action_type": "notify",
            "params": {
                "channel": "log",
                "group": "UiDesk",
                "subject": "Update on {exception.exception_id}",
                "message": "Handled by {domain.desk}",
            },
        },
        {
            "name": "Look up the trade",
            "action_type": "call_tool",
            "params": {"tool_id": "lookup_trade", "payload": {"trade_id": "{exception.attributes.trade_id}"}},
            "skippable": False,
        },
    ],
}

CRITICAL_PLAYBOOK = {
    "name": "UI flow - critical",
    "description": "Only for critical breaks",
    "conditions": {
        "match": {"domain": DOMAIN, "exception_type": "UI_*", "severity": "critical"},
        "priority": 200,
    },
    "steps": [{"name": "Escalate", "action_type": "set_status", "params": {"status": "escalated"}}],
}


# Allow for a busy machine (the local stack runs a JVM and worker processes next to the browser).
expect.set_options(timeout=10_000)


def _skip_reason() -> str | None:
    if os.environ.get("UI_TEST_BASE_URL"):
        return None
    if not (REPO_ROOT / "local" / "server.py").is_file():
        return "the local stack (local/server.py) is not available"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (make chromium installs it)"
    return None


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    # UI_TEST_BASE_URL reuses an already running stack (handy while developing the UI).
    external = os.environ.get("UI_TEST_BASE_URL")
    if external:
        yield external.rstrip("/")
        return
    stack = LocalStack(seed_demo=False)
    yield stack.start()
    stack.stop()


@pytest.fixture(scope="module")
def api(base_url: str) -> Api:
    return Api(base_url)


class UiData:
    """A fresh tenant with packs, two playbooks and tokens; exceptions are made per test."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.tenant = f"ui-{uuid.uuid4().hex[:10]}"
        self.admin = api.token(self.tenant, "ada", ["admin", "operator"])
        self.operator = api.token(self.tenant, "olga", ["operator"])
        api.call("PUT", "/api/packs/policy", POLICY_PACK, self.admin)
        api.call("PUT", f"/api/packs/domains/{DOMAIN}", DOMAIN_PACK, self.admin)
        self.flow = api.call("POST", "/api/playbooks", FLOW_PLAYBOOK, self.admin)
        self.critical = api.call("POST", "/api/playbooks", CRITICAL_PLAYBOOK, self.admin)

    def exception(self, *, wait: bool = True, **fields: Any) -> dict[str, Any]:
        body = {
            "domain": DOMAIN,
            "exception_type": FLOW_TYPE,
            "severity": "high",
            "source_system": "UiTests",
            "summary": "Trade T-1 failed to settle",
            "attributes": {"trade_id": "T-1", "amount": 1200},
            **fields,
        }
        created = self.api.call("POST", "/api/exceptions", body, self.operator)
        if wait:
            status = self.api.wait_for_playbook(created["exception_id"], self.operator)
            assert status["playbook"], f"no playbook was assigned to {created['exception_id']}"
        return dict(created)


@pytest.fixture(scope="module")
def data(api: Api) -> UiData:
    return UiData(api)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any, base_url: str) -> Iterator[Callable[..., Any]]:
    """Opens pages in fresh contexts, optionally already signed in with ``token``."""
    contexts: list[Any] = []

    def make(token: str | None = None, width: int = 1280, height: int = 800) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=base_url)
        context.set_default_timeout(10_000)
        if token:
            # The UI keeps its bearer token in sessionStorage; seeding it skips the sign-in form.
            context.add_init_script(f"window.sessionStorage.setItem('id_token', {json.dumps(token)});")
        contexts.append(context)
        page = context.new_page()
        page.errors = []  # uncaught page errors fail the test at teardown
        page.on("pageerror", lambda err: page.errors.append(str(err)))
        return page

    yield make
    errors = [e for c in contexts for p in c.pages for e in getattr(p, "errors", [])]
    for context in contexts:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
