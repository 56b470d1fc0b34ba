"""Runs ``python -m local.server`` as a subprocess and talks to it over plain HTTP (urllib).

The process gets its own session, so after it stops the tests can prove that nothing of its
process group is left running.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

# Stand-in handlers: the stack's machinery (authorizer, proxy events, call counting, the stream
# dispatcher, durability) proven independently of the real handlers. STANDIN_AGENT_DELAY (seconds),
# or "delay" in the created exception, slows the triage agent down, to build a backlog.
EXCEPTIONS_HANDLER = """
import json
import os
import time

import boto3

DDB = boto3.client("dynamodb")
STATE, EVENTS = os.environ["STATE_TABLE"], os.environ["EVENTS_TABLE"]


def _answer(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def lambda_handler(event, context):
    claims = event["requestContext"]["authorizer"]["claims"]
    tenant = claims["custom:tenant_id"]
    if event["httpMethod"] == "GET" and event["resource"] == "/api/exceptions":
        return _answer(200, {"claims": claims, "event": event})
    if event["httpMethod"] == "POST":
        body = json.loads(event["body"])
        exception_id = body["exception_id"]
        pk = f"T#{tenant}#EX#{exception_id}"
        DDB.transact_write_items(TransactItems=[
            {"Put": {"TableName": STATE, "Item": {"pk": {"S": pk}, "sk": {"S": "EXCEPTION"},
                                                   "fail": {"BOOL": bool(body.get("fail"))}}}},
            {"Put": {"TableName": EVENTS, "Item": {
                "pk": {"S": pk}, "seq": {"N": "1"}, "tenant_id": {"S": tenant},
                "event_id": {"S": exception_id + "-1"}, "event_type": {"S": "ExceptionCreated"},
                "exception_id": {"S": exception_id}, "actor_type": {"S": "human"},
                "actor_id": {"S": claims["cognito:username"]},
                "created_at": {"S": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())},
                "payload": {"M": {"fail": {"BOOL": bool(body.get("fail"))},
                                    "delay": {"N": str(body.get("delay", 0))}}}}}},
        ])
        return _answer(201, {"exception_id": exception_id})
    exception_id = event["pathParameters"]["exception_id"]
    key = {"pk": {"S": f"T#{tenant}#EX#{exception_id}"}, "sk": {"S": "EXCEPTION"}}
    item = DDB.get_item(TableName=STATE, Key=key)
    if "Item" not in item:
        return _answer(404, {"code": "NOT_FOUND", "message": "no such exception"})
    return _answer(200, {"triaged_by": item["Item"].get("triaged_by", {}).get("S")})
"""

AGENTS_HANDLER = """
import os
import time

import boto3

DDB = boto3.client("dynamodb")
STATE = os.environ["STATE_TABLE"]


def triage_handler(event, context):
    detail = event["detail"]
    delay = float(detail["payload"].get("delay", 0))
    time.sleep(max(float(os.environ.get("STANDIN_AGENT_DELAY") or 0), delay))
    if detail["payload"].get("fail"):
        raise RuntimeError("triage cannot handle this one")
    DDB.update_item(
        TableName=STATE,
        Key={"pk": {"S": f"T#{detail['tenant_id']}#EX#{detail['exception_id']}"}, "sk": {"S": "EXCEPTION"}},
        UpdateExpression="SET triaged_by = :who",
        ExpressionAttributeValues={":who": {"S": context.function_name}},
    )


def policy_handler(event, context):
    pass


