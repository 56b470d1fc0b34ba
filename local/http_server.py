"""The local stack's HTTP front door: UI, API (with the Cognito authorizer), tokens, health.

``LocalApp.handle`` is a plain function of a request (unit-testable without sockets);
``serve`` puts it behind a ``ThreadingHTTPServer`` bound to 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .apigw import HttpRequest, HttpResponse, error_response, json_response
from .auth import InvalidToken, LocalIssuer, TokenRequest, TokenRequestInvalid, authorizer_claims
from .gateway import NO_AWS_COST, Gateway
from .static import StaticFiles, docs_page, openapi_document

log = logging.getLogger("local.http")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit; the API's own 256 KiB is the handlers' rule
PUBLIC_API_PATHS = frozenset({"/api/openapi.json", "/api/docs"})
LISTEN_BACKLOG = 512
SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_ERROR_CODES = {
    400: "BAD_REQUEST",
    408: "REQUEST_TIMEOUT",
    413: "PAYLOAD_TOO_LARGE",
    414: "URI_TOO_LONG",
    431: "REQUEST_HEADER_FIELDS_TOO_LARGE",
    501: "NOT_IMPLEMENTED",
    505: "HTTP_VERSION_NOT_SUPPORTED",
}


class _BodyRejected(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.response = error_response(status, code, message)


@dataclass
class LocalApp:
    gateway: Gateway
    issuer: LocalIssuer
    static: StaticFiles
    openapi_path: Path
    ready: threading.Event = field(default_factory=threading.Event)
    dead_letters: Callable[[], list[dict[str, Any]]] = list
    deliveries: Callable[[], list[dict[str, Any]]] = list

    def handle(self, request: HttpRequest) -> HttpResponse:
        path, method = request.path, request.method.upper()
        if path == "/healthz":
            if self.ready.is_set():
                return json_response(200, {"status": "ok"})
            return json_response(503, {"status": "starting"})
        if path.startswith("/local/"):
            return self._local(method, path, request)
        if path == "/api" or path.startswith("/api/"):
            return self._api(method, path, request)
        if method in ("GET", "HEAD"):
            return self.static.get(path, request.header("If-None-Match"), head=method == "HEAD")
        return error_response(
            405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}", headers=[("Allow", "GET, HEAD")]
        )

    def _api(self, method: str, path: str, request: HttpRequest) -> HttpResponse:
        if path in PUBLIC_API_PATHS:
            if method not in ("GET", "HEAD"):
                response = error_response(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}")
            else:
                response = openapi_document(self.openapi_path) if path.endswith(".json") else docs_page()
            response.headers.extend(NO_AWS_COST)
            return response
        if not self.ready.is_set():
            return error_response(
                503,
                "STARTING",
                "The local stack is still starting; retry shortly",
                headers=[("Retry-After", "1"), *NO_AWS_COST],
            )
        try:
            claims = self.issuer.verify_header(request.header("Authorization"))
        except InvalidToken as error:
            # API Gateway's authorizer answers before any handler runs.
            return error_response(401, "UNAUTHORIZED", str(error), headers=list(NO_AWS_COST))
        return self.gateway.invoke(request, authorizer_claims(claims))

    def _local(self, method: str, path: str, request: HttpRequest) -> HttpResponse:
        if path == "/local/token":
            if method != "POST":
                return error_response(
                    405, "METHOD_NOT_ALLOWED", "Use POST /local/token", headers=[("Allow", "POST")]
                )
            try:
                body = json.loads(request.body or b"null")
            except ValueError:
                return error_response(
                    422,
                    "VALIDATION_ERROR",
                    "The body must be JSON",
                    details={"errors": [{"path": "", "message": "invalid JSON"}]},
                )
            try:
                token_request = TokenRequest.parse(body)
            except TokenRequestInvalid as error:
                return error_response(
                    422,
                    "VALIDATION_ERROR",
                    "The token request is invalid",
                    details={"errors": error.problems},
                )
            return json_response(200, {"token": self.issuer.issue(token_request)})
        if path == "/local/dead-letters" and method == "GET":
            return json_response(200, {"items": self.dead_letters()})
        if path == "/local/deliveries" and method == "GET":
            return json_response(200, {"items": self.deliveries()})
        return error_response(404, "NOT_FOUND", f"No route for {method} {path}")


class _Handler(BaseHTTPRequestHandler):
    app: LocalApp  # set on the subclass made by ``serve``
    protocol_version = "HTTP/1.1"
    server_version = "ExceptionPlaybooksLocal/1"
    timeout = 60  # drop idle keep-alive connections

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        try:
            body = self._read_body()
        except _BodyRejected as rejected:
            self._write(rejected.response, close=True)
            return
        request = HttpRequest(
            method=self.command,
            path=split.path or "/",
            query=tuple(parse_qsl(split.query, keep_blank_values=True)),
            headers=tuple(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
        )
        try:
            response = self.app.handle(request)
        except Exception:
            log.exception("unhandled error serving %s %s", self.command, self.path)
            response = error_response(
                500, "LOCAL_STACK_ERROR", "The local stack failed on this request (see its log)"
            )
        self._write(response, head=self.command == "HEAD")

    def _read_body(self) -> bytes:
        """The body by Content-Length or chunked transfer coding, at most MAX_BODY_BYTES of it."""
        coding = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        if coding:
            if coding != "chunked":
                raise _BodyRejected(501, "NOT_IMPLEMENTED", f"Transfer-Encoding {coding!r} is not supported")
            return self._read_chunks()
        length_header = self.headers.get("Content-Length")
        try:
            length = int(length_header) if length_header else 0
        except ValueError:
            raise _BodyRejected(400, "BAD_REQUEST", "Invalid Content-Length") from None
        if length < 0:
            raise _BodyRejected(400, "BAD_REQUEST", "Invalid Content-Length")
        if length > MAX_BODY_BYTES:
            raise _BodyRejected(413, "PAYLOAD_TOO_LARGE", "The request body is over 10 MiB")
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunks(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BodyRejected(400, "BAD_REQUEST", "Malformed chunked request body") from None
            if size < 0:
                raise _BodyRejected(400, "BAD_REQUEST", "Malformed chunked request body")
            if size == 0:
                # Trailer fields (ignored) up to the empty line that ends the message.
                while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BodyRejected(413, "PAYLOAD_TOO_LARGE", "The request body is over 10 MiB")
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise _BodyRejected(400, "BAD_REQUEST", "The chunked request body ended early")
            parts.append(chunk)
            self.rfile.readline(8)  # the CRLF after the chunk

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, unknown method, huge headers) in the error shape."""
        if code == 501 and self.command and not hasattr(self, f"do_{self.command}"):
            response = error_response(
                405,
                "METHOD_NOT_ALLOWED",
                f"{self.command} is not supported",
                headers=[("Allow", ", ".join(SUPPORTED_METHODS))],
            )
        else:
            code_name = _ERROR_CODES.get(code, "BAD_REQUEST")
            response = error_response(code, code_name, message or explain or "The request is malformed")
        if not getattr(self, "request_version", None) or self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.1"  # answer with a status line and headers, never bare HTML
        self._write(response, close=True)

    def _write(self, response: HttpResponse, *, head: bool = False, close: bool = False) -> None:
        self.send_response(response.status)
        has_length = False
        for name, value in response.headers:
            has_length = has_length or name.lower() == "content-length"
            self.send_header(name, value)
        if not has_length:
            self.send_header("Content-Length", str(len(response.body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not head and response.body:
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class LocalHttpServer(ThreadingHTTPServer):
    daemon_threads = True  # open keep-alive connections must not hold up shutdown
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG  # socketserver's default (5) resets bursts of new connections


def serve(app: LocalApp, host: str, port: int) -> tuple[LocalHttpServer, threading.Thread]:
    """Bind (raises OSError if the port is taken) and serve on a background thread."""
    handler = type("LocalRequestHandler", (_Handler,), {"app": app})
    server = LocalHttpServer((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, name="local-http", daemon=True)
    thread.start()
    return server, thread
