"""Durability of the local stack: kill -9 during a write burst, and a restart with a backlog.

Against stand-in handlers (a create that writes the exception and its ExceptionCreated event in
one transaction; a triage agent slowed down by STANDIN_AGENT_DELAY so the agents lag behind).
Every write that was answered 201 must be there after the restart, and every one of them must
reach its agent (at least once) after the restart, whether it was delivered before or not.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_stack_harness import StackProcess, write_stand_in_functions

pytestmark = pytest.mark.slow

AGENT_DELAY_SECONDS = "0.1"  # 4 lanes x 10/s: agents fall behind a burst of creates
WRITERS = 4


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    root = tmp_path_factory.mktemp("durability")
    process = StackProcess(
        root / "state",
        functions_dir=write_stand_in_functions(root / "functions"),
        env={"STANDIN_AGENT_DELAY": AGENT_DELAY_SECONDS, "LOCAL_AGENT_WORKERS": "4"},
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


def _burst(
    stack: StackProcess, token: str, prefix: str, stop: threading.Event, limit: int, delay: float = 0
) -> tuple[list[str], list[threading.Thread]]:
    """WRITERS threads create exceptions until ``stop`` is set (or ``limit`` each).

    Returns the list the acknowledged ids are appended to, and the threads.
    """
    acknowledged: list[str] = []
    lock = threading.Lock()

    def writer(number: int) -> None:
        for index in range(limit):
            if stop.is_set():
                return
            exception_id = f"{prefix}-{number}-{index}"
            try:
                response = stack.request(
                    "POST",
                    "/api/exceptions",
                    body={"exception_id": exception_id, "delay": delay},
                    token=token,
                    timeout=10,
                )
            except OSError:
                return  # the stack is gone: this write was never acknowledged
            if response.status == 201:
                with lock:
                    acknowledged.append(exception_id)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    return acknowledged, threads


def _join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(30)


def _untriaged(stack: StackProcess, token: str, ids: list[str]) -> list[str]:
    gone = [i for i in ids if stack.get(f"/api/exceptions/{i}", token=token).status == 404]
    assert not gone, f"{len(gone)} of {len(ids)} acknowledged writes are gone: {gone} (acknowledged: {ids})"
    missing = []
    for exception_id in ids:
        response = stack.get(f"/api/exceptions/{exception_id}", token=token)
        if not response.json().get("triaged_by"):
            missing.append(exception_id)
    return missing


def _all_triaged(stack: StackProcess, token: str, ids: list[str], timeout: float = 40.0) -> None:
    pending = list(ids)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending = _untriaged(stack, token, pending)
        if pending:
            time.sleep(0.2)
    assert not pending, f"{len(pending)} events never reached their agent, e.g. {pending[:5]}"


def test_kill_9_during_a_write_burst_loses_no_acknowledged_write_nor_agent_work(stack: StackProcess) -> None:
    token = stack.token("acme", "alice", ["operator"])
    stop = threading.Event()
    acknowledged, writers = _burst(stack, token, "CRASH", stop, limit=1000)
    # Kill in the middle of the burst, with agents behind (a backlog in the stream).
    stack.wait_for(lambda: len(acknowledged) >= 120, timeout=30, interval=0.01)
    stack.crash()
    stop.set()
    _join(writers)
    killed_with = list(acknowledged)

    stack.start()
    assert len(killed_with) >= 120
    _all_triaged(stack, token, killed_with)


def test_a_restart_delivers_the_backlog_the_last_run_left(stack: StackProcess) -> None:
    token = stack.token("acme", "alice", ["operator"])
    stop = threading.Event()
    # Each of these keeps an agent busy for half a second: 4 lanes need ~4 s for all of them.
    acknowledged, writers = _burst(stack, token, "BACKLOG", stop, limit=8, delay=0.5)
    _join(writers)
    ids = list(acknowledged)
    assert len(ids) == WRITERS * 8
    backlog = _untriaged(stack, token, ids)
    assert backlog, "the agents kept up; the test needs a backlog at shutdown"
    # Ctrl-C does not wait for the backlog (the harness fails the test if it ignores SIGINT for 20 s)
    # and drops nothing: after the next start every event reaches its agent.
    assert stack.stop(signal.SIGINT) == 0
    stack.start()
    _all_triaged(stack, token, ids)
    delivered = {d["exception_id"] for d in stack.get("/local/deliveries").json()["items"]}
    assert delivered & set(backlog)  # delivered by this run, not the last one


def test_the_state_directory_holds_the_database_and_the_stream_position(stack: StackProcess) -> None:
    files = {p.name for p in Path(stack.state_dir).iterdir()}
    assert {"dynamodb", "lock", "stream-checkpoint.json"} <= files
    assert "state.json" not in files  # no snapshots any more
