"""The local stack process end to end, against stand-in handlers (LOCAL_FUNCTIONS_DIR).

This proves the machinery (moto server, authorizer, proxy events, call counting, the stream
dispatcher, persistence, clean shutdown) independently of the real handlers, which
test_local_stack.py exercises.
"""

from __future__ import annotations

import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_stack_harness import StackProcess

pytestmark = pytest.mark.slow

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
                "payload": {"M": {"fail": {"BOOL": bool(body.get("fail"))}}}}}},
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

import boto3

DDB = boto3.client("dynamodb")
STATE = os.environ["STATE_TABLE"]


def triage_handler(event, context):
    detail = event["detail"]
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


@pytest.fixture(scope="module")
def functions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stand-in-functions")
    for group, source in (("exceptions", EXCEPTIONS_HANDLER), ("agents", AGENTS_HANDLER)):
        (root / group).mkdir()
        (root / group / "handler.py").write_text(textwrap.dedent(source))
    return root


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
    assert stack.startup_seconds is not None and stack.startup_seconds < 10
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
    assert stack.stop(signal.SIGINT) == 0  # Ctrl-C; asserts no orphans
    assert (stack.state_dir / "state.json").is_file()
    stack.start()
    kept = stack.get("/api/exceptions/EX-KEEP", token=token)  # the signing secret survived too
    assert kept.status == 200 and kept.json()["triaged_by"]
    assert "restored" in stack.log()
    # Nothing is re-delivered after a restore, and new events still are.
    assert stack.get("/local/deliveries").json()["items"] == []
    assert (
        stack.request("POST", "/api/exceptions", body={"exception_id": "EX-NEW"}, token=token).status == 201
    )
    stack.wait_for(lambda: stack.get("/api/exceptions/EX-NEW", token=token).json().get("triaged_by"), 5.0)
    assert [d["exception_id"] for d in stack.get("/local/deliveries").json()["items"]] == ["EX-NEW"]
