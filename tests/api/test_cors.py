"""CORS for the deployed UI: API answers (and the guard's early 401/403) name the UI's origin.

API Gateway's proxy integration passes responses through untouched, so the functions must add
the CORS headers themselves; the origin comes from ``CORS_ALLOW_ORIGIN`` (set by the CDK stack).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from exception_playbooks.config import reset_settings

from .conftest import claims, invoke, make_context, proxy_event

UI_ORIGIN = "https://d111111abcdef8.cloudfront.net"
STATUS = "/api/exceptions/{exception_id}/playbook"


@pytest.fixture
def status_handler(monkeypatch: pytest.MonkeyPatch, repos: Any) -> Any:
    """A fresh copy of functions/status/handler.py built while CORS_ALLOW_ORIGIN is set."""
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", UI_ORIGIN)
    reset_settings()
    path = Path(__file__).resolve().parents[2] / "functions" / "status" / "handler.py"
    spec = importlib.util.spec_from_file_location("_cors_test_status_handler", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)
    monkeypatch.delenv("CORS_ALLOW_ORIGIN")
    reset_settings()


def _call(handler: Any, **kwargs: Any) -> dict[str, Any]:
    event = proxy_event(
        "GET", STATUS, path_parameters={"exception_id": "EX-1"}, headers={"Origin": UI_ORIGIN}, **kwargs
    )
    result: dict[str, Any] = handler.lambda_handler(event, make_context("cors-tests"))
    return result


def _headers(result: dict[str, Any]) -> dict[str, str]:
    merged = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        merged[name.lower()] = values[-1]
    return merged


def test_answers_from_the_resolver_carry_the_ui_origin(status_handler: Any) -> None:
    result = _call(status_handler, claims=claims(roles=("viewer",)))
    assert result["statusCode"] == 404  # no such exception: still readable by the browser
    assert _headers(result)["access-control-allow-origin"] == UI_ORIGIN


def test_the_guards_early_answers_carry_the_ui_origin(status_handler: Any) -> None:
    result = _call(status_handler)  # no claims: 401 before the resolver runs
    assert result["statusCode"] == 401
    assert _headers(result)["access-control-allow-origin"] == UI_ORIGIN


def test_without_a_configured_origin_no_cors_headers_are_sent(repos: Any) -> None:
    event = proxy_event(
        "GET",
        STATUS,
        path_parameters={"exception_id": "EX-1"},
        headers={"Origin": UI_ORIGIN},
        claims=claims(roles=("viewer",)),
    )
    response = invoke("status", event)
    assert response.status == 404
    assert "access-control-allow-origin" not in {k.lower() for k in response.headers}
