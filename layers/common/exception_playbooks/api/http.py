"""Lambda entry for API functions: the auth/role/size guard, then the Powertools resolver.

The guard runs before the resolver so answers follow API.md's order: 401, 403 (role),
413/422 (input), then whatever the use case raises.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..auth import Principal, principal_from_claims
from ..errors import DomainError, PayloadTooLarge, Problem, ValidationFailed
from ..observability import bind_request, clear_request, logger
from ..routes import ROUTES
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
        return principal, None
    except DomainError as error:
        return None, error_response(error)


def api_handler(app: Any) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Wrap a resolver into the Lambda entry point every API function exposes."""

    @logger.inject_lambda_context(clear_state=True)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        principal, early = guard(event)
        if early is not None:
            return early
        app.append_context(principal=principal)
        try:
            return app.resolve(event, context)  # type: ignore[no-any-return]
        finally:
            clear_request()

    return lambda_handler


def current_principal(app: Any) -> Principal:
    principal = app.context.get(PrincipalKey)
    if principal is None:  # the guard always sets it on authenticated routes
        from ..errors import Unauthorized

        raise Unauthorized("A valid bearer token is required")
    return principal  # type: ignore[no-any-return]


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
    from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

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
        failure = ValidationFailed(problems_from_pydantic(list(error.errors())))
        return respond(422, error_body(failure))

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Any:
        logger.exception("unhandled error")
        return respond(500, {"code": "INTERNAL_ERROR", "message": "An unexpected error occurred"})
