"""moto-backed fixtures shared by the data-layer and execution tests.

Every test gets fresh tables (the table definitions of ``local.tables``, shared with the local
stack), a steppable clock, a deterministic id generator, and cleared module caches.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from exception_playbooks import config
from exception_playbooks.repository import bundle, packs, playbooks
from exception_playbooks.repository.bundle import Repositories, build_repositories
from exception_playbooks.repository.dynamo import Dynamo
from exception_playbooks.tenant_guard import install_tenant_guard
from moto import mock_aws

from local.tables import events_table_definition, state_table_definition

from .support import CallRecorder, FakeClock, SequentialIds

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "STATE_TABLE": "test-state",
    "EVENTS_TABLE": "test-events",
}


@pytest.fixture(autouse=True)
def _clear_caches() -> Iterator[None]:
    playbooks.clear_cache()
    packs.clear_cache()
    bundle.reset_default_repositories()
    yield
    playbooks.clear_cache()
    packs.clear_cache()
    bundle.reset_default_repositories()


def _set_env(patch: pytest.MonkeyPatch) -> None:
    for name, value in AWS_ENV.items():
        patch.setenv(name, value)
    patch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Per test, so nothing leaks into the other test folders run in the same session."""
    _set_env(monkeypatch)
    config.reset_settings()
    yield
    config.reset_settings()


@pytest.fixture(scope="session")
def clients() -> tuple[Any, Any]:
    """Two DynamoDB clients for the whole session (creating one costs ~100 ms): one for the
    repositories under test, one for the test's own reads (never counted by ``calls``).
    moto's stubber is registered on every client, so both work inside each test's ``mock_aws``."""
    with pytest.MonkeyPatch.context() as patch:
        _set_env(patch)
        return (
            boto3.client("dynamodb", region_name="us-east-1"),
            boto3.client("dynamodb", region_name="us-east-1"),
        )


@pytest.fixture
def dynamodb(aws_env: None, clients: tuple[Any, Any]) -> Iterator[Any]:
    """A fresh moto DynamoDB with both tables; yields the raw client for scans and assertions.

    The tables come from the local stack's definitions (``local.tables``: keys, both GSIs, the
    stream); ``create_tables`` itself adds only waiters and TTL, which cost 3x more per test.
    """
    config.reset_settings()
    settings = config.settings()
    with mock_aws():
        clients[1].create_table(**state_table_definition(settings.state_table))
        clients[1].create_table(**events_table_definition(settings.events_table))
        # The repositories' client refuses what the tenant-data role would, inside a tenant session.
        install_tenant_guard(clients[0], settings, allow_unscoped=True)
        yield clients[1]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ids() -> SequentialIds:
    return SequentialIds()


@pytest.fixture
def repos(dynamodb: Any, clients: tuple[Any, Any], clock: FakeClock, ids: SequentialIds) -> Repositories:
    return build_repositories(Dynamo(client=clients[0]), clock=clock, ids=ids)


@pytest.fixture
def calls(repos: Repositories) -> Iterator[CallRecorder]:
    """Records (and can fail) every DynamoDB call the repositories' client makes."""
    recorder = CallRecorder(repos.dynamo.client)
    yield recorder
    recorder.uninstall()
