"""local.http_server.LocalApp and local.static: the front door, without sockets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.apigw import HttpRequest
from local.auth import LocalIssuer, TokenRequest
from local.gateway import AWS_CALLS_HEADER, Gateway
from local.http_server import LocalApp
from local.lambda_runtime import FunctionRegistry
from local.static import StaticFiles, safe_join

SECRET = b"k" * 32


@pytest.fixture
def app(tmp_path: Path) -> LocalApp:
    functions = tmp_path / "functions" / "exceptions"
    functions.mkdir(parents=True)
    (functions / "handler.py").write_text(
        "import json\n"
        "def lambda_handler(event, context):\n"
        "    claims = event['requestContext']['authorizer']['claims']\n"
        "    return {'statusCode': 200, 'body': json.dumps(claims)}\n"
    )
    ui = tmp_path / "ui"
    (ui / "js").mkdir(parents=True)
    (ui / "index.html").write_text("<!doctype html><title>UI</title>")
    (ui / "js" / "app.js").write_text("console.log(1)")
    (ui / "styles.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("outside")
    local_app = LocalApp(
        gateway=Gateway(FunctionRegistry(tmp_path / "functions")),
        issuer=LocalIssuer(SECRET),
        static=StaticFiles(ui),
        openapi_path=tmp_path / "openapi.json",
        dead_letters=lambda: [{"agent": "TriageAgent"}],
    )
    local_app.ready.set()
    return local_app


def _get(app: LocalApp, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    response = app.handle(HttpRequest("GET", path, headers=tuple(headers.items())))
    return response.status, dict(response.headers), response.body


def _token(app: LocalApp, **body: object) -> str:
    payload = {"tenant_id": "acme", "username": "alice", "roles": ["operator"], **body}
    response = app.handle(HttpRequest("POST", "/local/token", body=json.dumps(payload).encode()))
    assert response.status == 200, response.body
    return str(response.json()["token"])


def test_healthz_answers_once_ready(app: LocalApp) -> None:
    assert _get(app, "/healthz")[0] == 200
    app.ready.clear()
    status, _, body = _get(app, "/healthz")
    assert status == 503 and json.loads(body) == {"status": "starting"}


def test_token_then_api_call_carries_the_claims(app: LocalApp) -> None:
    token = _token(app, roles=["viewer", "operator"])
    status, headers, body = _get(app, "/api/exceptions", Authorization=f"Bearer {token}")
    assert status == 200
    claims = json.loads(body)
    assert claims["custom:tenant_id"] == "acme"
    assert claims["cognito:username"] == "alice"
    assert claims["cognito:groups"] == "viewer,operator"
    assert headers[AWS_CALLS_HEADER] == "0"


def test_invalid_token_requests_are_422(app: LocalApp) -> None:
    for body in (b"not json", b'{"tenant_id": "acme"}', b'{"tenant_id":"a","username":"u","roles":["god"]}'):
        response = app.handle(HttpRequest("POST", "/local/token", body=body))
        assert response.status == 422
        assert response.json()["code"] == "VALIDATION_ERROR"
        assert response.json()["details"]["errors"]
    assert app.handle(HttpRequest("GET", "/local/token")).status == 405


@pytest.mark.parametrize("authorization", [None, "Bearer nope", "Token abc"])
def test_api_without_a_valid_token_is_401_before_any_handler(
    app: LocalApp, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    status, response_headers, body = _get(app, "/api/exceptions", **headers)
    assert status == 401
    assert json.loads(body)["code"] == "UNAUTHORIZED"
    assert response_headers[AWS_CALLS_HEADER] == "0"


def test_expired_token_is_401(app: LocalApp) -> None:
    expired = LocalIssuer(SECRET, clock=lambda: 1_000_000).issue(TokenRequest("acme", "alice", ("viewer",)))
    status, _, body = _get(app, "/api/exceptions", Authorization=f"Bearer {expired}")
    assert status == 401 and "expired" in json.loads(body)["message"]


def test_unknown_api_route_is_404_after_auth(app: LocalApp) -> None:
    token = _token(app)
    status, _, body = _get(app, "/api/nowhere", Authorization=f"Bearer {token}")
    assert status == 404 and json.loads(body)["code"] == "NOT_FOUND"


def test_openapi_and_docs_are_public(app: LocalApp) -> None:
    status, _, body = _get(app, "/api/openapi.json")
    assert status == 404 and json.loads(body)["code"] == "NOT_FOUND"
    app.openapi_path.write_text('{"openapi": "3.1.0", "paths": {}}')
    status, headers, body = _get(app, "/api/openapi.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["openapi"] == "3.1.0"
    status, headers, body = _get(app, "/api/docs")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"/api/openapi.json" in body and b"https://" not in body  # self-contained: no CDN


def test_ui_files_with_content_types(app: LocalApp) -> None:
    status, headers, body = _get(app, "/")
    assert status == 200 and body.startswith(b"<!doctype html>")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert _get(app, "/js/app.js")[1]["Content-Type"] == "text/javascript; charset=utf-8"
    assert _get(app, "/styles.css")[1]["Content-Type"] == "text/css; charset=utf-8"
    status, headers, _ = _get(app, "/js/app.js")
    assert _get(app, "/js/app.js", **{"If-None-Match": headers["ETag"]})[0] == 304
    assert _get(app, "/missing.js")[0] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/js/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/js/%2E%2E/%2E%2E/secret.txt",
        "/..%5csecret.txt",
    ],
)
def test_no_directory_traversal(app: LocalApp, path: str) -> None:
    status, _, body = _get(app, path)
    assert status == 404 and b"outside" not in body


def test_safe_join_stays_inside_the_root(tmp_path: Path) -> None:
    (tmp_path / "ui").mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (tmp_path / "ui" / "link").symlink_to(outside)
    assert safe_join(tmp_path / "ui", "/link/x") is None
    assert safe_join(tmp_path / "ui", "/a/b.js") == (tmp_path / "ui" / "a" / "b.js").resolve()
    assert safe_join(tmp_path / "ui", "/a\x00") is None


def test_writes_to_static_paths_are_405(app: LocalApp) -> None:
    assert app.handle(HttpRequest("POST", "/index.html")).status == 405


def test_dead_letters_are_listed(app: LocalApp) -> None:
    status, _, body = _get(app, "/local/dead-letters")
    assert status == 200 and json.loads(body) == {"items": [{"agent": "TriageAgent"}]}
