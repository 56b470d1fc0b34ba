"""Where handler code runs: Lambda-like execution environments that handle one request at a time.

In AWS every Lambda execution environment runs one invocation at a time, so module-level state
of a handler (the Powertools resolver and its current event, the principal appended to it, the
logger's keys and correlation id, the metrics being collected) is never seen by two requests at
once. The local stack keeps that guarantee by running handlers in a pool of worker processes
(``ProcessPoolRunner``): a request borrows one whole process, nothing of it is shared with a
request running concurrently, and the two cores of a small machine are both used.

``InProcessRunner`` runs the handler in the calling thread: for single-threaded callers (unit
tests with moto's in-process ``mock_aws``).

Both return an ``Invocation``: the handler's result or its failure, and the AWS calls it made
(counted inside the environment, replayed into the caller's ``count_aws_calls`` counters).
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from . import aws_calls, capacity
from .lambda_runtime import FunctionRegistry, HandlerLoadFailed, HandlerMissing

log = logging.getLogger("local.environments")

OK, MISSING, LOAD_FAILED, RAISED = "ok", "missing", "load_failed", "raised"
FUNCTIONS_DIR_ENV = "LOCAL_FUNCTIONS_DIR"
BARRIER_ENV = "LOCAL_BARRIER_TABLE"  # set: wait for DynamoDB Local's commit before answering


@dataclass(frozen=True)
class Invocation:
    """What one handler run produced (picklable: it crosses the process boundary)."""

    outcome: str  # OK | MISSING | LOAD_FAILED | RAISED
    result: Any = None
    error: str = ""  # the message (MISSING / LOAD_FAILED) or the traceback (RAISED)
    aws_calls: tuple[str, ...] = ()
    capacity: tuple[float, float] = (0.0, 0.0)  # DynamoDB (read, write) units, as DynamoDB reported
    # Which execution environment ran it (its process id): each has its own warm caches.
    environment: str = field(default_factory=lambda: f"pid-{os.getpid()}")

    @property
    def ok(self) -> bool:
        return self.outcome == OK


class Runner(Protocol):
    def run(self, group: str, handler: str, event: dict[str, Any], context: Any) -> Invocation: ...


def invoke(
    registry: FunctionRegistry, group: str, handler: str, event: dict[str, Any], context: Any
) -> Invocation:
    """Run ``<group>/handler.py:<handler>(event, context)`` here, counting its AWS calls."""
    with aws_calls.count_aws_calls(isolated=True) as counter, capacity.measure() as meter:
        try:
            function = registry.handler(group, handler)
        except HandlerMissing as error:
            return Invocation(MISSING, error=str(error))
        except HandlerLoadFailed as error:
            return Invocation(LOAD_FAILED, error=str(error))
        try:
            result = function(event, context)
        except Exception as error:
            detail = traceback.format_exc(limit=12)
            return Invocation(
                RAISED,
                error=f"{type(error).__name__}: {error}\n{detail}",
                aws_calls=tuple(counter.names),
                capacity=(meter.read, meter.write),
            )
    return Invocation(OK, result=result, aws_calls=tuple(counter.names), capacity=(meter.read, meter.write))


class InProcessRunner:
    """Runs handlers in the calling thread (one caller at a time: module state is shared)."""

    def __init__(self, registry: FunctionRegistry):
        self.registry = registry

    def run(self, group: str, handler: str, event: dict[str, Any], context: Any) -> Invocation:
        invocation = invoke(self.registry, group, handler, event, context)
        # The listeners saw these calls as they happened (same process); only the counters need them.
        aws_calls.replay(invocation.aws_calls, notify=False)
        return invocation


# ------------------------------------------------------------------ inside a worker process

_registry: FunctionRegistry | None = None


def _worker_registry() -> FunctionRegistry:
    global _registry
    if _registry is None:
        _registry = FunctionRegistry(Path(os.environ.get(FUNCTIONS_DIR_ENV) or _default_functions_dir()))
    return _registry


def _default_functions_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "functions"


def preload(groups: list[str] | None = None) -> None:
    """Import every handler once in the fork server, so each forked environment starts warm.

    The call counter is installed first: handlers may create their clients at import time.
    """
    aws_calls.install()
    capacity.install()
    registry = _worker_registry()
    if groups is None:
        folder = registry.functions_dir
        groups = (
            sorted(p.name for p in folder.iterdir() if (p / "handler.py").is_file())
            if folder.is_dir()
            else []
        )
    registry.warm(groups)


def _init_worker() -> None:  # pragma: no cover - runs in the worker processes
    from .dynamodb_local import die_with_parent

    die_with_parent()  # the fork server is our parent; it ends when the stack does
    aws_calls.install()
    capacity.install()


def _run_in_worker(
    group: str, handler: str, event: dict[str, Any], context: Any, barrier: bool = True
) -> Invocation:  # pragma: no cover
    invocation = invoke(_worker_registry(), group, handler, event, context)
    if barrier and any(_is_dynamodb_write(name) for name in invocation.aws_calls):
        durability_barrier()
    return invocation


def _is_dynamodb_write(name: str) -> bool:
    service, _, operation = name.partition(".")
    return service == "dynamodb" and operation in aws_calls.DYNAMODB_WRITES


_barrier_client: Any = None


def durability_barrier() -> None:
    """Return only once DynamoDB Local has committed the writes it already answered.

    DynamoDB Local answers a TransactWriteItems before its SQLite COMMIT has run: the COMMIT is
    queued on its single database queue and runs a moment later (``commitTransaction`` does not
    wait for it). Killed in that moment, it loses a write it acknowledged (3 of 3 kill -9 trials
    lost the last acknowledged transaction). A PutItem waits for its own job on that queue, which
    runs after the queued COMMIT; so after a handler that wrote, one PutItem of a fixed item in a
    local-only table (``LOCAL_BARRIER_TABLE``) before the answer leaves the stack (0 of 3 lost).
    It is not one of the handler's AWS calls, nor counted as one.
    """
    global _barrier_client
    table = os.environ.get(BARRIER_ENV)
    if not table:
        return
    if _barrier_client is None:
        import boto3

        _barrier_client = boto3.client("dynamodb", region_name=os.environ.get("AWS_REGION", "us-east-1"))
    _barrier_client.put_item(TableName=table, Item={"pk": {"S": "barrier"}})


def _ping() -> int:  # pragma: no cover - runs in the worker processes
    return os.getpid()


class ProcessPoolRunner:
    """``workers`` execution environments (processes forked from a warm fork server).

    A request waits for a free environment when all are busy (like reserved concurrency).
    A dead environment (e.g. a handler that crashed the interpreter) fails its request with
    an error and the pool is rebuilt for the next ones.

    ``barrier``: after a handler that wrote, wait for DynamoDB Local's commit before returning
    (``durability_barrier``): needed where the answer acknowledges the write to a client (the
    API). The agents' environments skip it: nobody sees their answer, and the dispatcher runs
    one barrier per delivered batch before its checkpoint moves past the batch instead.
    """

    def __init__(self, workers: int, *, name: str = "local", barrier: bool = True):
        self.workers = max(1, workers)
        self.name = name
        self.barrier = barrier
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Fork every environment now (off the request path); returns when all answer."""
        pool = self._ensure_pool()
        pings: list[Future[int]] = [pool.submit(_ping) for _ in range(self.workers)]
        for ping in pings:
            ping.result()

    def _ensure_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                import multiprocessing

                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["local.environment_preload"])
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=context, initializer=_init_worker
                )
            return self._pool

    def run(self, group: str, handler: str, event: dict[str, Any], context: Any) -> Invocation:
        pool = self._ensure_pool()
        try:
            invocation = pool.submit(_run_in_worker, group, handler, event, context, self.barrier).result()
        except BrokenProcessPool as error:
            log.error("a %s execution environment died (%s); starting fresh ones", self.name, error)
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return Invocation(RAISED, error=f"the execution environment died: {error}")
        aws_calls.replay(invocation.aws_calls)
        capacity.replay(*invocation.capacity)
        return invocation

    def stop(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def stop_fork_server() -> None:
    """End the fork server and resource tracker now, not when this process exits (no orphans)."""
    from multiprocessing import forkserver, resource_tracker

    for helper in (forkserver._forkserver, resource_tracker._resource_tracker):
        stop = getattr(helper, "_stop", None)
        if stop is not None:
            stop()
