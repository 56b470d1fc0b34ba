"""local.server configuration and environment, and the snapshot lock (local.rwlock)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from local.rwlock import ReadWriteLock
from local.server import REPO_ROOT, LocalConfig, configure_aws_environment


def test_defaults() -> None:
    config = LocalConfig.from_env({})
    assert config.port == 3000
    assert config.seed_demo is True
    assert config.state_dir == REPO_ROOT / ".local"
    assert config.state_file == REPO_ROOT / ".local" / "state.json"
    assert config.functions_dir == REPO_ROOT / "functions"
    assert config.moto_mode == "inprocess"


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
            "LOCAL_MOTO": "Server",
            "LOCAL_FUNCTIONS_DIR": "/x",
        }
    )
    assert (config.port, config.state_dir, config.moto_mode, config.functions_dir) == (
        4100,
        tmp_path,
        "server",
        Path("/x"),
    )
    assert LocalConfig.from_env({"LOCAL_STATE_DIR": "tmp/state"}).state_dir == REPO_ROOT / "tmp" / "state"
    with pytest.raises(ValueError):
        LocalConfig.from_env({"PORT": "70000"})


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
    configure_aws_environment("http://127.0.0.1:5555")
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5555"


def test_exclusive_waits_for_readers_and_blocks_new_ones() -> None:
    lock = ReadWriteLock()
    order: list[str] = []
    reader_in = threading.Event()
    release_reader = threading.Event()

    def reader(name: str, hold: threading.Event | None) -> None:
        with lock.shared():
            order.append(f"{name}-in")
            reader_in.set()
            if hold is not None:
                hold.wait(5)
        order.append(f"{name}-out")

    def writer() -> None:
        with lock.exclusive():
            order.append("writer")

    first = threading.Thread(target=reader, args=("r1", release_reader))
    first.start()
    assert reader_in.wait(5)
    writing = threading.Thread(target=writer)
    writing.start()
    time.sleep(0.05)
    late = threading.Thread(target=reader, args=("r2", None))
    late.start()
    time.sleep(0.05)
    assert order == ["r1-in"]  # the writer waits for r1; r2 waits behind the queued writer
    release_reader.set()
    for thread in (first, writing, late):
        thread.join(5)
    assert order == ["r1-in", "r1-out", "writer", "r2-in", "r2-out"]


def test_readers_share() -> None:
    lock = ReadWriteLock()
    with lock.shared(), lock.shared():
        pass
    with lock.exclusive():
        pass
