"""Lambda entry for API functions: the auth/role/size guard, then the Powertools resolver.

The guard runs before the resolver so answers follow API.md's order: 401, 403 (role),
413/422 (input), then whatever the use case raises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..auth import Principal, principal_from_claims
from ..config import settings
from ..errors import DomainError, PayloadTooLarge, Problem, ValidationFailed
from ..observability import bind_request, clear_request, logger, metrics
from ..routes import ROUTES
from ..tenancy import tenant_scope
from .errors import error_body, error_response, problems_from_pydantic, status_for

MAX_BODY_BYTES = 256 * 1024
_ROLES = {(r.method, r.path): r.roles for r in ROUTES}
PrincipalKey = "principal"

M = TypeVar("M", bound=BaseModel)


def guard(event: dict[str, Any]) -> tuple[Principal | None, dict[str, Any] | None]:
    """Returns (principal, None) to go on, or (None, error response) to answer at once."""
    try:
        roles = _ROLES.get((event.get("httpMethod", ""), event.get("resource", "")))
        if roles is None:  # public or unknown route: the resolver answers it
            return None, None
        claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims")
        principal = principal_from_claims(claims)
        bind_request(principal.tenant_id, (event.get("requestContext") or {}).get("requestId"))
        principal.require(roles)
        body = event.get("body") or ""
        if len(body.encode() if isinstance(body, str) else body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB")
        if body:
            check_json_body(event)
        return principal, None
    except DomainError as error:
        return None, error_response(error)


# Deeper documents are refused before validation and serialisation recurse into them (no
# request body of this API nests anywhere near this deep).
MAX_JSON_DEPTH = 64
_JSON_TYPES = ("application/json", "application/problem+json")


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if isinstance(key, str) and key.lower() == name:
            return value if isinstance(value, str) else None
    return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def check_json_body(event: dict[str, Any]) -> None:
    """A request body must be JSON that every later step can handle: 422 otherwise, never a 500.

    Refuses other content types, invalid JSON (including NaN/Infinity), documents nested deeper
    than MAX_JSON_DEPTH (they would exhaust the recursion limit), numbers that are not finite,
    integers too long to parse, and strings that are not valid Unicode (lone surrogates).
    """
    content_type = (_header(event, "content-type") or "").split(";")[0].strip().lower()
    if content_type and content_type not in _JSON_TYPES and not content_type.endswith("+json"):
        raise ValidationFailed([Problem("body", "must be sent as application/json")])
    raw = event.get("body") or ""
    try:
        if event.get("isBase64Encoded"):
            import base64

            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        elif isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        document = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, TypeError, RecursionError) as error:
        raise ValidationFailed([Problem("body", "is not valid JSON")]) from error
    problem = _value_problem(document)
    if problem:
        raise ValidationFailed([Problem("body", problem)])


def _value_problem(document: Any) -> str | None:
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if not _is_unicode(node):
                return "holds text that is not valid Unicode"
        elif isinstance(node, float):
            if node != node or node in (float("inf"), float("-inf")):
                return "holds a number that is not finite"
        elif isinstance(node, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return f"nests deeper than {MAX_JSON_DEPTH} levels"
            if isinstance(node, dict):
                for key, value in node.items():
                    if not _is_unicode(key):
                        return "holds text that is not valid Unicode"
                    stack.append((value, depth + 1))
            else:
                stack.extend((value, depth + 1) for value in node)
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


CORS_ALLOW_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"]


def cors_headers() -> dict[str, str]:
    """CORS headers for answers the guard gives before the resolver (which adds its own)."""
    origin = settings().cors_allow_origin
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {}


def new_resolver() -> Any:
    """The Powertools REST resolver every API function uses: validation, CORS, the error mapping."""
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig

    origin = settings().cors_allow_origin
    cors = (
        CORSConfig(
            allow_origin=origin,
            allow_headers=CORS_ALLOW_HEADERS,
            expose_headers=["X-Local-Aws-Calls", "X-Local-Aws-Capacity", "Retry-After"],
            max_age=600,
        )
        if origin
        else None
    )
    app = APIGatewayRestResolver(enable_validation=True, cors=cors)
    register_error_handlers(app)
    return app


def api_handler(app: Any) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Wrap a resolver into the Lambda entry point every API function exposes."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        principal, early = guard(event)
        if early is not None:
            early["headers"].update(cors_headers())
            return early
        app.append_context(principal=principal)
        try:
            if principal is None:  # public route: no tenant, so no DynamoDB access at all
                return app.resolve(event, context)
            with tenant_scope(principal.tenant_id):  # the verified token's tenant, nothing else
                return app.resolve(event, context)
        finally:
            clear_request()

    return lambda_handler


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    """A JSON answer with an explicit status (e.g. 201 Created) from a route function."""
    from aws_lambda_powertools.event_handler import Response

    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, separators=(",", ":")),
        headers=headers,
    )


def current_principal(app: Any) -> Principal:
    principal = app.context.get(PrincipalKey)
    if principal is None:  # the guard always sets it on authenticated routes
        from ..errors import Unauthorized

        raise Unauthorized("A valid bearer token is required")
    return principal


_CANONICAL_INT = re.compile(r"[1-9][0-9]*")


def canonical_path_int(app: Any, name: str) -> None:
    """A numeric path parameter must be written plainly: ``+1``, ``01`` or `` 1`` are not step 1 (422)."""
    raw = (app.current_event.path_parameters or {}).get(name)
    if not isinstance(raw, str) or _CANONICAL_INT.fullmatch(raw) is None:
        raise ValidationFailed([Problem(name, "must be a positive whole number written with digits only")])


def json_body(app: Any) -> Any:
    """The request body as JSON; malformed JSON is a 422, an empty body is ``None``."""
    raw = app.current_event.body
    if raw in (None, ""):
        return None
    try:
        return json.loads(raw)
    except (ValueError, TypeError) as error:
        raise ValidationFailed([Problem("body", "is not valid JSON")]) from error


def parse_model(model: type[M], data: Any, prefix: str = "") -> M:
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as error:
        raise ValidationFailed(problems_from_pydantic(error.errors(), prefix)) from error


def register_error_handlers(app: Any) -> None:
    """Map domain errors and request-validation errors; anything else is a logged 500."""
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.openapi.exceptions import (
        RequestUnsupportedContentType,
        RequestValidationError,
    )

    def respond(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        return Response(
            status_code=status,
            content_type="application/json",
            body=json.dumps(body, separators=(",", ":")),
            headers=headers,
        )

    @app.exception_handler(DomainError)
    def domain_error(error: DomainError) -> Any:
        headers = {"Retry-After": "1"} if status_for(error) == 503 else None
        return respond(status_for(error), error_body(error), headers)

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Any:
        errors = list(error.errors())
        problems = [
            Problem("body", "is not valid JSON")
            for e in errors
            if isinstance(e, dict) and e.get("type") == "json_invalid"
        ] + problems_from_pydantic(
            [e for e in errors if not (isinstance(e, dict) and e.get("type") == "json_invalid")]
        )
        return respond(422, error_body(ValidationFailed(problems)))

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_content_type(error: RequestUnsupportedContentType) -> Any:
        failure = ValidationFailed([Problem("body", "must be sent as application/json")])
        return respond(422, error_body(failure))

    @app.not_found
    def no_route(error: Exception) -> Any:
        # Registered explicitly: otherwise the catch-all below would turn a 404 into a 500.
        return respond(404, {"code": "NOT_FOUND", "message": "No such resource"})

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Any:
        logger.exception("unhandled error")
        return respond(500, {"code": "INTERNAL_ERROR", "message": "An unexpected error occurred"})
