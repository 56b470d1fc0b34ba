"""Shared constrained types and limits (API.md: ids, sizes)."""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from .. import bounds

MAX_SUMMARY = bounds.MAX_SUMMARY
MAX_NOTES = bounds.MAX_NOTES
MAX_ATTRIBUTES_BYTES = bounds.MAX_ATTRIBUTES_BYTES

# ID_PATTERN is for pydantic and OpenAPI (pydantic's engine anchors ``$`` at the very end). In
# Python code use ``is_identifier``: with ``re``, ``$`` also matches before a trailing newline.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
ID_REGEX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def is_identifier(value: object) -> bool:
    """True when ``value`` is an id (API.md): the whole string, no trailing newline."""
    return isinstance(value, str) and ID_REGEX.fullmatch(value) is not None


MAX_STEPS = 100
MAX_TAGS = 50
MAX_TAG_LENGTH = 64
MAX_NAME = 200
MAX_DESCRIPTION = 2000

Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TAG_LENGTH, strip_whitespace=True)]
Notes = Annotated[str, StringConstraints(max_length=MAX_NOTES)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME, strip_whitespace=True)]


def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


# DynamoDB limits on what a free-form object may hold: nesting depth (32 levels for the whole
# item; the object is one attribute of it), numbers of at most 38 significant digits between
# 1E-130 and 1E+126 in magnitude, and non-empty map keys.
MAX_OBJECT_DEPTH = 30
_NUMBER_DIGITS = 38
_NUMBER_MIN_EXPONENT = -130
_NUMBER_MAX_EXPONENT = 125


def storable_json_problem(value: Any) -> str | None:
    """Why ``value`` (parsed JSON) could not be stored as-is in DynamoDB, or None when it can."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_OBJECT_DEPTH:
                return f"nests deeper than {MAX_OBJECT_DEPTH} levels"
            if isinstance(node, dict):
                if any(key == "" for key in node):
                    return "has an empty key"
                stack.extend((child, depth + 1) for child in node.values())
            else:
                stack.extend((child, depth + 1) for child in node)
        elif isinstance(node, int | float) and not isinstance(node, bool):
            problem = _number_problem(node)
            if problem:
                return problem
    return None


def _number_problem(number: int | float) -> str | None:
    if isinstance(number, float) and not math.isfinite(number):
        return "holds a number that is not finite"
    if number == 0:
        return None
    try:
        decimal = Decimal(repr(number)) if isinstance(number, float) else Decimal(number)
    except (ValueError, ArithmeticError):
        return "holds a number that cannot be stored"
    # Every digit counts, trailing zeros too: boto3 refuses 10**38 (39 digits) as Rounded.
    digits = len(decimal.as_tuple().digits)
    exponent = decimal.adjusted()
    if digits > _NUMBER_DIGITS or not _NUMBER_MIN_EXPONENT <= exponent <= _NUMBER_MAX_EXPONENT:
        return "holds a number beyond 38 significant digits or outside 1E-130..1E+126"
    return None


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    problem = storable_json_problem(value)
    if problem:
        raise ValueError(problem)
    if json_size(value) > MAX_ATTRIBUTES_BYTES:
        raise ValueError(f"must be at most {MAX_ATTRIBUTES_BYTES} bytes as JSON")
    return value


BoundedObject = Annotated[dict[str, Any], AfterValidator(_bounded_json)]


class InputModel(BaseModel):
    """Base of request bodies: unknown fields are refused, strings are not coerced from numbers."""

    model_config = ConfigDict(extra="forbid", strict=False, str_strip_whitespace=False)


class OutputModel(BaseModel):
    model_config = ConfigDict(extra="ignore")