resolution_handler = feedback_handler = notification_relay_handler = policy_handler
"""


def write_stand_in_functions(root: Path) -> Path:
    for group, source in (("exceptions", EXCEPTIONS_HANDLER), ("agents", AGENTS_HANDLER)):
        (root / group).mkdir(parents=True, exist_ok=True)
        (root / group / "handler.py").write_text(textwrap.dedent(source))
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_is_busy() -> bool:
    """True when other work already keeps every CPU busy, so wall-clock timings mean little."""
    return os.getloadavg()[0] >= (os.cpu_count() or 1)


def process_group_members(pgid: int) -> list[int]:
    """Live processes (zombies excluded) whose process group is ``pgid``, from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(entry))
    return members


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def aws_calls(self) -> int:
        return int(self.headers["X-Local-Aws-Calls"])

    @property
    def capacity(self) -> dict[str, float]:
        """``X-Local-Aws-Capacity: read=R; write=W`` as ``{"read": R, "write": W}``."""
        pairs = (part.strip().split("=") for part in self.headers["X-Local-Aws-Capacity"].split(";"))
        return {name: float(value) for name, value in pairs}


class StackProcess:
    def __init__(
        self,
        state_dir: Path,
        *,
        seed: bool = False,
        functions_dir: Path | None = None,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ):
        self.extra_env = dict(env or {})
        self.state_dir = state_dir
        self.seed = seed
        self.functions_dir = functions_dir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = state_dir.parent / f"{state_dir.name}-server-{self.port}.log"
        self.startup_seconds: float | None = None
        self.startup_cpu_seconds: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> float:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            PORT=str(self.port),
            SEED_DEMO="1" if self.seed else "0",
            LOCAL_STATE_DIR=str(self.state_dir),
            PYTHONDONTWRITEBYTECODE="1",
        )
        if self.functions_dir is not None:
            env["LOCAL_FUNCTIONS_DIR"] = str(self.functions_dir)
        env.update(self.extra_env)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed in stop()
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local.server"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._log = log
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the stack exited with {self.process.returncode}:\n{self.log()}")
            try:
                if self.get("/healthz").status == 200:
                    self.startup_seconds = time.monotonic() - started
                    self.startup_cpu_seconds = cpu_seconds(self.process.pid)
                    return self.startup_seconds
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"the stack did not become healthy in {timeout} s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Stop the stack; returns its exit code and asserts that no process of its group is left."""
        if self.process is None:
            return 0
        process, self.process = self.process, None
        pgid = process.pid
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired as error:
                os.killpg(pgid, signal.SIGKILL)
                process.wait(5)
                raise AssertionError(
                    f"the stack ignored {signal.Signals(sig).name} for {timeout} s:\n{self.log()}"
                ) from error
        self._log.close()
        leftovers = process_group_members(pgid)
        if leftovers:
            os.killpg(pgid, signal.SIGKILL)
            raise AssertionError(f"orphan processes left behind: {leftovers}")
        return int(process.returncode)

    def crash(self) -> None:
        """kill -9 the whole process group (stack, JVM, workers) at once, as a power cut would."""
        if self.process is None:
            return
        process, self.process = self.process, None
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        self._log.close()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # ------------------------------------------------------------------ HTTP

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> Response:
        data = None if body is None else json.dumps(body).encode()
        all_headers = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Response(response.status, dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers.items()), error.read())

    def raw(self, data: bytes, timeout: float = 10.0) -> Response:
        """Send bytes as they are (malformed requests included); parse the one answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            received = b""
            while b"\r\n\r\n" not in received:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            length = int(headers.get("Content-Length", "0"))
            while len(body) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                body += chunk
        return Response(int(lines[0].split()[1]), headers, body)

    def get(self, path: str, token: str | None = None) -> Response:
        return self.request("GET", path, token=token)

    def token(self, tenant_id: str, username: str, roles: list[str]) -> str:
        response = self.request(
            "POST", "/local/token", body={"tenant_id": tenant_id, "username": username, "roles": roles}
        )
        assert response.status == 200, response.body
        return str(response.json()["token"])

    def wait_for(self, probe: Any, timeout: float = 5.0, interval: float = 0.05) -> Any:
        """Poll ``probe()`` until it returns something truthy; returns it (or fails with the log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = probe()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"condition not met within {timeout} s; server log:\n{self.log()[-4000:]}")
