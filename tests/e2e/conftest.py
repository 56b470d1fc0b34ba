"""Fixtures for the end-to-end test: one local stack and one Chromium for the module.

The stack and the browser settings are the UI tests' own (``tests/ui/support.py``): the stack
runs as ``python -m local.server`` on a free port with ``SEED_DEMO=0`` and a temporary
``LOCAL_STATE_DIR``; Chromium is Debian's (never a Playwright download).
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.ui.support import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, Api, LocalStack

AWS_CALLS_HEADER = "X-Local-Aws-Calls"

# Allow for a busy machine (the local stack runs a JVM and worker processes next to the browser).
expect.set_options(timeout=10_000)

_STATUS_PATH = re.compile(r"^/api/exceptions/[^/]+/playbook$")
_STEP_PATH = re.compile(r"^/api/exceptions/[^/]+/playbook/steps/\d+/(complete|skip)$")


def request_kind(method: str, path: str) -> str | None:
    """Which cost budget a request falls under: ``status``, ``complete`` (complete or skip), or none."""
    path = path.split("?", 1)[0]
    if method == "GET" and _STATUS_PATH.match(path):
        return "status"
    if method == "POST" and _STEP_PATH.match(path):
        return "complete"
    return None


@dataclass(frozen=True)
class Metered:
    """One API answer seen during the run and the AWS calls the stack says it made for it."""

    origin: str  # "http" (this test's urllib client) or "browser"
    method: str
    path: str
    status: int
    aws_calls: int | None


class MeteredApi(Api):
    """The UI tests' JSON client, keeping the ``X-Local-Aws-Calls`` header of every answer."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.seen: list[Metered] = []

    def _observe(self, method: str, path: str, status: int, headers: Any) -> None:
        header = headers.get(AWS_CALLS_HEADER)
        calls = int(header) if header is not None else None
        self.seen.append(Metered("http", method, path, status, calls))

    def events(self, exception_id: str, token: str) -> list[dict[str, Any]]:
        """The whole timeline, oldest first (every page)."""
        items: list[dict[str, Any]] = []
        cursor = ""
        while True:
            page = self.call("GET", f"/api/exceptions/{exception_id}/events?limit=200{cursor}", token=token)
            items.extend(page["items"])
            if not page.get("next_cursor"):
                return items
            cursor = f"&cursor={urllib.parse.quote(page['next_cursor'])}"

    def wait_for_events(
        self,
        exception_id: str,
        token: str,
        until: Any,
        what: str,
        timeout: float = 20.0,
    ) -> list[dict[str, Any]]:
        """Polls the timeline until ``until(events)`` holds, with a deadline (never a fixed sleep)."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.events(exception_id, token)
            if until(events):
                return events
            if time.monotonic() > deadline:
                seen = [(e["seq"], e["event_type"], e["actor_id"]) for e in events]
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; timeline: {seen}")
            time.sleep(0.15)


def _skip_reason() -> str | None:
    if not (REPO_ROOT / "local" / "server.py").is_file():
        return "the local stack (local/server.py) is not available"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (make chromium installs it)"
    return None


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    local = LocalStack(seed_demo=False)  # free port, SEED_DEMO=0, LOCAL_STATE_DIR in a temp dir
    try:
        local.start()
        yield local
    finally:
        local.stop()


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.fixture(autouse=True)
def _server_log_on_failure(request: pytest.FixtureRequest, stack: LocalStack) -> Iterator[None]:
    """A failed test shows what the stack logged (agents' errors, tracebacks)."""
    yield
    if request.node.stash.get(_FAILED, False):
        print(f"\n--- last lines of the local stack's log ({stack.log_path}) ---\n{stack.log_tail()}")


@pytest.fixture(scope="module")
def api(stack: LocalStack) -> MeteredApi:
    return MeteredApi(stack.base_url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
