"""Screenshots of the UI on the demo data, for docs and reviews.

    .venv/bin/python -m tests.ui.screenshots            # starts its own stack (SEED_DEMO=1)
    .venv/bin/python -m tests.ui.screenshots --base-url http://127.0.0.1:3000 --tenant T --user U

Writes docs/screenshots/*.png at 1280x800 (and one narrow detail at 400 px wide): the
exception list, an exception detail mid-playbook, the playbook editor, a draft with its lint,
impact preview and diff, and the simulate box.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .support import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, Api, LocalStack

OUT_DIR = REPO_ROOT / "docs" / "screenshots"
WIDE = {"width": 1280, "height": 800}
NARROW = {"width": 400, "height": 860}


def demo_user(tenant: str | None, user: str | None) -> tuple[str, str, list[str]]:
    """The first demo tenant and its first admin+operator (the seed files say who exists)."""
    if tenant and user:
        return tenant, user, ["admin", "operator"]
    sys.path.insert(0, str(REPO_ROOT))
    from local.seed import load_tenants

    first = load_tenants()[0]
    chosen = next(
        (u for u in first.users if {"admin", "operator"} <= set(u.roles)), first.first_with("operator")
    )
    return first.tenant_id, chosen.username, list(chosen.roles)


def pick_exception(api: Api, token: str) -> dict[str, Any]:
    """An exception mid-playbook shows the most: done steps, a current step, a rich timeline."""
    items = api.call("GET", "/api/exceptions?limit=200", token=token)["items"]
    mid = [e for e in items if e.get("current_playbook_id") and (e.get("current_step") or 0) > 1]
    running = [e for e in items if e.get("current_playbook_id") and e.get("current_step")]
    chosen = (mid or running or items)[0]
    return dict(chosen)


def capture(base_url: str, token: str) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    api = Api(base_url)
    exception = pick_exception(api, token)
    playbooks = api.call("GET", "/api/playbooks", token=token)["items"]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def page_for(viewport: dict[str, int]) -> Any:
            context = browser.new_context(viewport=viewport, base_url=base_url)
            context.add_init_script(f"window.sessionStorage.setItem('id_token', {json.dumps(token)});")
            return context.new_page()

        def shot(page: Any, name: str) -> None:
            page.wait_for_timeout(400)  # let fonts and the last paint settle
            path = OUT_DIR / f"{name}.png"
            page.screenshot(path=str(path))
            written.append(path)

        page = page_for(WIDE)
        page.goto("/#/exceptions")
        expect(page.get_by_test_id("exception-row").first).to_be_visible()
        shot(page, "exceptions-list")

        page.goto(f"/#/exceptions/{exception['exception_id']}")
        expect(page.get_by_test_id("playbook-panel")).to_be_visible()
        expect(page.get_by_test_id("timeline-event").first).to_be_visible()
        shot(page, "exception-detail")

        if playbooks:
            page.goto(f"/#/playbooks/{playbooks[0]['playbook_id']}")
            page.get_by_test_id("edit-playbook").click()
            expect(page.get_by_test_id("playbook-json")).to_be_visible()
            shot(page, "playbook-editor")

            # A draft of the next version, one priority step up: its lint, impact and diff.
            draft = api.call(
                "POST", "/api/playbook-drafts", {"playbook_id": playbooks[0]["playbook_id"]}, token
            )
            body = draft["body"]
            body["conditions"]["priority"] += 500
            api.call("PUT", f"/api/playbook-drafts/{draft['draft_id']}", {"playbook": body}, token)
            page.goto(f"/#/playbooks/drafts/{draft['draft_id']}")
            expect(page.get_by_test_id("lint-findings")).to_be_visible()
            page.get_by_test_id("impact-run").click()
            expect(page.get_by_test_id("impact-result")).to_be_visible()
            page.get_by_test_id("draft-diff").click()
            expect(page.get_by_test_id("diff-view")).to_be_visible()
            page.get_by_test_id("lint-findings").evaluate("el => el.scrollIntoView({block: 'start'})")
            page.evaluate("window.scrollBy(0, -64)")  # clear of the sticky header
            shot(page, "playbook-draft")
            api.call("DELETE", f"/api/playbook-drafts/{draft['draft_id']}", None, token)

        page.goto("/#/playbooks")
        expect(page.get_by_test_id("playbooks-table")).to_be_visible()
        page.get_by_label("An existing exception").check()
        page.get_by_test_id("simulate-exception-id").fill(exception["exception_id"])
        page.get_by_test_id("simulate-button").click()
        expect(page.get_by_test_id("simulate-result")).to_be_visible()
        page.locator("section.simulate").evaluate("el => el.scrollIntoView({block: 'start'})")
        page.evaluate("window.scrollBy(0, -64)")  # clear of the sticky header
        shot(page, "playbooks-simulate")

        narrow = page_for(NARROW)
        narrow.goto(f"/#/exceptions/{exception['exception_id']}")
        expect(narrow.get_by_test_id("playbook-panel")).to_be_visible()
        shot(narrow, "exception-detail-narrow")
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", help="use a running stack with demo data instead of starting one")
    parser.add_argument("--tenant")
    parser.add_argument("--user")
    args = parser.parse_args(argv)

    tenant, user, roles = demo_user(args.tenant, args.user)
    stack = None
    base_url = args.base_url
    if not base_url:
        stack = LocalStack(seed_demo=True)
        base_url = stack.start()
    try:
        token = Api(base_url).token(tenant, user, roles)
        for path in capture(base_url, token):
            print(path.relative_to(REPO_ROOT))
    finally:
        if stack is not None:
            stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
