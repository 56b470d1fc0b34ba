"""The local stack process end to end, against stand-in handlers (LOCAL_FUNCTIONS_DIR).

This proves the machinery (moto server, authorizer, proxy events, call counting, the stream
dispatcher, persistence, clean shutdown) independently of the real handlers, which
test_local_stack.py exercises.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from local_stack_harness import StackProcess, write_stand_in_functions

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def functions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_stand_in_functions(tmp_path_factory.mktemp("stand-in-functions"))


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack") / "state"


@pytest.fixture(scope="module")
def stack(state_dir: Path, functions_dir: Path) -> Iterator[StackProcess]:
    process = StackProcess(state_dir, functions_dir=functions_dir)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def test_starts_fast_and_answers_healthz(stack: StackProcess) -> None:
    # DynamoDB Local's JVM takes a few seconds to boot (more on a busy machine).
    assert stack.startup_seconds is not None and stack.startup_seconds < 45
    response = stack.get("/healthz")
    assert response.status == 200 and response.json() == {"status": "ok"}


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


def test_binds_loopback_only(stack: StackProcess) -> None:
    assert _listening_addresses(stack.port) == {"0100007F"}  # 127.0.0.1, little-endian hex


def test_api_needs_a_valid_token(stack: StackProcess) -> None:
    assert stack.get("/api/exceptions").status == 401
    bad = stack.get("/api/exceptions", token="not.a.token")
    assert bad.status == 401 and bad.json()["code"] == "UNAUTHORIZED"
    assert bad.headers["X-Local-Aws-Calls"] == "0"


def test_claims_reach_the_handler_as_api_gateway_passes_them(stack: StackProcess) -> None:
    token = stack.token("acme", "alice", ["viewer", "operator"])
    response = stack.get("/api/exceptions?status=open&status=in_progress", token=token)
    assert response.status == 200
    payload = response.json()
    assert payload["claims"]["custom:tenant_id"] == "acme"
    assert payload["claims"]["cognito:groups"] == "viewer,operator"
    assert payload["event"]["multiValueQueryStringParameters"] == {"status": ["open", "in_progress"]}
    assert payload["event"]["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"


def test_a_write_is_counted_and_reaches_the_agents_quickly(stack: StackProcess) -> None:
    token = stack.token("acme", "alice", ["operator"])
    created = stack.request("POST", "/api/exceptions", body={"exception_id": "EX-1"}, token=token)
    assert created.status == 201
    assert created.aws_calls == 1  # one TransactWriteItems
    triaged = stack.wait_for(
        lambda: stack.get("/api/exceptions/EX-1", token=token).json().get("triaged_by"), 3.0
    )
    assert triaged == "exception-playbooks-local-agents-triage"
    assert stack.get("/api/exceptions/EX-1", token=token).aws_calls == 1
    other_tenant = stack.token("other", "bob", ["viewer"])
    assert stack.get("/api/exceptions/EX-1", token=other_tenant).status == 404


def test_a_failing_agent_ends_in_the_dead_letters(stack: StackProcess) -> None:
    token = stack.token("acme", "alice", ["operator"])
    stack.request("POST", "/api/exceptions", body={"exception_id": "EX-FAIL", "fail": True}, token=token)
    letters = stack.wait_for(lambda: stack.get("/local/dead-letters").json()["items"], 5.0)
    assert letters[0]["agent"] == "TriageAgent"
    assert letters[0]["exception_id"] == "EX-FAIL"
    assert "triage cannot handle this one" in letters[0]["error"]


def test_missing_handlers_and_unknown_routes(stack: StackProcess) -> None:
    token = stack.token("acme", "alice", ["admin"])
    missing = stack.get("/api/playbooks", token=token)
    assert missing.status == 501 and missing.json()["code"] == "NOT_IMPLEMENTED"
    assert stack.get("/api/nope", token=token).status == 404
    wrong = stack.request("DELETE", "/api/exceptions", token=token)
    assert wrong.status == 405 and wrong.json()["code"] == "METHOD_NOT_ALLOWED"


def test_ui_docs_and_openapi_are_served(stack: StackProcess) -> None:
    home = stack.get("/")
    assert home.status == 200 and home.headers["Content-Type"].startswith("text/html")
    assert stack.get("/api/docs").status == 200
    assert stack.get("/api/openapi.json").status in (200, 404)
    assert stack.get("/%2e%2e/pyproject.toml").status == 404


def test_restart_keeps_the_data_and_stops_cleanly(stack: StackProcess) -> None:
    token = stack.token("acme", "alice", ["operator"])
    assert (
        stack.request("POST", "/api/exceptions", body={"exception_id": "EX-KEEP"}, token=token).status == 201
    )
    stack.wait_for(lambda: stack.get("/api/exceptions/EX-KEEP", token=token).json().get("triaged_by"), 5.0)
    assert stack.stop(signal.SIGINT) == 0  # Ctrl-C; asserts no orphans (JVM, workers) are left
    assert list((stack.state_dir / "dynamodb").glob("*.db"))
    stack.start()
    kept = stack.get("/api/exceptions/EX-KEEP", token=token)  # the signing secret survived too
    assert kept.status == 200 and kept.json()["triaged_by"]
    assert "existing data kept" in stack.log()
    # Nothing is re-delivered after a restart (the stream checkpoint), and new events still are.
    assert stack.get("/local/deliveries").json()["items"] == []
    assert (
        stack.request("POST", "/api/exceptions", body={"exception_id": "EX-NEW"}, token=token).status == 201
    )
    stack.wait_for(lambda: stack.get("/api/exceptions/EX-NEW", token=token).json().get("triaged_by"), 5.0)
    delivered = stack.wait_for(lambda: stack.get("/local/deliveries").json()["items"], 5.0)
    assert [d["exception_id"] for d in delivered] == ["EX-NEW"]


def test_a_second_stack_on_the_same_state_directory_is_refused(stack: StackProcess) -> None:
    second = StackProcess(stack.state_dir, functions_dir=stack.functions_dir)
    with pytest.raises(RuntimeError, match="another local stack"):
        second.start(timeout=60)
    assert stack.get("/healthz").status == 200  # the first one is untouched


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", 405, "METHOD_NOT_ALLOWED"),
        (b"BREW /api/exceptions HTTP/1.1\r\nHost: x\r\n\r\n", 405, "METHOD_NOT_ALLOWED"),
        (b"GET\r\n\r\n", 400, "BAD_REQUEST"),
        (b"GET / HTTP/1.1 extra\r\n\r\n", 400, "BAD_REQUEST"),
        (b"GET / HTTP/7.0\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"),
        (b"POST /local/token HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400, "BAD_REQUEST"),
        (b"POST /local/token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "BAD_REQUEST"),
        (b"POST /local/token HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "NOT_IMPLEMENTED"),
    ],
)
def test_malformed_http_is_answered_in_the_error_shape(
    stack: StackProcess, raw: bytes, status: int, code: str
) -> None:
    response = stack.raw(raw)
    assert response.status == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["code"] == code and response.json()["message"]


def test_a_chunked_body_is_read(stack: StackProcess) -> None:
    body = json.dumps({"tenant_id": "acme", "username": "alice", "roles": ["viewer"]}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:]))
    request = (
        b"POST /local/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n"
    )
    response = stack.raw(request)
    assert response.status == 200 and response.json()["token"]


def test_a_burst_of_new_connections_is_never_reset(stack: StackProcess) -> None:
    """64 clients connect at the same moment (listen backlog >= 128): every one gets its answer."""
    clients = 64
    barrier = threading.Barrier(clients)
    body = json.dumps({"tenant_id": "acme", "username": "alice", "roles": ["viewer"]}).encode()
    request = (
        b"POST /local/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
    )

    def one() -> int:
        barrier.wait()
        return stack.raw(request, timeout=30).status

    with ThreadPoolExecutor(clients) as pool:
        statuses = list(pool.map(lambda _: one(), range(clients)))
    assert statuses == [200] * clients  # a reset would have raised ConnectionResetError
