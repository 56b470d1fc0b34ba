"""Shared fixtures of the API tests (every function group): moto tables, real proxy events, handlers.

What is here, for any ``functions/<group>/handler.py``:

- ``aws``: a moto ``mock_aws`` DynamoDB with both tables, created with ``local.tables.create_tables``
  (the one definition the local stack uses; it mirrors infra). Yields the DynamoDB client (one per
  session, fresh tables per test); ``repos`` uses it too.
- ``repos``: the repositories bundle over that DynamoDB with a ticking clock (each read moves it
  one second, so ``created_at`` orders are deterministic) and sequential ids. Handlers that call
  ``bundle.default_repositories()`` through the module get exactly this bundle (it is patched).
- ``api``: an :class:`ApiClient` that builds API Gateway REST proxy events (payload 1.0) with
  Cognito authorizer claims, invokes the handler of the route's function group with a fake
  Lambda context, and returns an :class:`ApiResponse`. ``api.call(...)`` resolves the route from
  ``routes.ROUTES``; ``proxy_event(...)`` and ``invoke(...)`` are usable on their own.
- ``snapshot(client)``: every item of both tables, to prove that a request wrote nothing.
- seeding helpers: ``seed_playbook`` and ``seed_packs`` write straight through the repositories.

Module caches (playbook versions, packs, the default bundle, settings) are reset around every
test by an autouse fixture, so tests never see each other's data.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from exception_playbooks import config
from exception_playbooks.models.packs import DomainPackInput, PolicyPackInput
from exception_playbooks.models.playbook import Conditions, PlaybookVersion, Step
from exception_playbooks.repository import bundle, packs, playbooks
from exception_playbooks.repository.bundle import Repositories, build_repositories
from exception_playbooks.repository.dynamo import Dynamo
from exception_playbooks.routes import ROUTES, Route
from exception_playbooks.tenant_guard import install_tenant_guard
from moto import mock_aws

from local import aws_calls
from local.lambda_runtime import make_context
from local.tables import create_tables

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"

TENANT_A = "tenant-a"
TENANT_B = "tenant-b"
ALL_ROLES = ("viewer", "operator", "admin", "automation")

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "STATE_TABLE": "api-test-state",
    "EVENTS_TABLE": "api-test-events",
    # Packs stay cached for the whole test: warm-cost assertions never depend on timing.
    "PACK_CACHE_SECONDS": "86400",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


# -- clocks and ids ----------------------------------------------------------------------------
class TickingClock:
    """Starts at a fixed moment and moves one second on every read: deterministic, strictly rising."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)):
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class SequentialIds:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"{self.count:032x}"


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _reset_module_caches() -> Iterator[None]:
    def reset() -> None:
        playbooks.clear_cache()
        packs.clear_cache()
        bundle.reset_default_repositories()
        config.reset_settings()

    reset()
    yield
    reset()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto DynamoDB with the state and events tables; yields a raw client for assertions."""
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    config.reset_settings()
    aws_calls.install()  # before any client exists, so every call is counted
    with mock_aws():
        client = _dynamodb_client()
        create_tables(client, config.settings())
        # Calls inside a tenant session (every handler binds the token's tenant) must stay in it.
        install_tenant_guard(client, config.settings(), allow_unscoped=True)
        yield client


_CLIENT: list[Any] = []


def _dynamodb_client() -> Any:
    """One botocore client for the whole session (creating one costs ~0.3 s; moto's stubber is
    process-wide, so a client made inside one ``mock_aws`` keeps working, isolated, in the next)."""
    if not _CLIENT:
        _CLIENT.append(boto3.client("dynamodb", region_name="us-east-1"))
    return _CLIENT[0]


@pytest.fixture
def repos(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Repositories:
    built = build_repositories(Dynamo(client=aws), clock=TickingClock(), ids=SequentialIds())
    monkeypatch.setattr(bundle, "default_repositories", lambda: built)
    return built


@pytest.fixture
def api(repos: Repositories) -> ApiClient:
    return ApiClient()


# -- events and invocation ---------------------------------------------------------------------
def claims(
    tenant_id: str = TENANT_A, username: str = "alice", roles: tuple[str, ...] | str = ("operator",)
) -> dict[str, str]:
    """Claims as the Cognito authorizer of a REST API passes them: strings, groups comma-separated."""
    groups = roles if isinstance(roles, str) else ",".join(roles)
    return {
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{username}")),
        "cognito:username": username,
        "custom:tenant_id": tenant_id,
        "cognito:groups": groups,
        "token_use": "id",
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST",
    }


def proxy_event(
    method: str,
    resource: str,
    *,
    path_parameters: Mapping[str, str] | None = None,
    query: Mapping[str, str | list[str]] | None = None,
    body: Any = None,
    raw_body: str | None = None,
    headers: Mapping[str, str] | None = None,
    claims: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event (payload 1.0). ``body`` is JSON-encoded; ``raw_body`` is sent as is."""
    params = dict(path_parameters or {})
    path = resource
    for name, value in params.items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    all_headers = {"Host": "api.example.com", "User-Agent": "pytest", "Accept": "application/json"}
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    if text is not None:
        all_headers["Content-Type"] = "application/json"
    if claims is not None:
        all_headers["Authorization"] = "Bearer test-token"
    all_headers.update(headers or {})
    multi_query = {k: (v if isinstance(v, list) else [v]) for k, v in (query or {}).items()}
    single_query = {k: v[-1] for k, v in multi_query.items() if v}
    request_id = str(uuid.uuid4())
    context: dict[str, Any] = {
        "resourceId": "abc123",
        "resourcePath": resource,
        "httpMethod": method,
        "extendedRequestId": request_id[:16],
        "requestTime": "02/Mar/2026:09:00:00 +0000",
        "requestTimeEpoch": 1772442000000,
        "path": f"/prod{path}",
        "accountId": "000000000000",
        "protocol": "HTTP/1.1",
        "stage": "prod",
        "domainPrefix": "api",
        "domainName": "api.example.com",
        "requestId": request_id,
        "apiId": "testapi",
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "pytest"},
    }
    if claims is not None:
        context["authorizer"] = {"claims": dict(claims)}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": False,
    }


