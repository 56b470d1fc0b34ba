"""The pre-token-generation trigger (V3_0): tenant claims in access tokens, machines by their mapping."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from exception_playbooks.identity import (
    CLIENT_CREDENTIALS,
    AutomationClients,
    TokenRefused,
    customize_tokens,
    parse_mapping,
)
from moto import mock_aws

HANDLER = Path(__file__).resolve().parents[2] / "functions" / "pretoken" / "handler.py"
MAPPING = json.dumps({"tenant_id": "acme", "username": "erp-sync", "roles": ["automation"]})


def _user_event(tenant: str | None = "acme") -> dict[str, Any]:
    """A pre-token-generation V3 event for a person signing in (the web client)."""
    return {
        "version": "3",
        "triggerSource": "TokenGeneration_HostedAuth",
        "region": "us-east-1",
        "userPoolId": "us-east-1_pool",
        "userName": "alice",
        "callerContext": {"awsSdkVersion": "x", "clientId": "web1234"},
        "request": {
            "userAttributes": {"sub": "s", **({"custom:tenant_id": tenant} if tenant is not None else {})},
            "groupConfiguration": {"groupsToOverride": ["operator"], "iamRolesToOverride": []},
            "scopes": ["openid", "exception-playbooks/api"],
        },
        "response": {"claimsAndScopeOverrideDetails": None},
    }


def _machine_event(client_id: Any = "machine42") -> dict[str, Any]:
    """A V3 event for a client-credentials grant: no user, the app client in callerContext."""
    return {
        "version": "3",
        "triggerSource": CLIENT_CREDENTIALS,
        "region": "us-east-1",
        "userPoolId": "us-east-1_pool",
        "userName": None,
        "callerContext": {"awsSdkVersion": "x", "clientId": client_id},
        "request": {
            "userAttributes": {},
            "groupConfiguration": None,
            "scopes": ["exception-playbooks/automation"],
        },
        "response": {"claimsAndScopeOverrideDetails": None},
    }


def _added(event: dict[str, Any]) -> dict[str, Any]:
    details = event["response"]["claimsAndScopeOverrideDetails"]
    assert set(details) == {"accessTokenGeneration"}  # ID tokens (and groups) as Cognito issues them
    claims: dict[str, Any] = details["accessTokenGeneration"]["claimsToAddOrOverride"]
    return claims


def _no_lookup(client_id: str) -> str | None:
    raise AssertionError("a person's token needs no mapping")


def test_a_person_gets_the_tenant_claim_in_the_access_token() -> None:
    assert _added(customize_tokens(_user_event(), AutomationClients(_no_lookup))) == {"tenant_id": "acme"}


@pytest.mark.parametrize("tenant", [None, "", "a b", "acme\n"])
def test_a_person_without_a_valid_tenant_gets_no_token(tenant: str | None) -> None:
    with pytest.raises(TokenRefused):
        customize_tokens(_user_event(tenant), AutomationClients(_no_lookup))


def test_a_machine_gets_its_tenant_actor_and_roles() -> None:
    clients = AutomationClients({"machine42": MAPPING}.get)
    assert _added(customize_tokens(_machine_event(), clients)) == {
        "tenant_id": "acme",
        "actor": "erp-sync",
        "roles": ["automation"],
    }


def test_an_event_without_a_user_is_a_machines() -> None:
    event = _machine_event() | {"triggerSource": "TokenGeneration_Other"}
    clients = AutomationClients({"machine42": MAPPING}.get)
    assert _added(customize_tokens(event, clients))["actor"] == "erp-sync"


@pytest.mark.parametrize("client_id", ["unknown1", None, "", "../other/x", "a" * 129])
def test_an_unknown_or_odd_client_gets_no_token(client_id: Any) -> None:
    looked_up: list[str] = []

    def lookup(name: str) -> str | None:
        looked_up.append(name)
        return None

    with pytest.raises(TokenRefused):
        customize_tokens(_machine_event(client_id), AutomationClients(lookup))
    assert looked_up == ([client_id] if client_id == "unknown1" else [])  # odd ids never reach SSM


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        json.dumps({"tenant_id": "acme", "username": "erp-sync"}),
        json.dumps({"tenant_id": "acme", "username": "erp-sync", "roles": ["automation"], "extra": 1}),
        json.dumps({"tenant_id": "a b", "username": "erp-sync", "roles": ["automation"]}),
        json.dumps({"tenant_id": "acme", "username": "erp sync", "roles": ["automation"]}),
        json.dumps({"tenant_id": "acme", "username": "system", "roles": ["automation"]}),  # the service's own
        json.dumps({"tenant_id": "acme", "username": "erp-sync", "roles": []}),
        json.dumps({"tenant_id": "acme", "username": "erp-sync", "roles": ["root"]}),
        json.dumps({"tenant_id": "acme", "username": "erp-sync", "roles": "automation"}),
        json.dumps({"tenant_id": 7, "username": "erp-sync", "roles": ["automation"]}),
        " " * 5000,
    ],
)
def test_a_malformed_mapping_gives_no_token(raw: str) -> None:
    with pytest.raises(TokenRefused):
        parse_mapping(raw)
    with pytest.raises(TokenRefused):
        customize_tokens(_machine_event(), AutomationClients({"machine42": raw}.get))


def test_mappings_are_cached_briefly_and_bounded() -> None:
    now = [0.0]
    reads: list[str] = []
    store = {"a1": MAPPING, "b2": MAPPING, "c3": MAPPING}

    def lookup(client_id: str) -> str | None:
        reads.append(client_id)
        return store.get(client_id)

    clients = AutomationClients(lookup, ttl_seconds=60, max_entries=2, clock=lambda: now[0])
    for client_id in ("a1", "a1", "b2", "a1"):
        clients.get(client_id)
    assert reads == ["a1", "b2"]
    clients.get("c3")  # evicts the least recently used (b2)
    clients.get("b2")
    assert reads == ["a1", "b2", "c3", "b2"]
    now[0] = 61.0  # expired: read again, and a deleted mapping stops working
    del store["a1"]
    with pytest.raises(TokenRefused):
        clients.get("a1")


def test_the_handler_reads_the_mapping_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AUTOMATION_CLIENTS_PATH": "/Stack/automation-clients/",
    }.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("pretoken_handler_under_test", HANDLER)
    assert spec is not None and spec.loader is not None
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    try:
        with mock_aws():
            ssm = boto3.client("ssm", region_name="us-east-1")
            ssm.put_parameter(Name="/Stack/automation-clients/machine42", Value=MAPPING, Type="String")
            ssm.put_parameter(Name="/Other/automation-clients/stranger1", Value=MAPPING, Type="String")
            assert _added(handler.lambda_handler(_machine_event(), None))["actor"] == "erp-sync"
            with pytest.raises(TokenRefused):  # another stack's client is unknown here
                handler.lambda_handler(_machine_event("stranger1"), None)
            assert _added(handler.lambda_handler(_user_event(), None)) == {"tenant_id": "acme"}
    finally:
        handler._ssm.cache_clear()
