"""Tenant sessions: the bound tenant, STS credentials per tenant (cached, bounded, refreshed)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from exception_playbooks.config import Settings
from exception_playbooks.repository.dynamo import Dynamo
from exception_playbooks.tenancy import (
    GuardedClient,
    StsTenantClients,
    current_tenant,
    default_client_provider,
    tenant_scope,
)
from moto import mock_aws

ROLE_NAME = "tenant-data"


@pytest.fixture
def sts(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
        }
        arn = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        yield boto3.client("sts", region_name="us-east-1"), arn


class RecordingSts:
    """Wraps the moto STS client, keeping every AssumeRole request."""

    def __init__(self, real: Any):
        self.real = real
        self.requests: list[dict[str, Any]] = []

    def assume_role(self, **kwargs: Any) -> Any:
        self.requests.append(kwargs)
        return self.real.assume_role(**kwargs)


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_scope_binds_a_tenant_per_thread() -> None:
    seen: list[str | None] = []
    with tenant_scope("acme"):
        thread = threading.Thread(target=lambda: seen.append(current_tenant()))
        thread.start()
        thread.join()
        assert current_tenant() == "acme"
    assert current_tenant() is None
    assert seen == [None]  # another thread never sees this one's tenant


def test_one_assume_role_per_tenant_with_the_tenant_tag(sts: tuple[Any, str]) -> None:
    recording = RecordingSts(sts[0])
    clients = StsTenantClients(sts[1], "us-east-1", sts=recording)
    first = clients.client("acme")
    assert clients.client("acme") is first  # warm: no STS call
    assert clients.client("globex") is not first
    assert clients.assume_calls == 2
    assert [r["Tags"] for r in recording.requests] == [
        [{"Key": "tenant_id", "Value": "acme"}],
        [{"Key": "tenant_id", "Value": "globex"}],
    ]
    assert recording.requests[0]["RoleArn"] == sts[1]
    assert recording.requests[0]["RoleSessionName"] == "tenant-acme"
    assert first.meta.region_name == "us-east-1"


def test_credentials_are_refreshed_before_they_expire(sts: tuple[Any, str]) -> None:
    clock = Clock(0.0)
    clients = StsTenantClients(sts[1], "us-east-1", sts=sts[0], clock=clock)
    clients.client("acme")
    expires = clients._sessions["acme"].expires_at
    clock.now = expires - 301
    clients.client("acme")
    assert clients.assume_calls == 1
    clock.now = expires - 299  # inside the refresh margin: a new session
    clients.client("acme")
    assert clients.assume_calls == 2


def test_the_cache_is_bounded_least_recently_used_first(sts: tuple[Any, str]) -> None:
    clients = StsTenantClients(sts[1], "us-east-1", sts=sts[0], max_tenants=2)
    clients.client("a")
    clients.client("b")
    clients.client("a")
    clients.client("c")
    assert clients.cached_tenants() == ["a", "c"]
    clients.client("b")
    assert clients.assume_calls == 4


def test_no_tenant_no_credentials() -> None:
    clients = StsTenantClients("arn:aws:iam::123456789012:role/x", "us-east-1", sts=object())
    with pytest.raises(ClientError) as raised:
        clients.client(None)
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"


def test_the_default_provider_is_sts_when_deployed_and_the_guard_locally() -> None:
    deployed = default_client_provider(Settings(tenant_data_role_arn="arn:aws:iam::1:role/t"))
    assert isinstance(deployed, StsTenantClients)
    assert isinstance(default_client_provider(Settings()), GuardedClient)


def test_the_local_default_client_refuses_calls_outside_a_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    dynamo = Dynamo(config=Settings(state_table="state", events_table="events"))
    with pytest.raises(ClientError) as raised:
        dynamo.get("state", {"pk": "T#acme#EX#1", "sk": "EXCEPTION"})
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"  # refused before sending
