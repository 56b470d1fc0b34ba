"""Cognito user-pool authorizer emulation: local ID tokens, their verification, and the claims map.

Tokens are HS256 JWTs signed with a per-install secret under the state directory. The claims
handed to handlers look exactly like what API Gateway's (REST) Cognito authorizer puts into
``requestContext.authorizer.claims``: every value a string, ``cognito:groups`` comma-separated,
``exp``/``iat`` rendered as Java dates (``Wed May 18 15:32:21 UTC 2022``).
"""

from __future__ import annotations

import os
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from exception_playbooks.models.common import ID_PATTERN

ISSUER = "local"
ALGORITHM = "HS256"
TOKEN_TTL_SECONDS = 12 * 3600
ROLES = ("viewer", "operator", "admin", "automation", "approver")
SECRET_FILE = "jwt-secret"

_ID = re.compile(ID_PATTERN)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Claims API Gateway renders as dates rather than numbers.
_DATE_CLAIMS = frozenset({"exp", "iat"})


class InvalidToken(Exception):
    """The bearer token is missing, malformed, badly signed or expired (answered with 401)."""


class TokenRequestInvalid(ValueError):
    """``POST /local/token`` body problems, each ``{"path", "message"}`` (answered with 422)."""

    def __init__(self, problems: list[dict[str, str]]):
        super().__init__("The token request is invalid")
        self.problems = problems


@dataclass(frozen=True)
class TokenRequest:
    tenant_id: str
    username: str
    roles: tuple[str, ...]

    @classmethod
    def parse(cls, body: Any) -> TokenRequest:
        """Validate a token request; every problem is reported at once, with its field path."""
        if not isinstance(body, Mapping):
            raise TokenRequestInvalid([{"path": "", "message": "must be a JSON object"}])
        problems: list[dict[str, str]] = []
        for name in sorted(set(body) - {"tenant_id", "username", "roles"}):
            problems.append({"path": name, "message": "unknown field"})
        for name in ("tenant_id", "username"):
            value = body.get(name)
            if not isinstance(value, str) or not _ID.match(value):
                problems.append({"path": name, "message": f"must be a string matching {ID_PATTERN}"})
        roles = body.get("roles")
        if not isinstance(roles, list) or not roles:
            problems.append({"path": "roles", "message": f"must be a non-empty list of {', '.join(ROLES)}"})
            roles = []
        for index, role in enumerate(roles):
            if role not in ROLES:
                problems.append({"path": f"roles[{index}]", "message": f"must be one of {', '.join(ROLES)}"})
        if problems:
            raise TokenRequestInvalid(problems)
        return cls(body["tenant_id"], body["username"], tuple(dict.fromkeys(roles)))


def load_or_create_secret(state_dir: Path) -> bytes:
    """The per-install signing secret, created (mode 0600) on first use so tokens survive restarts."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    secret = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret.hex())
    return secret


def user_sub(tenant_id: str, username: str) -> str:
    """A stable UUID per (tenant, user), as Cognito's ``sub`` is stable per user."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"local-cognito/{tenant_id}/{username}"))


class LocalIssuer:
    """Issues and verifies local ID tokens."""

    def __init__(
        self, secret: bytes, *, clock: Callable[[], float] = time.time, ttl: int = TOKEN_TTL_SECONDS
    ):
        self._secret = secret
        self._clock = clock
        self._ttl = ttl

    def issue(self, request: TokenRequest) -> str:
        claims = id_token_claims(
            request.tenant_id, request.username, request.roles, int(self._clock()), self._ttl
        )
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or ``InvalidToken`` with a message fit for the 401 answer."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                leeway=5,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("The token has expired") from error
        except jwt.PyJWTError as error:
            raise InvalidToken("The token is invalid") from error
        if claims.get("token_use") != "id":
            raise InvalidToken("The token is not an ID token")
        tenant, username = claims.get("custom:tenant_id"), claims.get("cognito:username")
        if not isinstance(tenant, str) or not _ID.match(tenant) or not isinstance(username, str):
            raise InvalidToken("The token does not carry a tenant and a username")
        return claims

    def verify_header(self, authorization: str | None) -> dict[str, Any]:
        """Verify an ``Authorization: Bearer <JWT>`` header value."""
        if not authorization:
            raise InvalidToken("A bearer token is required (Authorization: Bearer <token>)")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("The Authorization header must be 'Bearer <token>'")
        return self.verify(token.strip())


def java_date(epoch_seconds: int) -> str:
    """``Wed May 18 15:32:21 UTC 2022``: how API Gateway renders exp/iat (locale-independent)."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    day, month = _DAYS[moment.weekday()], _MONTHS[moment.month - 1]
    return f"{day} {month} {moment.day:02d} {moment:%H:%M:%S} UTC {moment.year}"


def authorizer_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Token claims as the REST API Cognito authorizer passes them to the integration."""
    out: dict[str, str] = {}
    for name, value in claims.items():
        if name in _DATE_CLAIMS and isinstance(value, int | float):
            out[name] = java_date(int(value))
        elif isinstance(value, list | tuple):
            out[name] = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out


def id_token_claims(
    tenant_id: str, username: str, roles: tuple[str, ...] | list[str], now: int, ttl: int = TOKEN_TTL_SECONDS
) -> dict[str, Any]:
    """The claims of a Cognito ID token for a user of the pool (the subset the service reads)."""
    return {
        "sub": user_sub(tenant_id, username),
        "cognito:username": username,
        "custom:tenant_id": tenant_id,
        "cognito:groups": list(roles),
        "token_use": "id",
        "iss": ISSUER,
        "auth_time": now,
        "iat": now,
        "exp": now + ttl,
    }


def claims_for(tenant_id: str, username: str, roles: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Authorizer claims for an in-process caller (the seed), as if it had presented a fresh token."""
    return authorizer_claims(id_token_claims(tenant_id, username, roles, int(time.time())))
