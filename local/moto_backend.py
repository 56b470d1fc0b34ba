"""moto as the local stack's EventBridge (the bus the notification relay publishes to).

DynamoDB is AWS's own DynamoDB Local (``dynamodb_local.py``); only ``PutEvents`` and the bus
itself come from moto, run as its WSGI server on a free loopback port (clients reach it through
``AWS_ENDPOINT_URL_EVENTBRIDGE``), one call at a time (each call atomic, as in AWS).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("local.moto")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


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

        # moto's request handler logs every call at INFO through werkzeug; keep the console readable.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.app = SerializedApp(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._host, self._port, self.app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-moto", daemon=True)
        self._thread.start()
        log.info("moto (EventBridge) listening on %s", self.endpoint)
        return self.endpoint

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None
        self._thread = None
