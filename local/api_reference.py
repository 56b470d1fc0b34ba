"""The API reference in Markdown (docs/api-reference.md), generated from the committed openapi.json.

The reference is a reading aid for the OpenAPI document the handlers generate (``make openapi``):
every operation with its roles, parameters, request body and answers, then every schema with its
fields. Nested inline objects are flattened into dotted rows (``conditions.priority``,
``steps[].name``); named schemas are linked. It is deterministic, so a stale copy is detectable.

    python -m local.api_reference            # print the reference
    python -m local.api_reference --write    # write docs/api-reference.md
    python -m local.api_reference --check    # exit 1 when docs/api-reference.md is stale
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from local.generated import generated_file_main

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT_PATH = ROOT / "openapi.json"
REFERENCE_PATH = ROOT / "docs" / "api-reference.md"
METHODS = ("get", "put", "post", "patch", "delete")
SCHEMA_PREFIX = "#/components/schemas/"
MAX_DEPTH = 6  # inline objects nest far less deeply; a guard against a cyclic document

Schema = dict[str, Any]


def load_document(path: Path = DOCUMENT_PATH) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


# --- text helpers ----------------------------------------------------------------------------------


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def code(text: Any) -> str:
    value = text if isinstance(text, str) else json.dumps(text)
    return f"`{value}`"


def number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def schema_name(ref: str) -> str:
    return ref.removeprefix(SCHEMA_PREFIX)


def schema_link(ref: str) -> str:
    name = schema_name(ref)
    return f"[{name}](#{anchor(name)})"


# --- types and constraints ---------------------------------------------------------------------------


def variants(schema: Schema) -> tuple[list[Schema], bool]:
    """The non-null alternatives of a schema, and whether null is allowed."""
    options = schema.get("anyOf") or schema.get("oneOf")
    if not isinstance(options, list):
        return [schema], schema.get("type") == "null"
    kept = [option for option in options if option.get("type") != "null"]
    return kept, len(kept) != len(options)


def type_text(schema: Schema) -> str:
    """A short type: ``string``, ``array of [Severity](#severity)``, ``integer or null``, ..."""
    options, nullable = variants(schema)
    text = " or ".join(_single_type(option) for option in options) or "null"
    return f"{text} or null" if nullable and options else text


def _single_type(schema: Schema) -> str:
    if "$ref" in schema:
        return schema_link(schema["$ref"])
    if "anyOf" in schema or "oneOf" in schema:
        return type_text(schema)
    if "enum" in schema:
        return "one of " + ", ".join(code(value) for value in schema["enum"])
    if "const" in schema:
        return code(schema["const"])
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items")
        return f"array of {_single_type(items)}" if isinstance(items, dict) and items else "array"
    if kind == "object" or "properties" in schema:
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not schema.get("properties"):
            return f"object of string to {_single_type(extra)}"
        return "object"
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    if isinstance(kind, str):
        return f"{kind} ({schema['format']})" if "format" in schema else kind
    return "any JSON value"


def _plural(count: str, noun: str) -> str:
    return f"{count} {noun}" if count == "1" else f"{count} {noun}s"


_CONSTRAINTS = (
    ("minLength", lambda v: f"at least {_plural(v, 'character')}"),
    ("maxLength", lambda v: f"at most {_plural(v, 'character')}"),
    ("minimum", lambda v: f"≥ {v}"),
    ("maximum", lambda v: f"≤ {v}"),
    ("exclusiveMinimum", lambda v: f"> {v}"),
    ("exclusiveMaximum", lambda v: f"< {v}"),
    ("minItems", lambda v: f"at least {_plural(v, 'item')}"),
    ("maxItems", lambda v: f"at most {_plural(v, 'item')}"),
)


def _limits(schema: Schema) -> list[str]:
    notes = [fmt(number(schema[key])) for key, fmt in _CONSTRAINTS if key in schema]
    if "pattern" in schema:
        notes.append(f"pattern {code(schema['pattern'])}")
    return notes


def constraints(schema: Schema) -> list[str]:
    """Human notes for a schema's limits (of each non-null alternative, and of array items)."""
    options, _ = variants(schema)
    notes: list[str] = []
    for option in [schema, *(o for o in options if o is not schema)]:
        found = _limits(option)
        items = option.get("items")
        if isinstance(items, dict) and "$ref" not in items and _limits(items):
            found.append("each " + ", ".join(_limits(items)))
        if option.get("additionalProperties") is False and option.get("properties"):
            found.append("no other fields")
        notes.extend(note for note in found if note not in notes)
    if "default" in schema:
        notes.append(f"default {code(schema['default'])}")
    return notes


def describe(schema: Schema, fallback: str = "") -> str:
    text = (schema.get("description") or fallback).strip().rstrip(".")
    notes = "; ".join(constraints(schema))
    if text and notes:
        return cell(f"{text} ({notes})")
    return cell(text or notes)


# --- fields ------------------------------------------------------------------------------------------


def field_rows(schema: Schema, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, str, bool, str]]:
    """(path, type, required, description) of every field, inline objects flattened."""
    required = set(schema.get("required", []))
    for name, field in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        yield path, type_text(field), name in required, describe(field)
        if depth >= MAX_DEPTH:
            continue
        options, _ = variants(field)
        for option in options:
            if "$ref" in option:
                continue
            if option.get("properties"):
                yield from field_rows(option, f"{path}.", depth + 1)
            items = option.get("items")
            if option.get("type") == "array" and isinstance(items, dict) and items.get("properties"):
                yield from field_rows(items, f"{path}[].", depth + 1)
            extra = option.get("additionalProperties")
            if isinstance(extra, dict) and extra.get("properties"):
                yield from field_rows(extra, f"{path}.*.", depth + 1)