_HANDLERS: dict[str, ModuleType] = {}


def load_handler(group: str) -> ModuleType:
    """Import ``functions/<group>/handler.py`` by file path under a unique name (once per session)."""
    module = _HANDLERS.get(group)
    if module is None:
        path = FUNCTIONS / group / "handler.py"
        name = f"_api_tests_functions_{group}_handler"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None, path
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _HANDLERS[group] = module
    return module


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: Any
    raw: dict[str, Any] = field(repr=False)

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


def invoke(group: str, event: dict[str, Any]) -> ApiResponse:
    """Run the group's ``lambda_handler`` on ``event`` with a fake Lambda context."""
    handler = load_handler(group).lambda_handler
    result = handler(event, make_context(f"api-tests-{group}"))
    assert isinstance(result, dict) and isinstance(result.get("statusCode"), int), result
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(name)] = str(values[-1])
    text = result.get("body")
    body = json.loads(text) if text else None
    return ApiResponse(result["statusCode"], headers, body, result)


def find_route(method: str, resource: str) -> Route:
    for route in ROUTES:
        if route.method == method and route.path == resource:
            return route
    raise LookupError(f"{method} {resource} is not in routes.ROUTES")


class ApiClient:
    """Calls a route like API Gateway would: ``api.call("GET", "/api/exceptions/{exception_id}",
    {"exception_id": "EX-1"}, user=("tenant-a", "alice", ("viewer",)))``."""

    def __init__(self) -> None:
        self.user: tuple[str, str, tuple[str, ...]] = (TENANT_A, "alice", ("operator",))

    def call(
        self,
        method: str,
        resource: str,
        path_parameters: Mapping[str, str | int] | None = None,
        *,
        body: Any = None,
        raw_body: str | None = None,
        query: Mapping[str, str | list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        user: tuple[str, str, tuple[str, ...]] | None = None,
        as_claims: Mapping[str, Any] | None = None,
        anonymous: bool = False,
    ) -> ApiResponse:
        route = find_route(method, resource)
        tenant, username, roles = user or self.user
        event = proxy_event(
            method,
            resource,
            path_parameters={k: str(v) for k, v in (path_parameters or {}).items()},
            query=query,
            body=body,
            raw_body=raw_body,
            headers=headers,
            claims=None if anonymous else (as_claims or claims(tenant, username, roles)),
        )
        return invoke(route.function, event)


def snapshot(client: Any) -> dict[str, list[dict[str, Any]]]:
    """Every item of both tables (sorted): compare before/after to prove nothing was written."""
    settings = config.settings()
    result = {}
    for table in (settings.state_table, settings.events_table):
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
        while True:
            page = client.scan(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        result[table] = sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=repr))
    return result


# -- seeding -----------------------------------------------------------------------------------
def step(name: str, action_type: str, params: Mapping[str, Any], **flags: bool) -> dict[str, Any]:
    return {"name": name, "action_type": action_type, "params": dict(params), **flags}


def seed_playbook(
    repos: Repositories,
    tenant_id: str,
    playbook_id: str,
    steps: list[dict[str, Any]],
    *,
    match: Mapping[str, Any] | None = None,
    priority: int = 0,
    version: int = 1,
    name: str | None = None,
) -> PlaybookVersion:
    """Write a playbook version straight through the repository (as authoring would)."""
    playbook = PlaybookVersion(
        playbook_id=playbook_id,
        version=version,
        name=name or playbook_id.replace("-", " ").title(),
        description=f"{playbook_id} (test)",
        conditions=Conditions(match=dict(match or {}), priority=priority),
        steps=tuple(Step(step_order=n, **s) for n, s in enumerate(steps, start=1)),
        created_at=f"2026-01-01T00:00:{version:02d}.000Z",
        created_by="seed",
    )
    return repos.playbooks.save_version(tenant_id, playbook)


def seed_packs(
    repos: Repositories,
    tenant_id: str,
    *,
    policy: Mapping[str, Any] | None = None,
    domains: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    if policy is not None:
        repos.packs.put_policy(tenant_id, PolicyPackInput.model_validate(dict(policy)))
    for domain, document in (domains or {}).items():
        repos.packs.put_domain(tenant_id, domain, DomainPackInput.model_validate(dict(document)))


def assert_error(response: ApiResponse, status: int, code: str | None = None) -> None:
    """The API error shape: ``{"code": "UPPER_SNAKE", "message": "...", "details"?: {...}}``."""
    assert response.status == status, (response.status, response.body)
    body = response.body
    assert isinstance(body, dict) and set(body) <= {"code", "message", "details"}, body
    assert isinstance(body["code"], str) and body["code"] == body["code"].upper(), body
    assert isinstance(body["message"], str) and body["message"], body
    if status == 422:
        errors = body["details"]["errors"]
        assert errors and all(set(e) == {"path", "message"} for e in errors), body
    if code is not None:
        assert body["code"] == code, body
