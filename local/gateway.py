"""The one invoke path from an (already authorised) API request to a handler and back.

Both the HTTP server and the demo seed go through ``Gateway.invoke``, so seeded data is
exactly what a user could have produced over HTTP.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from . import capacity
from .apigw import (
    HttpRequest,
    HttpResponse,
    MalformedProxyResponse,
    Router,
    build_event,
    error_response,
    parse_proxy_result,
)
from .aws_calls import count_aws_calls
from .environments import LOAD_FAILED, MISSING, InProcessRunner, Runner
from .lambda_runtime import API_TIMEOUT_SECONDS, FunctionRegistry, make_context

log = logging.getLogger("local.api")

AWS_CALLS_HEADER = "X-Local-Aws-Calls"
# The cost headers of an answer given before any handler ran (authorizer, start-up, public docs).
NO_AWS_COST = ((AWS_CALLS_HEADER, "0"), (capacity.HEADER, "read=0; write=0"))


@dataclass(frozen=True)
class ApiResult:
    """A convenience view of a response for in-process callers (the seed, tests)."""

    status: int
    body: Any
    aws_calls: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Gateway:
    def __init__(
        self,
        registry: FunctionRegistry,
        router: Router | None = None,
        *,
        region: str = "us-east-1",
        runner: Runner | None = None,
    ):
        self.registry = registry
        self.router = router or Router()
        self.region = region
        # Where handlers run: the server's execution environments (one request per process at a
        # time), or this thread (single-threaded tests).
        self.runner: Runner = runner or InProcessRunner(registry)

    def invoke(self, request: HttpRequest, claims: Mapping[str, str] | None) -> HttpResponse:
        """Route, build the proxy event, run the handler; always sets ``X-Local-Aws-Calls``."""
        started = time.monotonic()
        calls = 0
        units = capacity.CapacityMeter().header_value()
        match = self.router.match(request.method, request.path)
        if match is None:
            response = error_response(404, "NOT_FOUND", f"No route for {request.method} {request.path}")
        elif match.route is None:
            response = error_response(
                405,
                "METHOD_NOT_ALLOWED",
                f"{request.method} is not allowed on {match.resource}",
                headers=[("Allow", ", ".join(match.allowed_methods))],
            )
        else:
            group = match.route.function
            request_id = str(uuid.uuid4())
            event = build_event(request, match, claims=claims, request_id=request_id)
            context = make_context(
                self.registry.function_name(group),
                request_id=request_id,
                timeout_seconds=API_TIMEOUT_SECONDS,
                region=self.region,
            )
            with count_aws_calls() as counter, capacity.measure() as meter:
                response = self._run(group, event, context)
            calls = counter.total
            units = meter.header_value()
        response.headers.append((AWS_CALLS_HEADER, str(calls)))
        response.headers.append((capacity.HEADER, units))
        elapsed_ms = (time.monotonic() - started) * 1000
        log.info(
            "%s %s -> %d (%.0f ms, %d AWS calls)",
            request.method,
            request.path,
            response.status,
            elapsed_ms,
            calls,
        )
        if elapsed_ms > API_TIMEOUT_SECONDS * 1000:
            log.warning(
                "%s %s took longer than API Gateway's 29 s; it would have answered 504",
                request.method,
                request.path,
            )
        return response

    def _run(self, group: str, event: dict[str, Any], context: Any) -> HttpResponse:
        invocation = self.runner.run(group, "lambda_handler", event, context)
        if invocation.outcome == MISSING:
            return error_response(501, "NOT_IMPLEMENTED", invocation.error)
        if invocation.outcome == LOAD_FAILED:
            log.error("%s", invocation.error)
            return error_response(502, "HANDLER_IMPORT_FAILED", invocation.error.splitlines()[0])
        if not invocation.ok:
            # In AWS an unhandled error is a 502 from API Gateway; here the traceback is logged too.
            log.error("functions/%s raised: %s", group, invocation.error)
            return error_response(
                502, "INTERNAL_ERROR", f"functions/{group} raised an unhandled error (see server log)"
            )
        try:
            return parse_proxy_result(invocation.result)
        except MalformedProxyResponse as error:
            log.error("functions/%s returned a malformed proxy response: %s", group, error)
            return error_response(502, "MALFORMED_RESPONSE", f"Malformed Lambda proxy response: {error}")

    def call(
        self,
        method: str,
        path: str,
        claims: Mapping[str, str],
        *,
        body: Any = None,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResult:
        """JSON in, JSON out: what the seed uses to act as a signed-in user."""
        raw = b"" if body is None else json.dumps(body).encode()
        request_headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            **(headers or {}),
        }
        request = HttpRequest(
            method=method,
            path=quote(path),
            query=tuple((query or {}).items()),
            headers=tuple(request_headers.items()),
            body=raw,
        )
        response = self.invoke(request, claims)
        try:
            payload = response.json()
        except ValueError:
            payload = response.body.decode("utf-8", "replace")
        return ApiResult(response.status, payload, int(response.header(AWS_CALLS_HEADER) or 0))
