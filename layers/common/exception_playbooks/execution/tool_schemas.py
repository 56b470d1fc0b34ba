"""Tool parameter schemas (domain packs): checked when a pack is written so that checking a payload
at run time cannot fail, hang or backtrack.

- ``schema_problems`` (pack write): size, references only inside the schema as ``#`` or
  ``#/json/pointer`` that resolve, no ``$id`` / dynamic or recursive references, no reference
  cycle that never descends into the payload, patterns that RE2 accepts (linear-time matching),
  no ``patternProperties`` (jsonschema would match those with Python's backtracking ``re``).
- ``payload_errors`` (run time): JSON Schema 2020-12 with ``pattern`` evaluated by RE2 and
  ``uniqueItems`` bounded; anything the library still raises becomes ``SchemaUnusable`` (a 409
  with how to continue, never a 500).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..bounds import MAX_SCHEMA_PATTERN, MAX_TOOL_SCHEMA_BYTES, json_size
from ..cache import BoundedCache

MAX_ERRORS = 25
MAX_UNIQUE_ITEMS = 1000  # uniqueItems compares every pair: beyond this, refused rather than computed
_FORBIDDEN_KEYWORDS = {
    "$id": "a tool schema is one document: $id is not allowed",
    "$dynamicRef": "dynamic references are not allowed; use $ref",
    "$dynamicAnchor": "dynamic anchors are not allowed",
    "$recursiveRef": "recursive references are not allowed; use $ref",
    "patternProperties": "is not allowed (its patterns would be matched by a backtracking engine); "
    "name the properties",
}
# Keywords whose subschemas apply to the *same* instance: a $ref cycle through only these never ends.
_SAME_INSTANCE_LISTS = ("allOf", "anyOf", "oneOf")
_SAME_INSTANCE_ONE = ("not", "if", "then", "else")


class SchemaUnusable(Exception):
    """The schema cannot check a payload (a refusal at run time, a problem at write time)."""


# -- run time -------------------------------------------------------------------------------------
_REGEX_CACHE: BoundedCache[str, Any] = BoundedCache(512, 4 * 1024 * 1024)
_VALIDATOR_CACHE: BoundedCache[str, Any] = BoundedCache(256, 8 * 1024 * 1024)


def compile_pattern(pattern: str) -> Any:
    """``pattern`` compiled by RE2 (linear time, no backtracking); SchemaUnusable if RE2 refuses it."""
    compiled = _REGEX_CACHE.get(pattern)
    if compiled is None:
        import re2

        options = re2.Options()
        options.log_errors = False
        try:
            compiled = re2.compile(pattern, options)
        except re2.error as error:
            raise SchemaUnusable(f"pattern {pattern[:80]!r} is not supported ({error})") from error
        _REGEX_CACHE.put(pattern, compiled, len(pattern) * 16 + 1024)
    return compiled


def _validator_class() -> Any:
    from jsonschema import Draft202012Validator, ValidationError, validators
    from jsonschema._keywords import uniqueItems

    def pattern(validator: Any, value: str, instance: Any, schema: Any) -> Iterator[Any]:
        if validator.is_type(instance, "string") and compile_pattern(value).search(instance) is None:
            yield ValidationError(f"{instance[:80]!r} does not match {value[:80]!r}")

    def unique_items(validator: Any, value: bool, instance: Any, schema: Any) -> Iterator[Any]:
        if value and validator.is_type(instance, "array") and len(instance) > MAX_UNIQUE_ITEMS:
            yield ValidationError(f"has more than {MAX_UNIQUE_ITEMS} items to check for uniqueness")
            return
        yield from uniqueItems(validator, value, instance, schema)

    return validators.extend(Draft202012Validator, {"pattern": pattern, "uniqueItems": unique_items})


_CLASS: list[Any] = []


def validator_for(schema: dict[str, Any]) -> Any:
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    found = _VALIDATOR_CACHE.get(text)
    if found is None:
        if not _CLASS:
            _CLASS.append(_validator_class())
        found = _CLASS[0](schema)
        _VALIDATOR_CACHE.put(text, found, len(text) * 4 + 2048)
    return found


def payload_errors(schema: dict[str, Any], payload: Any) -> list[dict[str, str]]:
    """Where ``payload`` does not fit ``schema`` (at most MAX_ERRORS); SchemaUnusable if it cannot tell."""
    try:
        errors = []
        for error in validator_for(schema).iter_errors(payload):
            errors.append({"path": "/".join(str(p) for p in error.path), "message": error.message[:500]})
            if len(errors) >= MAX_ERRORS:
                break
    except SchemaUnusable:
        raise
    except (RecursionError, MemoryError) as error:
        raise SchemaUnusable("its references never end") from error
    except Exception as error:  # untrusted schema into a library: a refusal, never a 500
        raise SchemaUnusable(f"{type(error).__name__}: {str(error)[:200]}") from error
    return sorted(errors, key=lambda e: e["path"])


# -- write time -----------------------------------------------------------------------------------
def schema_problems(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """(relative path, message) for everything that could make ``payload_errors`` fail later."""
    size = json_size(schema)
    if size > MAX_TOOL_SCHEMA_BYTES:
        return [("", f"is {size} bytes as JSON; a tool schema may have at most {MAX_TOOL_SCHEMA_BYTES}")]
    problems: list[tuple[str, str]] = []
    for here, node in _schemas(schema, ""):
        for keyword, message in _FORBIDDEN_KEYWORDS.items():
            if keyword in node:
                problems.append((f"{here}.{keyword}", message))
        ref = node.get("$ref")
        if isinstance(ref, str) and _pointer_target(schema, ref) is None:
            problems.append(
                (
                    f"{here}.$ref",
                    f"{ref[:80]!r} must be '#' or a JSON pointer '#/...' that resolves in this schema",
                )
            )
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            if len(pattern) > MAX_SCHEMA_PATTERN:
                problems.append((f"{here}.pattern", f"may have at most {MAX_SCHEMA_PATTERN} characters"))
            else:
                try:
                    compile_pattern(pattern)
                except SchemaUnusable as error:
                    problems.append(
                        (f"{here}.pattern", f"{error}: use RE2 syntax (no backreferences or lookaround)")
                    )
    if not problems and _has_endless_reference(schema):
        problems.append(("", "has a $ref cycle that never descends into the payload"))
    return problems


def _schemas(node: Any, here: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in the schema that may be a subschema, with its path (iterative)."""
    stack: list[tuple[Any, str]] = [(node, here)]
    while stack:
        current, path = stack.pop()
        if isinstance(current, dict):
            yield path, current
            for key, child in current.items():
                if key not in ("const", "enum", "default", "examples"):  # data, not schemas
                    stack.append((child, f"{path}.{key}"))
        elif isinstance(current, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(current))


