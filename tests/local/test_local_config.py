"""local.server configuration and environment, and the state-directory lock (local.statedir)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from local.server import REPO_ROOT, LocalConfig, configure_aws_environment
from local.statedir import StateDirInUse, StateDirLock


def test_defaults() -> None:
    config = LocalConfig.from_env({})
    assert config.port == 3000
    assert config.seed_demo is True
    assert config.state_dir == REPO_ROOT / ".local"
    assert config.database_dir == REPO_ROOT / ".local" / "dynamodb"
    assert config.functions_dir == REPO_ROOT / "functions"
    assert (config.workers, config.agent_workers) == (1, 3)


@pytest.mark.parametrize(
    ("value", "seed"), [("0", False), ("false", False), ("off", False), ("1", True), ("yes", True)]
)
def test_seed_demo_switch(value: str, seed: bool) -> None:
    assert LocalConfig.from_env({"SEED_DEMO": value}).seed_demo is seed


def test_overrides(tmp_path: Path) -> None:
    config = LocalConfig.from_env(
        {
            "PORT": "4100",
            "LOCAL_STATE_DIR": str(tmp_path),
            "LOCAL_WORKERS": "2",
            "LOCAL_FUNCTIONS_DIR": "/x",
        }
    )
    assert (config.port, config.state_dir, config.workers, config.functions_dir) == (
        4100,
        tmp_path,
        2,
        Path("/x"),
    )
    assert LocalConfig.from_env({"LOCAL_STATE_DIR": "tmp/state"}).state_dir == REPO_ROOT / "tmp" / "state"
    with pytest.raises(ValueError):
        LocalConfig.from_env({"PORT": "70000"})
    with pytest.raises(ValueError):
        LocalConfig.from_env({"LOCAL_WORKERS": "0"})


def test_aws_environment_never_reaches_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://example.invalid")
    monkeypatch.setenv("STATE_TABLE", "mine")
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE",
        "AWS_EC2_METADATA_DISABLED",
        "LOCAL_STACK",
        "EVENTS_TABLE",
        "EVENT_BUS_NAME",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_TRACE_DISABLED",
        "POWERTOOLS_METRICS_DISABLED",
        "POWERTOOLS_LOG_LEVEL",
    ):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # restored by monkeypatch afterwards
    configure_aws_environment(None)
    assert "AWS_PROFILE" not in os.environ and "AWS_SESSION_TOKEN" not in os.environ
    assert "AWS_ENDPOINT_URL" not in os.environ
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    assert os.environ["AWS_CONFIG_FILE"] == os.devnull
    assert os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] == "disabled"
    assert os.environ["STATE_TABLE"] == "mine"  # an explicit table name wins
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", os.environ.get("AWS_ENDPOINT_URL_DYNAMODB", ""))
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "")
    monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", "")
    configure_aws_environment("http://127.0.0.1:5555", "http://127.0.0.1:5556")
    assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:5555"
    assert os.environ["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] == "http://127.0.0.1:5555"
    assert os.environ["AWS_ENDPOINT_URL_EVENTBRIDGE"] == "http://127.0.0.1:5556"
    assert "AWS_ENDPOINT_URL" not in os.environ


def test_one_stack_per_state_directory(tmp_path: Path) -> None:
    first = StateDirLock(tmp_path)
    first.acquire()
    try:
        with pytest.raises(StateDirInUse, match=str(os.getpid())):
            StateDirLock(tmp_path).acquire(wait=0.2)
    finally:
        first.release()
    again = StateDirLock(tmp_path)
    again.acquire()  # released: the next stack may take it
    assert again.held
    again.release()
