"""The API's one OpenAPI document, generated from the code of every API function.

Each ``functions/<group>/handler.py`` (the groups of ``routes.API_FUNCTIONS``) exposes a
Powertools resolver ``app``; this imports each by file path (as Lambda and the local stack do),
asks it for its schema and merges them: paths, component schemas (a name defined differently
by two functions is an error), the Cognito bearer security scheme, the API error shape on every
operation (Powertools' own 422 schema is replaced: the guard and the error handlers answer in
the API's shape), and each operation's roles from ``routes.ROUTES`` (``x-roles``).

    python -m local.openapi            # print the document
    python -m local.openapi --write    # write openapi.json at the repository root (make openapi)
    python -m local.openapi --check    # exit 1 when the committed file is stale
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from exception_playbooks.routes import API_FUNCTIONS, ROUTES

from local.generated import generated_file_main

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
DOCUMENT_PATH = ROOT / "openapi.json"

TITLE = "Exception Playbooks API"
API_VERSION = "1.0.0"
OPENAPI_VERSION = "3.1.0"
DESCRIPTION = (
    "Exceptions raised by business systems, the playbooks that resolve them and their step-by-step "
    "execution. Every /api/* operation needs a bearer token (`Authorization: Bearer <JWT>`): the local "
    "stack's ID-token-shaped JWT, or on the deployed stack a Cognito access token with the API's scope; the "
    "tenant comes only from the token, and another tenant's resource answers 404. Errors answer "
    '`{"code", "message", "details"?}`; for 422, `details.errors` lists every problem with its '
    "field path. Checks run in this order: 401, 403 (role), 422, 404, then 409 or 403."
)
SECURITY_SCHEME = "cognitoJwt"
ERROR_SCHEMA = "ErrorOut"
ERROR_REF = f"#/components/schemas/{ERROR_SCHEMA}"
# Powertools' own error schemas: our guard and error handlers never answer in them.
POWERTOOLS_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
METHOD_ORDER = ("get", "put", "post", "patch", "delete")

# Answers every authenticated operation can give, whatever the function (API.md, Errors).
COMMON_ERRORS: dict[str, str] = {
    "401": "No or invalid bearer token",
    "403": "The token's role may not do this",
    "422": "Invalid input; details.errors lists every problem with its field path",
    "503": "A dependency is throttled or unavailable; nothing was written; safe to retry",
}
BODY_ERRORS: dict[str, str] = {"413": "Request body over 256 KiB"}

ERROR_COMPONENT: dict[str, Any] = {
    "type": "object",
    "title": ERROR_SCHEMA,
    "description": 'Every error answer. For 422, `details` is `{"errors": [{"path", "message"}, ...]}`.',
    "additionalProperties": False,
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "title": "Code", "description": "UPPER_SNAKE error code"},
        "message": {"type": "string", "title": "Message", "description": "a human sentence"},
        "details": {"anyOf": [{"type": "object", "additionalProperties": True}, {"type": "null"}]},
    },
}

PUBLIC_PATHS: dict[str, Any] = {
    "/api/openapi.json": {
        "get": {
            "operationId": "getOpenApiDocument",
            "summary": "This OpenAPI document (public)",
            "tags": ["documentation"],
            "security": [],
            "responses": {
                "200": {"description": "The OpenAPI document", "content": {"application/json": {}}}
            },
        }
    },
    "/api/docs": {
        "get": {
            "operationId": "getApiDocs",
            "summary": "A browsable page for this document (public)",
            "tags": ["documentation"],
            "security": [],
            "responses": {"200": {"description": "An HTML page", "content": {"text/html": {}}}},
        }
    },
}


class OpenApiMergeError(RuntimeError):
    """Two functions disagree (same operation twice, or one schema name with two definitions)."""


def load_handler_module(group: str, functions_dir: Path = FUNCTIONS_DIR) -> ModuleType:
    """Import ``functions/<group>/handler.py`` by file path under a name unique to this tool."""
    path = functions_dir / group / "handler.py"
    name = f"_openapi_functions_{group}_handler"
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None) == str(path):
        return loaded
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise OpenApiMergeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        sys.modules.pop(name, None)
        raise
    return module


def available_groups(functions_dir: Path = FUNCTIONS_DIR) -> list[str]:
    """The API function groups whose handler exists (a group still being written is left out)."""
    return [group for group in API_FUNCTIONS if (functions_dir / group / "handler.py").is_file()]


def function_schema(group: str, functions_dir: Path = FUNCTIONS_DIR) -> dict[str, Any]:
    app = load_handler_module(group, functions_dir).app
    document: dict[str, Any] = json.loads(app.get_openapi_json_schema(title=TITLE, version=API_VERSION))
    return document


def build_document(functions_dir: Path = FUNCTIONS_DIR) -> dict[str, Any]:
    """The merged document of every available API function (deterministic: sorted keys)."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    owners: dict[str, str] = {}
    for group in available_groups(functions_dir):
        document = function_schema(group, functions_dir)
        for path, item in document.get("paths", {}).items():
            for method, operation in item.items():
                if method in paths.get(path, {}):
                    raise OpenApiMergeError(f"{method.upper()} {path} is defined by two functions")
                paths.setdefault(path, {})[method] = operation
        for name, definition in document.get("components", {}).get("schemas", {}).items():
            if name in schemas and schemas[name] != definition:
                raise OpenApiMergeError(
                    f"schema {name!r} is defined differently by functions/{owners[name]} and "
                    f"functions/{group}; rename one of the models"
                )
            schemas[name] = definition
            owners.setdefault(name, group)
    schemas.setdefault(ERROR_SCHEMA, ERROR_COMPONENT)
    for path, item in paths.items():
        for method, operation in item.items():
            _complete_operation(path, method, operation)
    all_paths = {**paths, **copy.deepcopy(PUBLIC_PATHS)}
    used = _referenced(all_paths, schemas)
    schemas = {n: d for n, d in schemas.items() if n in used or n not in POWERTOOLS_VALIDATION_SCHEMAS}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": TITLE, "version": API_VERSION, "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "security": [{SECURITY_SCHEME: []}],
        "tags": [{"name": name} for name in sorted(_tags(all_paths))],
        "paths": {
            path: {m: all_paths[path][m] for m in sorted(all_paths[path], key=_method_rank)}
            for path in sorted(all_paths)
        },
        "components": {
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Cognito user-pool ID token (claims custom:tenant_id, "
                    "cognito:username and cognito:groups: viewer, operator, admin, automation) or, "
                    "deployed, an access token with scope exception-playbooks/api or "
                    "exception-playbooks/automation (claims tenant_id, username and cognito:groups; "
                    "for a client-credentials client tenant_id, actor and roles).",
                }
            },
            "schemas": {name: schemas[name] for name in sorted(schemas)},
        },
    }


