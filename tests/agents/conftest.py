"""Fixtures for the agent tests: moto tables like infra's, repositories on a fake clock, the handler.

Everything runs in-process under ``mock_aws``. The DynamoDB call counter (a botocore
``before-call`` hook from ``local.aws_calls``) is installed before any client is created.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # ``local`` (tables, dispatcher, call counter) lives at the repo root
    sys.path.insert(0, str(ROOT))

# Before boto3/botocore build anything: moto routes streams only without account-id endpoints.
for name, value in {
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}.items():
    os.environ.setdefault(name, value)

from local import aws_calls  # noqa: E402

aws_calls.install()

import boto3  # noqa: E402
from exception_playbooks import config  # noqa: E402
from exception_playbooks.agents import notification_relay  # noqa: E402
from exception_playbooks.repository import bundle, packs, playbooks  # noqa: E402
from exception_playbooks.repository.bundle import Repositories, build_repositories  # noqa: E402
from exception_playbooks.repository.dynamo import Dynamo  # noqa: E402
from exception_playbooks.tenant_guard import install_tenant_guard  # noqa: E402
from moto import mock_aws  # noqa: E402

from local.lambda_runtime import FunctionRegistry  # noqa: E402
from local.tables import create_tables  # noqa: E402

from .support import TENANT, FakeClock, FakePublisher, seed  # noqa: E402

_REGISTRY = FunctionRegistry(ROOT / "functions", name_prefix="agents-test")


def reset_caches() -> None:
    playbooks.clear_cache()
    packs.clear_cache()
    bundle.reset_default_repositories()
    config.reset_settings()
    notification_relay.use_publisher(None)


@pytest.fixture(scope="session")
def dynamodb_client() -> Any:
    """One client for the session (building one costs ~0.3 s); moto intercepts it inside each mock."""
    return boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def dynamodb(dynamodb_client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Fresh moto tables shaped like infra's (``local.tables``) for each test."""
    monkeypatch.setenv("STATE_TABLE", "agents-test-state")
    monkeypatch.setenv("EVENTS_TABLE", "agents-test-events")
    monkeypatch.setenv("EVENT_BUS_NAME", "agents-test-bus")
    reset_caches()
    with mock_aws():
        create_tables(dynamodb_client, config.settings())
        # The tenant-data role's rule on every call made inside a tenant session (the handlers
        # bind one); set-up and assertions outside any session keep table-wide access.
        install_tenant_guard(dynamodb_client, config.settings(), allow_unscoped=True)
        yield dynamodb_client
    reset_caches()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def repos(dynamodb: Any, clock: FakeClock) -> Repositories:
    return build_repositories(Dynamo(client=dynamodb), clock=clock)


@pytest.fixture
def publisher() -> FakePublisher:
    fake = FakePublisher()
    notification_relay.use_publisher(fake)
    return fake


@pytest.fixture
def handler(repos: Repositories, publisher: FakePublisher, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``functions/agents/handler.py`` loaded like the local stack loads it, on the test repositories."""
    module = _REGISTRY.module("agents")
    monkeypatch.setattr(module, "repositories", lambda: repos)
    return module


@pytest.fixture
def seeded(repos: Repositories) -> Repositories:
    seed(repos, TENANT)
    return repos