def _pointer_target(document: Any, ref: str) -> Any:
    """The node ``ref`` names when it is ``#`` or ``#/json/pointer`` and resolves, else None."""
    if ref == "#":
        return document
    if not ref.startswith("#/"):
        return None
    node = document
    for raw in ref[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node if isinstance(node, dict | bool) else None


def _has_endless_reference(schema: dict[str, Any]) -> bool:
    """A cycle of $ref / allOf / anyOf / oneOf / not / if / then / else edges (all on the same
    instance) would recurse for ever on any payload that reaches it."""

    def same_instance(node: dict[str, Any]) -> list[Any]:
        children: list[Any] = []
        ref = node.get("$ref")
        if isinstance(ref, str):
            children.append(_pointer_target(schema, ref))
        for key in _SAME_INSTANCE_LISTS:
            if isinstance(node.get(key), list):
                children.extend(node[key])
        children.extend(node.get(key) for key in _SAME_INSTANCE_ONE)
        dependent = node.get("dependentSchemas")
        if isinstance(dependent, dict):
            children.extend(dependent.values())
        return [child for child in children if isinstance(child, dict)]

    state: dict[int, int] = {}  # id(node) -> 1 visiting, 2 done
    for _, start in _schemas(schema, ""):
        if id(start) in state:
            continue
        stack: list[tuple[dict[str, Any], Iterator[dict[str, Any]]]] = [(start, iter(same_instance(start)))]
        state[id(start)] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[id(node)] = 2
                stack.pop()
            elif state.get(id(child)) == 1:
                return True
            elif id(child) not in state:
                state[id(child)] = 1
                stack.append((child, iter(same_instance(child))))
    return False
