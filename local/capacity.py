"""Measure the DynamoDB capacity a block of code consumes, as DynamoDB reports it.

    from local import capacity

    capacity.install()                 # before the clients to measure are created
    with capacity.measure() as meter:
        lambda_handler(event, context)
    meter.read, meter.write, meter.calls  # capacity units and DynamoDB calls of this block

How: two botocore hooks. ``before-parameter-build.dynamodb`` adds ``ReturnConsumedCapacity=TOTAL``
to every DynamoDB operation whose input accepts it (GetItem, Query, BatchGetItem, TransactWriteItems,
…) unless the caller asked for something itself; ``after-call.dynamodb`` adds the ``ConsumedCapacity``
of the answer to every meter active in the calling context. Both do nothing when no meter is
active, so installing them changes no request made outside ``measure()``.

Which numbers: DynamoDB Local computes capacity the way DynamoDB bills it (reads in 4 KB units,
halved when eventually consistent; writes in 1 KB units; transactions doubled; index writes
included). moto answers with no or made-up capacity, so measure against DynamoDB Local
(``local/dynamodb_local.py``). An answer that carries ``ReadCapacityUnits``/``WriteCapacityUnits``
is split by them; one carrying only ``CapacityUnits`` counts as read or write by its operation.

Meters live in a ``ContextVar``: each thread of a threaded server measures only its own request,
meters nest, and nothing per request is kept in module state.

Hooks are installed globally (``install()``: appended to botocore's built-in handlers, so every
session created afterwards carries them, like ``local.aws_calls``) or on one client
(``register(client)``). Doing both never counts a call twice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

HEADER = "X-Local-Aws-Capacity"
_UNIQUE_ID = "exception-playbooks-local-capacity"
_COUNTED = "exception_playbooks_capacity_counted"  # marks a request context already measured

READ_OPERATIONS = frozenset(
    {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"},
)
WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"},
)


@dataclass
class CapacityMeter:
    """Capacity units and DynamoDB calls seen inside one ``measure()`` block."""

    read: float = 0.0
    write: float = 0.0
    calls: int = 0
    by_operation: dict[str, list[float]] = field(default_factory=dict)  # name -> [calls, read, write]

    @property
    def total(self) -> float:
        return self.read + self.write

    def header_value(self) -> str:
        """The ``X-Local-Aws-Capacity`` value: ``read=R; write=W`` (units, up to 2 decimals)."""
        return f"read={_fmt(self.read)}; write={_fmt(self.write)}"

    def _add(self, operation: str, read: float, write: float) -> None:
        self.read += read
        self.write += write
        self.calls += 1
        entry = self.by_operation.setdefault(operation, [0, 0.0, 0.0])
        entry[0] += 1
        entry[1] += read
        entry[2] += write


_active: ContextVar[tuple[CapacityMeter, ...]] = ContextVar("local_capacity_meters", default=())
_install_lock = threading.Lock()
_installed = False


def _fmt(units: float) -> str:
    return f"{units:.2f}".rstrip("0").rstrip(".") or "0"


def _accepts_capacity(model: Any) -> bool:
    shape = getattr(model, "input_shape", None)
    return shape is not None and "ReturnConsumedCapacity" in shape.members


def _on_before_parameter_build(params: Any = None, model: Any = None, **_: Any) -> None:
    if not _active.get() or not isinstance(params, dict) or not _accepts_capacity(model):
        return
    params.setdefault("ReturnConsumedCapacity", "TOTAL")


def split_units(operation: str, consumed: Any) -> tuple[float, float]:
    """(read, write) units of one answer's ``ConsumedCapacity`` (a dict, or a list for batches)."""
    entries = consumed if isinstance(consumed, list) else [consumed] if isinstance(consumed, dict) else []
    read = write = 0.0
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if "ReadCapacityUnits" in entry or "WriteCapacityUnits" in entry:
            read += float(entry.get("ReadCapacityUnits") or 0)
            write += float(entry.get("WriteCapacityUnits") or 0)
        elif operation in WRITE_OPERATIONS:
            write += float(entry.get("CapacityUnits") or 0)
        else:
            read += float(entry.get("CapacityUnits") or 0)
    return read, write


def _on_after_call(parsed: Any = None, model: Any = None, context: Any = None, **_: Any) -> None:
    meters = _active.get()
    if not meters:
        return
    if isinstance(context, dict):
        if context.get(_COUNTED):
            return  # both the global and a per-client hook fired for this call
        context[_COUNTED] = True
    operation = getattr(model, "name", "") or ""
    consumed = parsed.get("ConsumedCapacity") if isinstance(parsed, dict) else None
    read, write = split_units(operation, consumed)
    for meter in meters:
        meter._add(operation, read, write)


def install() -> None:
    """Install the hooks once per process (idempotent). Call before creating the clients to measure."""
    global _installed
    with _install_lock:
        if _installed:
            return
        import boto3
        from botocore import handlers

        handlers.BUILTIN_HANDLERS.append(("before-parameter-build.dynamodb", _on_before_parameter_build))
        handlers.BUILTIN_HANDLERS.append(("after-call.dynamodb", _on_after_call))
        if boto3.DEFAULT_SESSION is not None:
            register_session(boto3.DEFAULT_SESSION._session)
        _installed = True


def register_session(session: Any) -> None:
    """Install the hooks on one botocore session (clients it creates afterwards are measured)."""
    session.register(
        "before-parameter-build.dynamodb", _on_before_parameter_build, unique_id=f"{_UNIQUE_ID}-params"
    )
    session.register("after-call.dynamodb", _on_after_call, unique_id=f"{_UNIQUE_ID}-after")


def register(client: Any) -> Any:
    """Install the hooks on one existing DynamoDB client; returns the client."""
    events = client.meta.events
    events.register(
        "before-parameter-build.dynamodb", _on_before_parameter_build, unique_id=f"{_UNIQUE_ID}-params"
    )
    events.register("after-call.dynamodb", _on_after_call, unique_id=f"{_UNIQUE_ID}-after")
    return client


def replay(read: float, write: float) -> None:
    """Add units measured elsewhere (another process's environment) to the meters active here."""
    for meter in _active.get():
        meter.read += read
        meter.write += write


@contextmanager
def measure() -> Iterator[CapacityMeter]:
    """Sum the capacity DynamoDB reports for the calls made in this context while the block runs.

    Only clients carrying the hooks are measured: call ``install()`` before creating them, or
    ``register(client)``.
    """
    meter = CapacityMeter()
    token = _active.set((*_active.get(), meter))
    try:
        yield meter
    finally:
        _active.reset(token)
