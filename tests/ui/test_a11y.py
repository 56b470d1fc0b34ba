"""axe-core sweep of every page state of the UI at 1280x800 and at a phone's 390x844: no serious
or critical violation (WCAG 2.x A/AA and axe's best practices). axe-core comes from npm at the
version the Makefile pins (``make axe-core`` installs it into .tools/)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import UiData
from .support import REPO_ROOT

pytestmark = pytest.mark.slow

AXE = REPO_ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
BLOCKING = {"serious", "critical"}


def _axe_source() -> str:
    if not AXE.is_file():
        pytest.skip(f"{AXE} is missing (make axe-core installs it)")
    return AXE.read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
              runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
              resultTypes: ['violations'],
            });
            return r.violations.map(v => ({id: v.id, impact: v.impact,
              nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return list(result)


@pytest.fixture(scope="module")
def states(data: UiData, api: Any) -> dict[str, Callable[[Any], None]]:
    """Each page state: a function that brings a signed-in page there."""
    running = data.exception()
    done = data.exception()
    for n in range(1, 5):
        api.act(f"/api/exceptions/{done['exception_id']}/playbook/steps/{n}/complete", {}, data.operator)
    overdue_at = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    breached = data.exception(sla_deadline=overdue_at, severity="critical")

    def detail(exception: dict[str, Any]) -> Callable[[Any], None]:
        def go(page: Any) -> None:
            page.goto(f"/#/exceptions/{exception['exception_id']}")
            expect(page.get_by_test_id("playbook-step-1")).to_be_visible()
            expect(page.get_by_test_id("timeline-event").first).to_be_visible()

        return go

    def list_page(page: Any) -> None:
        page.goto("/#/exceptions")
        expect(page.get_by_test_id("exception-row").first).to_be_visible()

    def list_selected(page: Any) -> None:
        list_page(page)
        page.get_by_test_id("select-row").first.check()
        expect(page.get_by_test_id("bulk-bar")).to_be_visible()
        page.get_by_role("button", name="Keyboard shortcuts").click()
        expect(page.get_by_test_id("keyboard-help")).to_be_visible()

    def list_empty(page: Any) -> None:
        page.goto("/#/exceptions?q=nothing-matches-this")
        expect(page.get_by_text("No exceptions match these filters.")).to_be_visible()

    def new_exception(page: Any) -> None:
        list_page(page)
        page.get_by_role("button", name="New exception").click()
        expect(page.get_by_role("button", name="Create exception")).to_be_visible()

    def recalculated(page: Any) -> None:
        detail(running)(page)
        page.get_by_test_id("recalculate-playbook").click()
        expect(page.locator(".recalc-area .dismiss")).to_be_visible()

    def not_found(page: Any) -> None:
        page.goto("/#/exceptions/EX-DOES-NOT-EXIST")
        expect(page.get_by_role("heading", name="Exception not found")).to_be_visible()

    def playbooks(page: Any) -> None:
        page.goto("/#/playbooks")
        expect(page.get_by_test_id("playbook-row").first).to_be_visible()

    def playbook(page: Any) -> None:
        page.goto(f"/#/playbooks/{data.flow['playbook_id']}")
        expect(page.get_by_test_id("playbook-steps-table")).to_be_visible()

    def editor(page: Any) -> None:
        page.goto("/#/playbooks/new")
        expect(page.get_by_test_id("playbook-save")).to_be_visible()

    return {
        "list": list_page,
        "list-selected-help": list_selected,
        "list-empty": list_empty,
        "new-exception": new_exception,
        "detail-running": detail(running),
        "detail-completed": detail(done),
        "detail-breached": detail(breached),
        "detail-recalculated": recalculated,
        "detail-missing": not_found,
        "playbooks": playbooks,
        "playbook": playbook,
        "playbook-editor": editor,
    }


@pytest.fixture(scope="module")
def axe_context(browser: Any, base_url: str, data: UiData) -> Iterator[Callable[..., Any]]:
    source = _axe_source()
    contexts: list[Any] = []

    def make(viewport: str, signed_in: bool = True) -> Any:
        width, height = VIEWPORTS[viewport]
        # The UI's CSP forbids inline scripts: axe is injected with the CSP bypassed (tests only).
        context = browser.new_context(
            viewport={"width": width, "height": height}, base_url=base_url, bypass_csp=True
        )
        context.set_default_timeout(10_000)
        if signed_in:
            context.add_init_script(f"window.sessionStorage.setItem('id_token', {json.dumps(data.admin)});")
        context.add_init_script(source)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_no_serious_or_critical_violations_in_any_state(
    axe_context: Callable[..., Any], states: dict[str, Callable[[Any], None]], viewport: str
) -> None:
    page = axe_context(viewport)
    found: dict[str, list[dict[str, Any]]] = {}
    for name, go in states.items():
        go(page)
        blocking = [v for v in violations(page) if v["impact"] in BLOCKING]
        if blocking:
            found[name] = blocking
    # The sign-in screen: a page without a token.
    page = axe_context(viewport, False)
    page.goto("/#/signin")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    blocking = [v for v in violations(page) if v["impact"] in BLOCKING]
    if blocking:
        found["signin"] = blocking
    assert not found, json.dumps(found, indent=1)


def test_axe_is_the_pinned_version() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    pinned = next(
        line.split(":=")[1].strip() for line in makefile.splitlines() if line.startswith("AXE_CORE_VERSION")
    )
    if not AXE.is_file():
        pytest.skip("axe-core is not installed")
    installed = json.loads(Path(AXE.parent / "package.json").read_text(encoding="utf-8"))["version"]
    assert installed == pinned
