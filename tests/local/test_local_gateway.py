"""local.gateway + local.lambda_runtime: the invoke path, against stand-in handler files."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from local.apigw import HttpRequest
from local.gateway import AWS_CALLS_HEADER, Gateway
from local.lambda_runtime import FunctionRegistry, HandlerMissing, LambdaContext, make_context

ECHO = """
import json

def lambda_handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({
            "event": event,
            "context": {
                "function_name": context.function_name,
                "arn": context.invoked_function_arn,
                "request_id": context.aws_request_id,
                "memory": context.memory_limit_in_mb,
                "remaining": context.get_remaining_time_in_millis(),
            },
        }),
    }
"""


def _write(root: Path, group: str, source: str, name: str = "handler.py") -> Path:
    folder = root / group
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


@pytest.fixture
def functions(tmp_path: Path) -> Path:
    root = tmp_path / "functions"
    _write(root, "exceptions", ECHO)
    return root


CLAIMS = {"cognito:username": "alice", "custom:tenant_id": "acme", "cognito:groups": "operator"}


def test_invoke_passes_the_event_and_context(functions: Path) -> None:
    gateway = Gateway(FunctionRegistry(functions))
    request = HttpRequest("GET", "/api/exceptions/EX-9", (("x", "1"),), (("Accept", "application/json"),))
    response = gateway.invoke(request, CLAIMS)
    assert response.status == 200
    assert response.header(AWS_CALLS_HEADER) == "0"
    payload = response.json()
    event, context = payload["event"], payload["context"]
    assert event["resource"] == "/api/exceptions/{exception_id}"
    assert event["pathParameters"] == {"exception_id": "EX-9"}
    assert event["requestContext"]["authorizer"]["claims"] == CLAIMS
    assert event["requestContext"]["requestId"] == context["request_id"]
    assert context["function_name"] == "exception-playbooks-local-exceptions"
    assert context["arn"].endswith(":function:exception-playbooks-local-exceptions")
    assert 0 < context["remaining"] <= 29_000


def test_call_counts_the_aws_calls_of_the_handler(tmp_path: Path, moto_dynamodb: Any, settings: Any) -> None:
    root = tmp_path / "functions"
    _write(
        root,
        "status",
        f"""
        import boto3
        CLIENT = boto3.client("dynamodb", region_name="us-east-1")

        def lambda_handler(event, context):
            key = {{"pk": {{"S": "a"}}, "sk": {{"S": "b"}}}}
            CLIENT.get_item(TableName="{settings.state_table}", Key=key)
            CLIENT.get_item(TableName="{settings.state_table}", Key=key)
            return {{"statusCode": 200, "body": "{{}}"}}
        """,
    )
    gateway = Gateway(FunctionRegistry(root))
    result = gateway.call("GET", "/api/exceptions/EX-1/playbook", CLAIMS)
    assert result.status == 200
    assert result.aws_calls == 2


def test_missing_raising_and_malformed_handlers(tmp_path: Path) -> None:
    root = tmp_path / "functions"
    _write(root, "execute", "def lambda_handler(event, context):\n    raise ValueError('bug')\n")
    _write(root, "match", "def lambda_handler(event, context):\n    return {'body': 'no status'}\n")
    gateway = Gateway(FunctionRegistry(root))
    missing = gateway.call("GET", "/api/exceptions", CLAIMS)
    assert (missing.status, missing.body["code"]) == (501, "NOT_IMPLEMENTED")
    raised = gateway.call("POST", "/api/exceptions/E/playbook/steps/1/complete", CLAIMS, body={})
    assert (raised.status, raised.body["code"]) == (502, "INTERNAL_ERROR")
    malformed = gateway.call("POST", "/api/playbooks/simulate", CLAIMS, body={})
    assert (malformed.status, malformed.body["code"]) == (502, "MALFORMED_RESPONSE")


def test_unknown_route_and_wrong_method_answer_in_the_api_error_shape(functions: Path) -> None:
    gateway = Gateway(FunctionRegistry(functions))
    unknown = gateway.call("GET", "/api/unknown", CLAIMS)
    assert unknown.status == 404 and set(unknown.body) == {"code", "message"}
    wrong = gateway.invoke(HttpRequest("PUT", "/api/exceptions"), CLAIMS)
    assert wrong.status == 405 and wrong.json()["code"] == "METHOD_NOT_ALLOWED"
    assert wrong.header("Allow") == "GET, POST"
    assert wrong.header(AWS_CALLS_HEADER) == "0"


def test_a_failed_import_is_retried_once_fixed(tmp_path: Path) -> None:
    root = tmp_path / "functions"
    path = _write(root, "playbooks", "def lambda_handler(event, context):\n    return {\n")
    gateway = Gateway(FunctionRegistry(root))
    first = gateway.call("GET", "/api/playbooks", CLAIMS)
    assert (first.status, first.body["code"]) == (502, "HANDLER_IMPORT_FAILED")
    path.write_text("def lambda_handler(event, context):\n    return {'statusCode': 200, 'body': '[]'}\n")
    assert gateway.call("GET", "/api/playbooks", CLAIMS).body == []


def test_modules_load_once_under_unique_names_and_siblings_are_importable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))  # the registry adds the function folder
    root = tmp_path / "functions"
    _write(root, "agents", "VALUE = 'agents-helper'\n", name="local_test_agent_helpers.py")
    _write(
        root,
        "agents",
        """
        import local_test_agent_helpers
        LOADS = []
        LOADS.append(1)

        def triage_handler(event, context):
            return local_test_agent_helpers.VALUE
        """,
    )
    registry = FunctionRegistry(root)
    module = registry.module("agents")
    assert module.__name__ == "_local_functions_agents_handler"
    assert registry.module("agents") is module and module.LOADS == [1]
    assert registry.handler("agents", "triage_handler")({}, None) == "agents-helper"
    with pytest.raises(HandlerMissing):
        registry.handler("agents", "no_such_handler")
    assert registry.function_name("agents", "triage_handler") == "exception-playbooks-local-agents-triage"


def test_context_counts_down() -> None:
    context = make_context("fn", timeout_seconds=1)
    assert isinstance(context, LambdaContext)
    assert 900 < context.get_remaining_time_in_millis() <= 1000
    assert context.memory_limit_in_mb == 256 and context.function_version == "$LATEST"


def test_call_sends_json_and_reads_json(functions: Path) -> None:
    gateway = Gateway(FunctionRegistry(functions))
    result = gateway.call("POST", "/api/exceptions", CLAIMS, body={"domain": "Finance"}, query={"a": "b"})
    event = result.body["event"]
    assert json.loads(event["body"]) == {"domain": "Finance"}
    assert event["queryStringParameters"] == {"a": "b"}
    assert event["headers"]["Content-Type"] == "application/json"
