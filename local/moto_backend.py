"""moto for the local stack: in-process (default) or as a threaded server, every call serialised.

DynamoDB applies each call atomically; moto does not promise that under threads, so both modes
run one call at a time (a whole TransactWriteItems included):

- ``InProcessMoto`` (default): ``mock_aws`` intercepts every boto3 client of this process; the
  stub that turns a request into a backend call is wrapped in a lock. No sockets: a call costs
  about a millisecond instead of a TCP connection and GIL ping-pong with a server thread.
- ``MotoServer`` (``LOCAL_MOTO=server``): moto's WSGI app on 127.0.0.1 (a free port), wrapped
  in a lock; clients reach it through AWS_ENDPOINT_URL. Handy for poking at the data with the
  AWS CLI while the stack runs.

Both also install ``moto_speedups`` (constant-time transactions, fast item reads), which rely on
the lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

log = logging.getLogger("local.moto")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class MotoBackend(Protocol):
    @property
    def endpoint(self) -> str | None: ...

    def start(self) -> str | None: ...

    def stop(self) -> None: ...


class SerializedApp:
    """A WSGI middleware that runs one request at a time."""

    def __init__(self, app: WsgiApp):
        self._app = app
        self._lock = threading.Lock()
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        with self._lock:
            self.calls += 1
            result = self._app(environ, start_response)
            try:
                return [b"".join(result)]  # the body is produced before the lock is released
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


_STUB_LOCK = threading.RLock()


def _serialize_in_process_calls() -> None:
    """Wrap moto's request stub (botocore and ``requests`` paths both go through it) in one lock."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.process_request
    if getattr(original, "_local_serialized", False):
        return

    def process_request(self: Any, request: Any) -> Any:
        with _STUB_LOCK:
            return original(self, request)

    process_request._local_serialized = True  # type: ignore[attr-defined]
    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]


class InProcessMoto:
    def __init__(self) -> None:
        self._mock: Any = None

    @property
    def endpoint(self) -> str | None:
        return None

    def start(self) -> str | None:
        from moto import mock_aws

        from . import moto_speedups

        _serialize_in_process_calls()
        moto_speedups.install()
        self._mock = mock_aws()
        self._mock.start()
        log.info("moto running in-process (mock_aws)")
        return None

    def stop(self) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None


class MotoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._host = host
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.app: SerializedApp | None = None

    @property
    def endpoint(self) -> str | None:
        if self._server is None:
            return None
        return f"http://{self._host}:{self._server.server_port}"

    def start(self) -> str | None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from . import moto_speedups

        moto_speedups.install()
        # moto's request handler logs every call at INFO through werkzeug; keep the console readable.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.app = SerializedApp(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._host, self._port, self.app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-moto", daemon=True)
        self._thread.start()
        log.info("moto listening on %s", self.endpoint)
        return self.endpoint

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None
        self._thread = None


def make_backend(mode: str) -> MotoBackend:
    if mode == "server":
        return MotoServer()
    if mode in ("", "inprocess", "in-process"):
        return InProcessMoto()
    raise ValueError(f"LOCAL_MOTO must be 'inprocess' or 'server', not {mode!r}")