def _referenced(paths: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    """Names of the component schemas reachable from the paths."""
    prefix = "#/components/schemas/"
    found: set[str] = set()
    pending: list[Any] = [paths]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix):
                name = ref[len(prefix) :]
                if name not in found:
                    found.add(name)
                    pending.append(schemas.get(name))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def _method_rank(method: str) -> int:
    return METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER)


def _tags(paths: dict[str, dict[str, Any]]) -> set[str]:
    return {tag for item in paths.values() for op in item.values() for tag in op.get("tags", [])}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ERROR_REF}}}}


def _complete_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    """Roles, the common error answers in the API's shape, and sorted responses."""
    roles = _roles(method.upper(), path)
    if roles:
        operation["x-roles"] = roles
        note = f"Roles: {', '.join(roles)}."
        description = operation.get("description")
        operation["description"] = f"{description}\n\n{note}" if description else note
    for parameter in operation.get("parameters", []):
        # Powertools lower-cases header names; show the declared spelling (e.g. Idempotency-Key).
        title = parameter.get("schema", {}).get("title")
        if parameter.get("in") == "header" and isinstance(title, str) and title.lower() == parameter["name"]:
            parameter["name"] = title
    responses: dict[str, Any] = operation.setdefault("responses", {})
    expected = {**COMMON_ERRORS, **(BODY_ERRORS if "requestBody" in operation else {})}
    for status, description in expected.items():
        current = responses.get(status)
        if current is None or _refers_to_powertools_validation(current):
            responses[status] = _error_response(description)
    operation["responses"] = {status: responses[status] for status in sorted(responses)}


def _refers_to_powertools_validation(response: dict[str, Any]) -> bool:
    text = json.dumps(response)
    return any(f'#/components/schemas/{name}"' in text for name in POWERTOOLS_VALIDATION_SCHEMAS)


def _roles(method: str, path: str) -> list[str]:
    for route in ROUTES:
        if route.method == method and route.path == path:
            return sorted(role.value for role in route.roles)
    return []


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    return generated_file_main(
        argv,
        prog="python -m local.openapi",
        description=(__doc__ or "").splitlines()[0],
        path=DOCUMENT_PATH,
        render=lambda: render(build_document()),
        fix="make openapi",
    )


if __name__ == "__main__":
    raise SystemExit(main())