def field_table(schema: Schema) -> list[str]:
    rows = list(field_rows(schema))
    if not rows:
        return []
    lines = ["| field | type | required | description |", "|---|---|:-:|---|"]
    lines += [
        f"| `{path}` | {cell(kind)} | {'yes' if needed else ''} | {text} |"
        for path, kind, needed, text in rows
    ]
    return lines


def body_lines(schema: Schema) -> list[str]:
    """A request or response body: a link to a named schema, or its fields when inline."""
    options, nullable = variants(schema)
    if len(options) == 1 and "$ref" in options[0]:
        optional = " (or no body)" if nullable else ""
        return [f"{schema_link(options[0]['$ref'])}{optional}"]
    if len(options) == 1 and options[0].get("properties"):
        return field_table(options[0])
    return [type_text(schema)]


# --- operations --------------------------------------------------------------------------------------


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(tag, method, path, operation) grouped by tag (document order), then path and method."""
    tags = [tag["name"] for tag in document.get("tags", [])]
    found: list[tuple[int, str, int, str, str, dict[str, Any]]] = []
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            tag = (operation.get("tags") or ["other"])[0]
            order = tags.index(tag) if tag in tags else len(tags)
            found.append((order, path, METHODS.index(method), tag, method, operation))
    for _, path, _, tag, method, operation in sorted(found, key=lambda entry: entry[:3]):
        yield tag, method, path, operation


def operation_heading(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


def roles_text(document: dict[str, Any], operation: dict[str, Any]) -> str:
    if operation.get("security") == []:
        return "public (no token)"
    roles = operation.get("x-roles")
    return ", ".join(roles) if roles else "any authenticated caller"


def operation_lines(document: dict[str, Any], method: str, path: str, operation: dict[str, Any]) -> list[str]:
    lines = [f"### {operation_heading(method, path)}", ""]
    summary = operation.get("summary")
    if summary:
        lines += [f"{summary}.", ""]
    description = (operation.get("description") or "").strip()
    roles_note = f"Roles: {', '.join(operation.get('x-roles', []))}."
    if description and description != roles_note:
        lines += [description.replace(roles_note, "").strip(), ""]
    lines += [f"Operation id `{operation.get('operationId')}`. Roles: {roles_text(document, operation)}.", ""]

    parameters = operation.get("parameters", [])
    if parameters:
        lines += ["| parameter | in | type | required | description |", "|---|---|---|:-:|---|"]
        for parameter in parameters:
            schema = parameter.get("schema", {})
            text = describe(schema, parameter.get("description", ""))
            lines.append(
                f"| `{parameter['name']}` | {parameter['in']} | {cell(type_text(schema))} | "
                f"{'yes' if parameter.get('required') else ''} | {text} |"
            )
        lines.append("")

    request = operation.get("requestBody")
    if request:
        request_content: dict[str, Any] = request.get("content") or {}
        empty: dict[str, Any] = {}
        media, body = next(iter(request_content.items()), ("application/json", empty))
        required = "required" if request.get("required") else "optional"
        intro = f"**Request body** ({media}, {required})"
        if request.get("description"):
            intro += f": {request['description'].rstrip('.')}."
        lines += [intro, ""]
        lines += [*body_lines(body.get("schema", {})), ""]

    lines += ["| status | meaning | body |", "|---|---|---|"]
    for status, response in sorted(operation.get("responses", {}).items()):
        response_content: dict[str, Any] = response.get("content") or {}
        bodies = []
        for media, body in response_content.items():
            schema = body.get("schema")
            bodies.append(cell(type_text(schema)) if schema else media)
        lines.append(f"| {status} | {cell(response.get('description', ''))} | {'; '.join(bodies)} |")
    lines.append("")
    return lines


# --- schemas -----------------------------------------------------------------------------------------


def schema_lines(name: str, schema: Schema) -> list[str]:
    lines = [f"### {name}", ""]
    if schema.get("description"):
        lines += [" ".join(schema["description"].split()), ""]
    if "enum" in schema:
        lines += ["One of " + ", ".join(code(value) for value in schema["enum"]) + ".", ""]
        return lines
    table = field_table(schema)
    if table:
        lines += table
        if schema.get("additionalProperties") is False:
            lines += ["", "No other fields are allowed."]
        elif schema.get("additionalProperties") is True:
            lines += ["", "Other fields may appear."]
        lines.append("")
    else:
        lines += [f"{type_text(schema)}.", ""]
    return lines


# --- the document ------------------------------------------------------------------------------------


def render(document: dict[str, Any]) -> str:
    info = document.get("info", {})
    lines = [
        f"# {info.get('title', 'API')} reference",
        "",
        "<!-- Generated from openapi.json by `python -m local.api_reference --write`; do not edit. -->",
        "",
        f"OpenAPI {document.get('openapi')}, API version {info.get('version')}. Generated from the committed",
        "[`openapi.json`](../openapi.json) (itself generated from the handlers by `make openapi`).",
        "For walk-throughs with `curl`, see [api.md](api.md); for the playbook language,",
        "[playbooks.md](playbooks.md).",
        "",
    ]
    if info.get("description"):
        lines += [" ".join(info["description"].split()), ""]
    for name, scheme in document.get("components", {}).get("securitySchemes", {}).items():
        kind = f"{scheme.get('type')} {scheme.get('scheme', '')}".strip()
        detail = f" ({scheme['bearerFormat']})" if scheme.get("bearerFormat") else ""
        lines += [
            f"**Authentication** (`{name}`): {kind}{detail}. {scheme.get('description', '')}".strip(),
            "",
        ]

    lines += ["## Operations", "", "| operation | summary | roles |", "|---|---|---|"]
    listed = list(operations(document))
    for _, method, path, operation in listed:
        heading = operation_heading(method, path)
        lines.append(
            f"| [`{heading}`](#{anchor(heading)}) | {cell(operation.get('summary', ''))} | "
            f"{cell(roles_text(document, operation))} |"
        )
    lines.append("")

    current_tag = None
    for tag, method, path, operation in listed:
        if tag != current_tag:
            lines += [f"## {tag[:1].upper()}{tag[1:]}", ""]
            current_tag = tag
        lines += operation_lines(document, method, path, operation)

    lines += ["## Schemas", ""]
    for name, schema in sorted(document.get("components", {}).get("schemas", {}).items()):
        lines += schema_lines(name, schema)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    return generated_file_main(
        argv,
        prog="python -m local.api_reference",
        description=(__doc__ or "").splitlines()[0],
        path=REFERENCE_PATH,
        render=lambda: render(load_document()),
        fix="python -m local.api_reference --write",
    )


if __name__ == "__main__":
    raise SystemExit(main())
