"""Count the AWS SDK calls a block of code makes: the cost budgets of ARCHITECTURE.md are asserted with it.

    from local.aws_calls import count_aws_calls

    with count_aws_calls() as calls:
        lambda_handler(event, context)
    assert calls.count("dynamodb") <= 2, calls.names

How: one botocore ``before-call`` hook (fires once per API operation, not per HTTP retry),
installed globally: appended to botocore's built-in handlers, so every session created
afterwards carries it (the same mechanism moto's ``mock_aws`` uses), and registered on
boto3's default session if that already exists. Clients copy their session's hooks when
they are created, so ``install()`` must run before the clients to count are created;
``count_aws_calls()`` installs on first use. Counting is per context (a ``ContextVar``):
each thread of a threaded server counts only its own request, and counters nest.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

_UNIQUE_ID = "exception-playbooks-local-aws-calls"

# Operations that change DynamoDB data: listeners use them to learn that something was written.
DYNAMODB_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem", "ExecuteStatement"}
)

CallListener = Callable[[str, str], None]


@dataclass
class AwsCallCount:
    """The calls seen inside one ``count_aws_calls()`` block, in order, as ``service.Operation``."""

    names: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.names)

    def count(self, service: str | None = None, operation: str | None = None) -> int:
        """Calls of one service (``"dynamodb"``) and/or one operation (``"GetItem"``)."""
        return sum(1 for name in self.names if _matches(name, service, operation))

    def by_operation(self) -> Counter[str]:
        return Counter(self.names)

    def _record(self, name: str) -> None:
        self.names.append(name)


_active: ContextVar[tuple[AwsCallCount, ...]] = ContextVar("local_aws_call_counters", default=())
_listeners: list[CallListener] = []
_install_lock = threading.Lock()
_installed = False


def _matches(name: str, service: str | None, operation: str | None) -> bool:
    svc, _, op = name.partition(".")
    return (service is None or svc == service) and (operation is None or op == operation)


def _call_name(model: Any, event_name: str) -> str:
    if model is not None:
        return f"{model.service_model.service_name}.{model.name}"
    # Fallback: "before-call.<service-id>.<Operation>"
    parts = event_name.split(".")
    return ".".join(parts[1:3]) if len(parts) >= 3 else event_name


def _on_before_call(model: Any = None, event_name: str = "", **_: Any) -> None:
    counters = _active.get()
    if counters:
        name = _call_name(model, event_name)
        for counter in counters:
            counter._record(name)


def _on_after_call(model: Any = None, event_name: str = "", **_: Any) -> None:
    if not _listeners:
        return
    service, _sep, operation = _call_name(model, event_name).partition(".")
    for listener in list(_listeners):
        # A listener must never break the SDK call it observes.
        with suppress(Exception):
            listener(service, operation)


def install() -> None:
    """Install the hooks once per process (idempotent). Call before creating the clients to count."""
    global _installed
    with _install_lock:
        if _installed:
            return
        import boto3
        from botocore import handlers

        handlers.BUILTIN_HANDLERS.append(("before-call", _on_before_call))
        handlers.BUILTIN_HANDLERS.append(("after-call", _on_after_call))
        if boto3.DEFAULT_SESSION is not None:
            # Sessions that exist already did not see BUILTIN_HANDLERS; register on them directly.
            core = boto3.DEFAULT_SESSION._session
            core.register("before-call", _on_before_call, unique_id=f"{_UNIQUE_ID}-before")
            core.register("after-call", _on_after_call, unique_id=f"{_UNIQUE_ID}-after")
        _installed = True


def add_listener(listener: CallListener) -> Callable[[], None]:
    """Call ``listener(service, operation)`` after every AWS call in the process; returns a remover."""
    install()
    _listeners.append(listener)

    def remove() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return remove


@contextmanager
def count_aws_calls(*, isolated: bool = False) -> Iterator[AwsCallCount]:
    """Count the AWS SDK calls made in this context (this thread / task) while the block runs.

    ``isolated``: only this counter sees the calls (the enclosing ones get them via ``replay``).
    """
    install()
    counter = AwsCallCount()
    token = _active.set((counter,) if isolated else (*_active.get(), counter))
    try:
        yield counter
    finally:
        _active.reset(token)


def replay(names: tuple[str, ...] | list[str], *, notify: bool = True) -> None:
    """Calls made elsewhere (another process: an execution environment) on behalf of this context.

    They are added to every active counter of this context and, with ``notify``, reported to the
    listeners as if they had been made here.
    """
    counters = _active.get()
    for name in names:
        for counter in counters:
            counter._record(name)
        if notify and _listeners:
            service, _sep, operation = name.partition(".")
            for listener in list(_listeners):
                with suppress(Exception):
                    listener(service, operation)
