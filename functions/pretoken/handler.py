"""Cognito pre-token-generation trigger: no tokens for an admin without MFA (identity.py)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from exception_playbooks.identity import enforce_admin_mfa


@lru_cache(maxsize=1)
def _cognito() -> Any:
    import boto3

    return boto3.client("cognito-idp")


def _lookup(user_pool_id: str, username: str) -> dict[str, Any]:
    user: dict[str, Any] = _cognito().admin_get_user(UserPoolId=user_pool_id, Username=username)
    return user


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return enforce_admin_mfa(event, _lookup)
