"""API Gateway (REST, Lambda proxy integration) emulation: routing, event building, response parsing.

Pure functions over small request/response values, so all of it is unit-testable without a
socket. The event is the version 1.0 proxy shape API Gateway REST APIs send.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from exception_playbooks.routes import ROUTES, Route

STAGE = "local"
API_ID = "local"
ACCOUNT_ID = "000000000000"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str  # as received, percent-encoded, without the query string
    query: tuple[tuple[str, str], ...] = ()  # decoded, in order, repeats kept
    headers: tuple[tuple[str, str], ...] = ()  # names as the client sent them
    body: bytes = b""
    source_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == wanted:
                found = value  # the last one wins, as in the proxy event's ``headers``
        return found


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in reversed(self.headers) if k.lower() == wanted), None)

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def json_response(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), *headers], body)


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> HttpResponse:
    """The API's error shape: ``{"code", "message", "details"?}``."""
    payload: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        payload["details"] = details
    return json_response(status, payload, headers)


# ---------------------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class RouteMatch:
    resource: str  # the template path, e.g. /api/exceptions/{exception_id}
    route: Route | None  # None: the resource exists but not with this method (405)
    path_parameters: dict[str, str]
    allowed_methods: tuple[str, ...]


@dataclass(frozen=True)
class _Resource:
    template: str
    pattern: re.Pattern[str]
    params: tuple[str, ...]
    methods: dict[str, Route]

    @property
    def specificity(self) -> tuple[int, ...]:
        # API Gateway prefers literal segments over {params}: /api/playbooks/simulate beats
        # /api/playbooks/{playbook_id}.
        return tuple(1 if seg.startswith("{") else 0 for seg in self.template.strip("/").split("/"))


class Router:
    """Resolves a request path to one resource of ``routes.ROUTES``, then the method on it."""

    def __init__(self, routes: Iterable[Route] = ROUTES):
        grouped: dict[str, dict[str, Route]] = {}
        for route in routes:
            grouped.setdefault(route.path, {})[route.method] = route
        resources = [self._compile(template, methods) for template, methods in grouped.items()]
        self._resources = sorted(resources, key=lambda r: r.specificity)

    @staticmethod
    def _compile(template: str, methods: dict[str, Route]) -> _Resource:
        parts, params = [], []
        for segment in template.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("}"):
                params.append(segment[1:-1])
                parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
            else:
                parts.append(re.escape(segment))
        return _Resource(template, re.compile("^/" + "/".join(parts) + "$"), tuple(params), methods)

    def match(self, method: str, path: str) -> RouteMatch | None:
        """None when no resource has this path (404)."""
        normalized = path.rstrip("/") or "/"
        for resource in self._resources:
            found = resource.pattern.match(normalized)
            if found is None:
                continue
            params = {name: unquote(value) for name, value in found.groupdict().items()}
            return RouteMatch(
                resource=resource.template,
                route=resource.methods.get(method.upper()),
                path_parameters=params,
                allowed_methods=tuple(sorted(resource.methods)),
            )
        return None


# ----------------------------------------------------------------------------------------- events


def _single_and_multi(
    pairs: Iterable[tuple[str, str]],
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value
        multi.setdefault(key, []).append(value)
    return (single or None), (multi or None)


def _request_time(moment: datetime) -> str:
    """``17/May/2022:07:00:39 +0000``, API Gateway's ``requestTime`` (locale-independent)."""
    return f"{moment.day:02d}/{_MONTHS[moment.month - 1]}/{moment.year}:{moment:%H:%M:%S} +0000"


def _body_text(body: bytes) -> tuple[str | None, bool]:
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        # Not text: hand it over base64-encoded rather than mangled (as with binary media types).
        return base64.b64encode(body).decode("ascii"), True


def build_event(
    request: HttpRequest,
    match: RouteMatch,
    *,
    claims: Mapping[str, str] | None,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The API Gateway REST proxy event (payload format 1.0) for one request."""
    moment = now or datetime.now(UTC)
    request_id = request_id or str(uuid.uuid4())
    headers, multi_headers = _single_and_multi(request.headers)
    query, multi_query = _single_and_multi(request.query)
    body, is_base64 = _body_text(request.body)
    user_agent = request.header("User-Agent")
    request_context: dict[str, Any] = {
        "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, match.resource).hex[:6],
        "resourcePath": match.resource,
        "httpMethod": request.method.upper(),
        "extendedRequestId": request_id.replace("-", "")[:16],
        "requestTime": _request_time(moment),
        "requestTimeEpoch": int(moment.timestamp() * 1000),
        "path": request.path,
        "accountId": ACCOUNT_ID,
        "protocol": "HTTP/1.1",
        "stage": STAGE,
        "domainPrefix": "127",
        "domainName": request.header("Host") or "127.0.0.1",
        "requestId": request_id,
        "apiId": API_ID,
        "identity": {
            "sourceIp": request.source_ip,
            "userAgent": user_agent,
            "accountId": None,
            "caller": None,
            "user": None,
            "userArn": None,
            "accessKey": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
        },
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": dict(claims)}
    return {
        "resource": match.resource,
        "path": request.path,
        "httpMethod": request.method.upper(),
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": match.path_parameters or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


class MalformedProxyResponse(ValueError):
    """The handler's return value is not a valid proxy integration response (API Gateway: 502)."""


def parse_proxy_result(result: Any) -> HttpResponse:
    """A Lambda proxy integration result -> HTTP response, validated as API Gateway does."""
    if not isinstance(result, Mapping):
        raise MalformedProxyResponse("the handler did not return an object")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResponse("statusCode is missing or not an HTTP status")
    headers: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    single = result.get("headers") or {}
    if not isinstance(multi, Mapping) or not isinstance(single, Mapping):
        raise MalformedProxyResponse("headers must be objects")
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(name), str(value)))
    multi_names = {str(name).lower() for name in multi}
    for name, value in single.items():
        if str(name).lower() not in multi_names:
            headers.append((str(name), str(value)))
    body = result.get("body")
    if body is None:
        raw = b""
    elif isinstance(body, str):
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    else:
        raise MalformedProxyResponse("body must be a string")
    return HttpResponse(status, headers, raw)
