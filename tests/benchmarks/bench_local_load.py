"""Load on the local stack over loopback HTTP: throughput and latency, agent lag, crash recovery.

Starts ``python -m local.server`` (SEED_DEMO=0, a temporary state directory), sets up one tenant
with a matching playbook, then, at concurrency 4, 8 and 16, runs each operation for a bounded
time: ``create`` (POST /api/exceptions), ``status`` (GET .../playbook), ``list`` (GET
/api/exceptions) and ``complete`` (POST .../steps/1/complete). Then it creates exceptions at a
steady rate (30/s by default) and reports the lag from each ExceptionCreated to its
PlaybookStarted (timeline timestamps), and finally kills the stack's process group (kill -9)
with about 10 MB of state and times the restart until the API answers.

Bounded: every phase has a time limit (BENCH_LOAD_SECONDS per operation and concurrency, 4 s by
default). BENCH_STACK_ROOT runs another checkout's stack (to measure a baseline).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
CONCURRENCY = (4, 8, 16)
TENANT = "bench-load"


def _harness() -> Any:
    sys.path.insert(0, str(REPO_ROOT / "tests" / "local"))
    import local_stack_harness

    return local_stack_harness


def _percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def _setup(stack: Any, admin: str) -> None:
    sys.path.insert(0, str(REPO_ROOT / "tests" / "local"))
    from test_local_stack import DOMAIN_PACK, PLAYBOOK, POLICY

    assert stack.request("PUT", "/api/packs/policy", body=POLICY, token=admin).status == 200
    assert stack.request("PUT", "/api/packs/domains/Finance", body=DOMAIN_PACK, token=admin).status == 200
    created = stack.request("POST", "/api/playbooks", body=PLAYBOOK, token=admin)
    assert created.status == 201, created.body


def _exception(exception_id: str, padding: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = {
        "exception_id": exception_id,
        "domain": "Finance",
        "exception_type": "TradeSettlementFailure",
        "source_system": "Murex",
        "summary": "DVP fail",
        "attributes": {"trade_id": f"T-{exception_id}"},
    }
    if padding:
        body["attributes"]["notes"] = "n" * padding
    return body


class Phase:
    """Runs one request function on ``concurrency`` threads for ``seconds``; collects latencies."""

    def __init__(self, concurrency: int, seconds: float):
        self.concurrency = concurrency
        self.seconds = seconds
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self._lock = threading.Lock()

    def run(self, one: Any) -> dict[str, Any]:
        deadline = time.monotonic() + self.seconds
        counter = iter(range(10**9))

        def worker() -> None:
            while time.monotonic() < deadline:
                index = next(counter)
                started = time.monotonic()
                try:
                    status = one(index)
                except OSError as error:
                    status = type(error).__name__
                elapsed = time.monotonic() - started
                with self._lock:
                    if status in (200, 201):
                        self.latencies.append(elapsed)
                    else:
                        self.errors[str(status)] = self.errors.get(str(status), 0) + 1

        started = time.monotonic()
        threads = [threading.Thread(target=worker) for _ in range(self.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
        return {
            "requests": len(self.latencies),
            "throughput_rps": round(len(self.latencies) / wall, 1),
            **_percentiles(self.latencies),
            "errors": self.errors,
        }


def _wait_for_playbooks(stack: Any, token: str, prefix: str, count: int, limit: float = 60.0) -> float | None:
    """Seconds until the agents started a playbook on every exception just created (None: not in time)."""
    started = time.monotonic()
    pending = [f"{prefix}-{i}" for i in range(count)]
    while pending and time.monotonic() - started < limit:
        status = stack.get(f"/api/exceptions/{pending[-1]}/playbook", token=token)
        if status.status == 200 and status.json().get("playbook"):
            pending = [
                i
                for i in pending
                if not stack.get(f"/api/exceptions/{i}/playbook", token=token).json().get("playbook")
            ]
        else:
            time.sleep(0.25)
    return None if pending else round(time.monotonic() - started, 1)


def _has_playbook(stack: Any, token: str, exception_id: str) -> bool:
    return bool(stack.get(f"/api/exceptions/{exception_id}/playbook", token=token).json().get("playbook"))


def _timestamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _agent_lag(stack: Any, token: str, rate: float, seconds: float) -> dict[str, Any]:
    """Create ``rate`` exceptions/s for ``seconds``; lag ExceptionCreated -> PlaybookStarted."""
    ids = [f"LAG-{i}" for i in range(int(rate * seconds))]
    started = time.monotonic()

    def create(index: int) -> None:
        delay = started + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        stack.request("POST", "/api/exceptions", body=_exception(ids[index]), token=token)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(len(ids))))
    achieved = len(ids) / (time.monotonic() - started)
    lags: list[float] = []
    span: list[float] = []  # ExceptionCreated and PlaybookStarted timestamps
    pending = set(ids)
    deadline = time.monotonic() + 120
    while pending and time.monotonic() < deadline:
        for exception_id in sorted(pending):
            events = stack.get(f"/api/exceptions/{exception_id}/events?limit=50", token=token).json()
            by_type = {e["event_type"]: e["created_at"] for e in events.get("items", [])}
            if "PlaybookStarted" in by_type:
                created = _timestamp(by_type["ExceptionCreated"])
                playbook = _timestamp(by_type["PlaybookStarted"])
                lags.append(playbook - created)
                span += [created, playbook]
                pending.discard(exception_id)
        if pending:
            time.sleep(0.5)
    return {
        "target_rate_per_s": rate,
        "achieved_rate_per_s": round(achieved, 1),
        "exceptions": len(ids),
        "playbook_started": len(lags),
        "never_started_within_120_s": len(pending),
        # Exceptions the agents took from created to playbook started, per second of the span
        # from the first creation to the last PlaybookStarted (below the create rate: a backlog).
        "agent_throughput_per_s": round(len(lags) / (max(span) - min(span)), 1) if span else None,
        "lag_" + "p50_ms": _percentiles(lags)["p50_ms"],
        "lag_p95_ms": _percentiles(lags)["p95_ms"],
        "lag_p99_ms": _percentiles(lags)["p99_ms"],
        "lag_max_ms": round(max(lags) * 1000, 1) if lags else None,
    }


def _state_bytes(state_dir: Path) -> int:
    return sum(p.stat().st_size for p in state_dir.rglob("*") if p.is_file())


def _crash_recovery(stack: Any, token: str, target_bytes: int, limit_seconds: float) -> dict[str, Any]:
    """Grow the state to about ``target_bytes``, kill -9 the process group, time the restart."""
    deadline = time.monotonic() + limit_seconds
    index = 0
    while _state_bytes(stack.state_dir) < target_bytes and time.monotonic() < deadline:
        batch = [f"BULK-{index + i}" for i in range(32)]
        index += len(batch)
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda i: stack.request("POST", "/api/exceptions", body=_exception(i, 8000), token=token),
                    batch,
                )
            )
    time.sleep(2)  # let a snapshot-based stack write its file, so the baseline has state to restore
    size = _state_bytes(stack.state_dir)
    stack.crash()
    started = time.monotonic()
    stack.start(timeout=300)
    healthy = time.monotonic() - started
    answer = stack.get("/api/exceptions?limit=1", token=token)
    return {
        "state_bytes": size,
        "exceptions_written": index,
        "restart_to_healthy_s": round(healthy, 2),
        "restart_to_first_api_answer_s": round(time.monotonic() - started, 2),
        "first_answer_status": answer.status,
    }


def bench_local_stack_load() -> dict[str, Any]:
    harness = _harness()
    seconds = float(os.environ.get("BENCH_LOAD_SECONDS") or 4)
    root = Path(os.environ.get("BENCH_STACK_ROOT") or REPO_ROOT)
    harness.REPO_ROOT = root  # the harness starts ``python -m local.server`` in this checkout
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        stack = harness.StackProcess(Path(folder) / "state", seed=False)
        stack.start(timeout=120)
        try:
            admin = stack.token(TENANT, "ada", ["admin", "operator"])
            operator = stack.token(TENANT, "omar", ["operator"])
            _setup(stack, admin)

            # Warm-up: DynamoDB Local's JIT needs a few hundred calls; every environment sees each
            # operation (the figures are for a warm stack, as after a minute of use).
            def warm(i: int) -> None:
                stack.request("POST", "/api/exceptions", body=_exception(f"WARM-{i}"), token=operator)
                stack.get(f"/api/exceptions/WARM-{i}/playbook", token=operator)
                stack.get("/api/exceptions?limit=50", token=operator)

            with ThreadPoolExecutor(4) as pool:
                list(pool.map(warm, range(int(os.environ.get("BENCH_WARMUP") or 150))))
            time.sleep(2)
            results: dict[str, Any] = {"stack_root": str(root), "seconds_per_phase": seconds}
            for concurrency in CONCURRENCY:
                prefix = f"C{concurrency}"
                by_op: dict[str, Any] = {}
                by_op["create"] = Phase(concurrency, seconds).run(
                    lambda i, p=prefix: (
                        stack.request(
                            "POST", "/api/exceptions", body=_exception(f"{p}-{i}"), token=operator
                        ).status
                    )
                )
                created = by_op["create"]["requests"]
                by_op["agents_caught_up_s"] = _wait_for_playbooks(stack, operator, prefix, created)
                by_op["status"] = Phase(concurrency, seconds).run(
                    lambda i, p=prefix, n=created: (
                        stack.get(f"/api/exceptions/{p}-{i % max(1, n)}/playbook", token=operator).status
                    )
                )
                by_op["list"] = Phase(concurrency, seconds).run(
                    lambda i: stack.get("/api/exceptions?limit=50", token=operator).status
                )
                by_op["complete"] = Phase(concurrency, seconds).run(
                    lambda i, p=prefix: (
                        stack.request(
                            "POST",
                            f"/api/exceptions/{p}-{i}/playbook/steps/1/complete",
                            body={},
                            token=operator,
                        ).status
                    )
                )
                results[f"concurrency_{concurrency}"] = by_op
                print(f"concurrency {concurrency}: {by_op}", flush=True)
            rate = float(os.environ.get("BENCH_AGENT_RATE") or 30)
            results["agent_lag"] = _agent_lag(stack, operator, rate, seconds=max(10.0, seconds * 3))
            print(f"agent lag: {results['agent_lag']}", flush=True)
            results["crash_recovery"] = _crash_recovery(stack, operator, 10 * 1024 * 1024, limit_seconds=240)
            print(f"crash recovery: {results['crash_recovery']}", flush=True)
            return results
        finally:
            stack.stop()
