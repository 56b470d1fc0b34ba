"""Fuzz every operation of the committed OpenAPI document, in-process: never a 5xx.

Operations, their parameters and their request bodies are read from ``openapi.json`` (the
document clients rely on), so a route added to the document is fuzzed without touching this
test. Values come from the document's schemas (enums, properties) mixed with hostile JSON.
Bounded and derandomised by default; API_FUZZ_EXAMPLES=500 runs a longer, random search.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import ApiClient
from .test_fuzz_api import FUZZ, check, json_values, path_ids, raw_texts
from .test_fuzz_api import world as world

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "openapi.json").read_text())
PUBLIC = {"/api/openapi.json", "/api/docs"}  # served by the local stack, not by a function
OPERATIONS = sorted(
    (method.upper(), path, operation)
    for path, item in DOCUMENT["paths"].items()
    if path not in PUBLIC
    for method, operation in item.items()
)
EVERY_ROLE = ("viewer", "operator", "admin", "automation")
# About seven examples per operation by default (the shared settings give 20 per test).
DOCUMENT_FUZZ = settings(FUZZ, max_examples=FUZZ.max_examples * 8)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return _resolve(DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[-1]])
    return schema


def _values(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Plausible values from a schema (enum members, ints) or anything at all."""
    schema = _resolve(schema)
    options: list[st.SearchStrategy[Any]] = [json_values]
    for alternative in schema.get("anyOf", []):
        options.append(_values(alternative))
    if "enum" in schema:
        options.append(st.sampled_from(schema["enum"]))
    if schema.get("type") == "integer":
        options.append(st.integers(min_value=-5, max_value=300))
    return st.one_of(options)


def _body(operation: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    content = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
    if content is None:
        return st.just({})
    properties = _resolve(content["schema"]).get("properties", {})
    shaped = st.fixed_dictionaries({}, optional={name: _values(s) for name, s in properties.items()})
    return st.one_of(
        st.builds(lambda body: {"body": body}, shaped),
        st.builds(lambda body: {"body": body}, json_values),
        st.builds(lambda text: {"raw_body": text}, raw_texts),
    )


def _query_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], dict[str, Any]]:
    method, path, operation = draw(st.sampled_from(OPERATIONS))
    path_parameters: dict[str, str] = {}
    query: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            path_parameters[parameter["name"]] = draw(path_ids | st.just("EX-1") | st.just("1"))
        elif parameter["in"] == "query" and draw(st.booleans()):
            query[parameter["name"]] = _query_text(draw(_values(parameter.get("schema", {}))))
    extra = {"query": query, **draw(_body(operation))}
    return method, path, path_parameters, extra


def test_the_document_lists_every_route() -> None:
    from exception_playbooks.routes import ROUTES

    assert {(r.method, r.path) for r in ROUTES} == {(m, p) for m, p, _ in OPERATIONS}


@DOCUMENT_FUZZ
@given(request=requests(), roles=st.sets(st.sampled_from(EVERY_ROLE), min_size=1))
def test_no_operation_of_the_document_answers_5xx(world: ApiClient, request: Any, roles: set[str]) -> None:
    method, path, path_parameters, extra = request
    response = world.call(
        method, path, path_parameters, user=("tenant-a", "fuzzer", tuple(sorted(roles))), **extra
    )
    check(response)
