"""local.auth: tokens, their verification, and the claims API Gateway's Cognito authorizer passes on."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import jwt
import pytest

from local.auth import (
    InvalidToken,
    LocalIssuer,
    TokenRequest,
    TokenRequestInvalid,
    authorizer_claims,
    claims_for,
    java_date,
    load_or_create_secret,
)

SECRET = b"0" * 32


def _issue(roles: tuple[str, ...] = ("operator",), clock: float = 1_700_000_000) -> str:
    return LocalIssuer(SECRET, clock=lambda: clock).issue(TokenRequest("acme", "alice", roles))


def test_token_request_accepts_valid_input_and_dedupes_roles() -> None:
    body = {"tenant_id": "acme-1", "username": "alice.x:1", "roles": ["viewer", "admin", "viewer"]}
    assert TokenRequest.parse(body) == TokenRequest("acme-1", "alice.x:1", ("viewer", "admin"))


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({"tenant_id": "a b", "username": "u", "roles": ["viewer"]}, ["tenant_id"]),
        ({"tenant_id": "a", "username": "", "roles": ["viewer"]}, ["username"]),
        ({"tenant_id": "a", "username": "u", "roles": []}, ["roles"]),
        ({"tenant_id": "a", "username": "u", "roles": ["viewer", "root"]}, ["roles[1]"]),
        ({"tenant_id": "a", "username": "u", "roles": "admin"}, ["roles"]),
        ({"tenant_id": "#a", "roles": ["x"], "extra": True}, ["extra", "tenant_id", "username", "roles[0]"]),
        ({"tenant_id": "a" * 129, "username": "u", "roles": ["viewer"]}, ["tenant_id"]),
        ([], [""]),
    ],
)
def test_token_request_reports_every_problem_with_its_path(body: object, paths: list[str]) -> None:
    with pytest.raises(TokenRequestInvalid) as caught:
        TokenRequest.parse(body)
    assert [p["path"] for p in caught.value.problems] == paths


def test_issued_token_carries_the_cognito_id_token_claims() -> None:
    claims = jwt.decode(
        _issue(("viewer", "operator")), SECRET, algorithms=["HS256"], options={"verify_exp": False}
    )
    assert claims["cognito:username"] == "alice"
    assert claims["custom:tenant_id"] == "acme"
    assert claims["cognito:groups"] == ["viewer", "operator"]
    assert claims["token_use"] == "id"
    assert claims["iss"] == "local"
    assert claims["exp"] - claims["iat"] == 12 * 3600
    assert len(claims["sub"]) == 36
    assert (
        claims["sub"]
        == LocalIssuer(SECRET).verify(LocalIssuer(SECRET).issue(TokenRequest("acme", "alice", ("x",))))["sub"]
    )


def test_verify_accepts_a_fresh_token() -> None:
    issuer = LocalIssuer(SECRET)
    token = issuer.issue(TokenRequest("acme", "alice", ("admin",)))
    assert issuer.verify_header(f"Bearer {token}")["cognito:username"] == "alice"
    assert issuer.verify_header(f"bearer   {token} ")["custom:tenant_id"] == "acme"


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer not-a-jwt", "Bearer a.b.c"],
)
def test_verify_rejects_missing_and_malformed_headers(header: str | None) -> None:
    with pytest.raises(InvalidToken):
        LocalIssuer(SECRET).verify_header(header)


def test_verify_rejects_expired_tokens() -> None:
    token = _issue(clock=1_000_000)
    with pytest.raises(InvalidToken, match="expired"):
        LocalIssuer(SECRET).verify(token)


def test_verify_rejects_other_secrets_issuers_algorithms_and_token_uses() -> None:
    issuer = LocalIssuer(SECRET)
    now = int(time.time())
    good = {
        "sub": "s",
        "cognito:username": "u",
        "custom:tenant_id": "t",
        "token_use": "id",
        "iss": "local",
        "iat": now,
        "exp": now + 600,
    }
    forged = [
        jwt.encode(good, b"1" * 32, algorithm="HS256"),
        jwt.encode({**good, "iss": "https://cognito-idp.example"}, SECRET, algorithm="HS256"),
        jwt.encode({**good, "token_use": "access"}, SECRET, algorithm="HS256"),
        jwt.encode({**good, "custom:tenant_id": "a#b"}, SECRET, algorithm="HS256"),
        jwt.encode(good, "", algorithm="none"),
        jwt.encode({k: v for k, v in good.items() if k != "exp"}, SECRET, algorithm="HS256"),
    ]
    for token in forged:
        with pytest.raises(InvalidToken):
            issuer.verify(token)


def test_authorizer_claims_are_strings_like_api_gateway_renders_them() -> None:
    issuer = LocalIssuer(SECRET)
    claims = issuer.verify(issuer.issue(TokenRequest("acme", "alice", ("viewer", "operator"))))
    rendered = authorizer_claims(claims)
    assert all(isinstance(v, str) for v in rendered.values())
    assert rendered["cognito:groups"] == "viewer,operator"
    assert rendered["exp"] == java_date(claims["exp"])
    assert rendered["auth_time"] == str(claims["auth_time"])


def test_java_date_matches_api_gateway_format() -> None:
    assert java_date(1652887941) == "Wed May 18 15:32:21 UTC 2022"
    assert java_date(0) == "Thu Jan 01 00:00:00 UTC 1970"


def test_domain_core_reads_these_claims() -> None:
    """The contract with the handlers: the core's principal parser accepts what the authorizer passes."""
    from exception_playbooks.auth import principal_from_claims
    from exception_playbooks.models.enums import Role

    principal = principal_from_claims(claims_for("acme", "alice", ("operator", "automation")))
    assert principal.tenant_id == "acme"
    assert principal.username == "alice"
    assert principal.roles == {Role.OPERATOR, Role.AUTOMATION}


def test_secret_is_created_private_and_reused(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path / "state")
    assert len(first) == 32
    path = tmp_path / "state" / "jwt-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(tmp_path / "state") == first
