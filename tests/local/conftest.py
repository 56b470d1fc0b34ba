"""Fixtures of the local stack's tests. The repository root goes on sys.path so ``import local`` works
however pytest is started (``python -m pytest`` adds it; a bare ``pytest`` does not)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials for moto's in-process mock; no real profile or endpoint can leak in."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


@pytest.fixture
def settings() -> Any:
    from exception_playbooks.config import Settings

    return Settings(state_table="t-state", events_table="t-events", event_bus_name="t-bus")


@pytest.fixture
def moto_dynamodb(aws_env: None, settings: Any) -> Iterator[Any]:
    """An in-process moto DynamoDB with both tables created by ``local.tables.create_tables``."""
    import boto3
    from moto import mock_aws

    from local.tables import create_tables

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, settings)
        yield client
