"""The pre-token-generation rule: admins get tokens only with TOTP on; everyone else unchanged."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from exception_playbooks.identity import MfaRequired, enforce_admin_mfa
from moto import mock_aws

HANDLER = Path(__file__).resolve().parents[2] / "functions" / "pretoken" / "handler.py"


def _event(pool: str, username: str, groups: list[str]) -> dict[str, Any]:
    """A pre-token-generation (V2) event as Cognito sends it."""
    return {
        "version": "2",
        "triggerSource": "TokenGeneration_Authentication",
        "region": "us-east-1",
        "userPoolId": pool,
        "userName": username,
        "callerContext": {"awsSdkVersion": "x", "clientId": "web"},
        "request": {
            "userAttributes": {"custom:tenant_id": "acme"},
            "groupConfiguration": {
                "groupsToOverride": groups,
                "iamRolesToOverride": [],
                "preferredRole": None,
            },
            "scopes": ["openid"],
        },
        "response": {"claimsAndScopeOverrideDetails": None},
    }


def test_only_admins_are_looked_up() -> None:
    def lookup(pool: str, username: str) -> dict[str, Any]:
        raise AssertionError("no lookup for a non-admin")

    event = _event("pool", "olga", ["operator"])
    assert enforce_admin_mfa(event, lookup) is event


def test_an_admin_without_totp_gets_no_tokens() -> None:
    with pytest.raises(MfaRequired):
        enforce_admin_mfa(
            _event("pool", "ada", ["operator", "admin"]), lambda p, u: {"UserMFASettingList": []}
        )
    event = _event("pool", "ada", ["admin"])
    assert enforce_admin_mfa(event, lambda p, u: {"UserMFASettingList": ["SOFTWARE_TOKEN_MFA"]}) is event


def test_the_handler_asks_cognito(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("pretoken_handler_under_test", HANDLER)
    assert spec is not None and spec.loader is not None
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL"
        )
        cognito.admin_create_user(UserPoolId=pool, Username="ada")
        with pytest.raises(MfaRequired):
            handler.lambda_handler(_event(pool, "ada", ["admin"]), None)
    handler._cognito.cache_clear()

    class WithTotp:  # moto cannot verify a TOTP device; the answer AdminGetUser gives then
        def admin_get_user(self, **_: Any) -> dict[str, Any]:
            return {"UserMFASettingList": ["SOFTWARE_TOKEN_MFA"]}

    monkeypatch.setattr(handler, "_cognito", WithTotp)
    event = _event("pool", "ada", ["admin"])
    assert handler.lambda_handler(event, None) == json.loads(json.dumps(event))
