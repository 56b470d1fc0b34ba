"""Shared constrained types and limits (API.md: ids, sizes)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
MAX_SUMMARY = 500
MAX_NOTES = 4000
MAX_ATTRIBUTES_BYTES = 64 * 1024
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


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    if json_size(value) > MAX_ATTRIBUTES_BYTES:
        raise ValueError(f"must be at most {MAX_ATTRIBUTES_BYTES} bytes as JSON")
    return value


BoundedObject = Annotated[dict[str, Any], AfterValidator(_bounded_json)]


class InputModel(BaseModel):
    """Base of request bodies: unknown fields are refused, strings are not coerced from numbers."""

    model_config = ConfigDict(extra="forbid", strict=False, str_strip_whitespace=False)


class OutputModel(BaseModel):
    model_config = ConfigDict(extra="ignore")
