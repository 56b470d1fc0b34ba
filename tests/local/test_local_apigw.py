"""local.apigw: routing over routes.ROUTES, the REST proxy event, and proxy responses."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from exception_playbooks.routes import ROUTES

from local.apigw import HttpRequest, MalformedProxyResponse, Router, build_event, parse_proxy_result


@pytest.fixture(scope="module")
def router() -> Router:
    return Router()


def test_every_route_resolves_to_itself(router: Router) -> None:
    for route in ROUTES:
        concrete = route.path.replace("{exception_id}", "EX-1").replace("{step_order}", "2")
        concrete = concrete.replace("{playbook_id}", "pb-1").replace("{domain}", "Finance")
        match = router.match(route.method, concrete)
        assert match is not None and match.route == route, route


def test_literal_segments_win_over_parameters(router: Router) -> None:
    simulate = router.match("POST", "/api/playbooks/simulate")
    assert simulate is not None and simulate.route is not None
    assert simulate.route.function == "match" and simulate.path_parameters == {}
    # GET on the literal resource is a 405 there, as API Gateway resolves the resource first.
    get_simulate = router.match("GET", "/api/playbooks/simulate")
    assert get_simulate is not None and get_simulate.route is None
    assert get_simulate.allowed_methods == ("POST",)


def test_path_parameters_are_decoded(router: Router) -> None:
    match = router.match("POST", "/api/exceptions/EX%3A1/playbook/steps/3/complete")
    assert match is not None and match.route is not None
    assert match.resource == "/api/exceptions/{exception_id}/playbook/steps/{step_order}/complete"
    assert match.path_parameters == {"exception_id": "EX:1", "step_order": "3"}


def test_unknown_paths_and_methods(router: Router) -> None:
    assert router.match("GET", "/api/nothing") is None
    assert router.match("GET", "/api/exceptions/a/b/c/d") is None
    wrong = router.match("DELETE", "/api/exceptions")
    assert wrong is not None and wrong.route is None and wrong.allowed_methods == ("GET", "POST")
    trailing = router.match("GET", "/api/exceptions/")
    assert trailing is not None and trailing.route is not None


def _request(**overrides: object) -> HttpRequest:
    values: dict[str, object] = {
        "method": "POST",
        "path": "/api/exceptions/EX-1/comments",
        "query": (("limit", "5"), ("tag", "a"), ("tag", "b")),
        "headers": (
            ("Content-Type", "application/json"),
            ("X-Multi", "1"),
            ("X-Multi", "2"),
            ("Host", "h:1"),
        ),
        "body": b'{"text": "hi"}',
        "source_ip": "127.0.0.9",
    }
    values.update(overrides)
    return HttpRequest(**values)  # type: ignore[arg-type]


def test_event_has_the_rest_proxy_shape(router: Router) -> None:
    request = _request()
    match = router.match(request.method, request.path)
    assert match is not None
    claims = {"cognito:username": "alice", "custom:tenant_id": "acme", "cognito:groups": "operator"}
    moment = datetime(2026, 5, 18, 15, 32, 21, 123000, tzinfo=UTC)
    event = build_event(request, match, claims=claims, request_id="req-1", now=moment)
    assert event["resource"] == "/api/exceptions/{exception_id}/comments"
    assert event["path"] == "/api/exceptions/EX-1/comments"
    assert event["httpMethod"] == "POST"
    assert event["headers"]["X-Multi"] == "2"
    assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert event["queryStringParameters"] == {"limit": "5", "tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"limit": ["5"], "tag": ["a", "b"]}
    assert event["pathParameters"] == {"exception_id": "EX-1"}
    assert event["stageVariables"] is None
    assert event["body"] == '{"text": "hi"}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["resourcePath"] == event["resource"]
    assert context["httpMethod"] == "POST"
    assert context["path"] == event["path"]
    assert context["stage"] == "local"
    assert context["requestId"] == "req-1"
    assert context["identity"]["sourceIp"] == "127.0.0.9"
    assert context["authorizer"] == {"claims": claims}
    assert context["requestTime"] == "18/May/2026:15:32:21 +0000"
    assert context["requestTimeEpoch"] == int(moment.timestamp() * 1000)
    assert context["domainName"] == "h:1"


def test_event_uses_none_for_empty_parts(router: Router) -> None:
    request = _request(method="GET", path="/api/exceptions", query=(), headers=(), body=b"")
    match = router.match("GET", "/api/exceptions")
    assert match is not None
    event = build_event(request, match, claims=None)
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["headers"] is None and event["multiValueHeaders"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None
    assert "authorizer" not in event["requestContext"]


def test_binary_bodies_are_passed_base64_encoded(router: Router) -> None:
    match = router.match("POST", "/api/exceptions")
    assert match is not None
    event = build_event(_request(path="/api/exceptions", body=b"\xff\xfe"), match, claims=None)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe"


def test_proxy_result_headers_and_bodies() -> None:
    response = parse_proxy_result(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "X-One": "a"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-One": ["b"]},
            "body": '{"ok": true}',
        }
    )
    assert response.status == 201
    assert response.json() == {"ok": True}
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert [v for k, v in response.headers if k == "X-One"] == ["b"]
    binary = parse_proxy_result(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )
    assert binary.body == b"\x00\x01"
    assert parse_proxy_result({"statusCode": 204}).body == b""


@pytest.mark.parametrize(
    "result",
    [
        None,
        "text",
        {},
        {"statusCode": "abc"},
        {"statusCode": 42},
        {"statusCode": True},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "headers": ["x"]},
    ],
)
def test_malformed_proxy_results_are_rejected(result: object) -> None:
    with pytest.raises(MalformedProxyResponse):
        parse_proxy_result(result)
