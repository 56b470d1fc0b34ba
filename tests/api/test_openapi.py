"""The committed OpenAPI document is the one the code generates, and it describes the whole API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from exception_playbooks.routes import ROUTES

from local import openapi

HTTP_METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi.build_document()


def test_the_committed_document_is_up_to_date(document: dict[str, Any]) -> None:
    committed = openapi.DOCUMENT_PATH.read_text(encoding="utf-8") if openapi.DOCUMENT_PATH.is_file() else ""
    assert committed == openapi.render(document), (
        "openapi.json is stale: the handlers changed. Run `make openapi` and commit openapi.json."
    )


def test_every_route_is_documented_with_its_roles(document: dict[str, Any]) -> None:
    groups = set(openapi.available_groups())
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    expected = {(r.method, r.path) for r in ROUTES if r.function in groups}
    public = {("GET", "/api/openapi.json"), ("GET", "/api/docs")}
    assert documented == expected | public
    for route in ROUTES:
        if route.function in groups:
            operation = document["paths"][route.path][route.method.lower()]
            assert operation["x-roles"] == sorted(role.value for role in route.roles)
            assert operation.get("security") is None  # the document-wide bearer requirement applies


def test_the_four_groups_of_this_issue_are_present() -> None:
    assert {"exceptions", "status", "match", "execute"} <= set(openapi.available_groups())


def test_bearer_security_and_public_documentation(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.")
    scheme = document["components"]["securitySchemes"][openapi.SECURITY_SCHEME]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert document["security"] == [{openapi.SECURITY_SCHEME: []}]
    for path in ("/api/openapi.json", "/api/docs"):
        assert document["paths"][path]["get"]["security"] == []


def test_errors_use_the_api_error_shape(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"][openapi.ERROR_SCHEMA]
    assert set(error["required"]) == {"code", "message"}
    assert set(error["properties"]) == {"code", "message", "details"}
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if operation.get("security") == []:
                continue
            for status in ("401", "403", "422", "503"):
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": openapi.ERROR_REF}, (method, path, status)


def test_request_and_response_schemas_of_these_groups(document: dict[str, Any]) -> None:
    paths = document["paths"]
    create = paths["/api/exceptions"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ExceptionCreate"
    }
    assert set(create["responses"]) >= {"200", "201", "409", "413"}
    listing = {p["name"]: p for p in paths["/api/exceptions"]["get"]["parameters"]}
    assert set(listing) == {"status", "domain", "severity", "limit", "cursor"} | {
        "sort",
        "owner",
        "unassigned",
        "q",
        "sla_before",
        "counts",
    }
    complete = paths["/api/exceptions/{exception_id}/playbook/steps/{step_order}/complete"]["post"]
    names = {p["name"]: p for p in complete["parameters"]}
    assert names["Idempotency-Key"]["in"] == "header"
    assert names["step_order"]["schema"]["minimum"] == 1
    schemas = document["components"]["schemas"]
    for name in (
        "ExceptionOut",
        "PlaybookStatusOut",
        "StepActionOut",
        "MatchOut",
        "EventPageOut",
        "StepSkipBody",
    ):
        assert name in schemas
    assert "notes" in schemas["StepSkipBody"]["required"]


def test_all_references_resolve(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_check_mode_reports_a_stale_file(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(openapi, "DOCUMENT_PATH", stale)
    assert openapi.main(["--check"]) == 1
    monkeypatch.setattr(openapi, "ROOT", tmp_path)
    assert openapi.main(["--write"]) == 0
    assert openapi.main(["--check"]) == 0
