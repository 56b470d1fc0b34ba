"""Shared by the UI tests and the screenshot script: the local stack as a subprocess,
a tiny JSON client for the API, and the Chromium launch settings of these machines."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium; Playwright's own browser download does not work on these machines.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalStack:
    """``python -m local.server`` on a free port with its own state directory."""

    def __init__(self, *, seed_demo: bool) -> None:
        self.seed_demo = seed_demo
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._tmp = tempfile.TemporaryDirectory(prefix="ui-stack-")
        self.log_path = Path(self._tmp.name) / "server.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        env = {
            **os.environ,
            "PORT": str(self.port),
            "SEED_DEMO": "1" if self.seed_demo else "0",
            "LOCAL_STATE_DIR": str(Path(self._tmp.name) / "state"),
            "PYTHONUNBUFFERED": "1",
        }
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "local.server"],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"local.server exited with {self._proc.returncode}:\n{self.log_tail()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as res,
            ):
                if res.status == 200:
                    return self.base_url
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"local.server not healthy after {STARTUP_TIMEOUT_S:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the server shuts down cleanly on SIGTERM
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._tmp.cleanup()


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class Api:
    """Minimal JSON client (stdlib only) used to build test data through the public API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                raw = res.read()
                self._observe(method, path, res.status, res.headers)
        except urllib.error.HTTPError as error:
            raw = error.read()
            self._observe(method, path, error.code, error.headers)
            raise ApiError(error.code, json.loads(raw) if raw else None) from None
        return json.loads(raw) if raw else None

    def _observe(self, method: str, path: str, status: int, headers: Any) -> None:
        """Sees every answer's status and headers (subclasses record what they need)."""

    def token(self, tenant_id: str, username: str, roles: list[str]) -> str:
        answer = self.call(
            "POST", "/local/token", {"tenant_id": tenant_id, "username": username, "roles": roles}
        )
        return str(answer["token"])

    def act(self, path: str, body: Any, token: str, attempts: int = 20) -> Any:
        """A step action; retried while an agent's write races it (409 CONCURRENT_MODIFICATION)."""
        for _ in range(attempts - 1):
            try:
                return self.call("POST", path, body, token)
            except ApiError as error:
                if error.status != 409 or (error.body or {}).get("code") != "CONCURRENT_MODIFICATION":
                    raise
                time.sleep(0.2)
        return self.call("POST", path, body, token)

    def wait_for_playbook(self, exception_id: str, token: str, timeout: float = 20.0) -> dict[str, Any]:
        """The agents assign asynchronously (about a second locally)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.call("GET", f"/api/exceptions/{exception_id}/playbook", token=token)
            if status.get("playbook") or time.monotonic() > deadline:
                return dict(status)
            time.sleep(0.2)


def wait_for_event(api: Api, exception_id: str, token: str, event_type: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = api.call("GET", f"/api/exceptions/{exception_id}/events?limit=200", token=token)
        if any(e["event_type"] == event_type for e in page["items"]):
            return
        time.sleep(0.2)
    raise AssertionError(f"{event_type} never appeared on {exception_id}")
