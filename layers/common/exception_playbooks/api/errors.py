"""The single place where typed domain errors become HTTP answers."""

from __future__ import annotations

import json
from typing import Any

from ..errors import (
    ApprovalRefused,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Problem,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)

STATUS_BY_ERROR: tuple[tuple[type[DomainError], int], ...] = (
    (Unauthorized, 401),
    (ApprovalRefused, 403),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (ValidationFailed, 422),
    (Unavailable, 503),
)

JSON_HEADERS = {"Content-Type": "application/json"}


def status_for(error: DomainError) -> int:
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 500


def error_body(error: DomainError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details is not None:
        body["details"] = error.details
    return body


def proxy_response(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A raw API Gateway proxy response (used before the resolver runs)."""
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def error_response(error: DomainError) -> dict[str, Any]:
    headers = {"Retry-After": "1"} if isinstance(error, Unavailable) else None
    return proxy_response(status_for(error), error_body(error), headers)


def problem_path(location: tuple[Any, ...] | list[Any]) -> str:
    """('body', 'steps', 0, 'params', 'channel') -> 'steps[0].params.channel' (0-based)."""
    parts = list(location)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def problems_from_pydantic(errors: list[Any], prefix: str = "") -> list[Problem]:
    problems = []
    for error in errors:
        path = problem_path(tuple(error.get("loc", ())))
        if prefix:
            path = (
                prefix
                if path == "body"
                else f"{prefix}.{path}"
                if not path.startswith("[")
                else prefix + path
            )
        problems.append(Problem(path, str(error.get("msg", "is invalid"))))
    return problems
