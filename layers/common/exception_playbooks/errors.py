"""Typed domain errors. The core raises these; ``api.http_errors`` maps them to HTTP once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One input problem: a JSON path (0-based indices) and a human message."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    code = "ERROR"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class Unauthorized(DomainError):
    code = "UNAUTHORIZED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class ApprovalRefused(Forbidden):
    """A two-person approval refused for who is asking (machine, self, wrong role)."""

    code = "APPROVAL_REFUSED"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"


class Unavailable(DomainError):
    """A dependency is throttled or down; nothing was written; safe to retry."""

    code = "SERVICE_UNAVAILABLE"


class ValidationFailed(DomainError):
    """Input is invalid; carries every problem found, each with its path."""

    code = "VALIDATION_ERROR"

    def __init__(self, problems: list[Problem], message: str = "The request is invalid"):
        super().__init__(message, details={"errors": [p.as_dict() for p in problems]})
        self.problems = problems
