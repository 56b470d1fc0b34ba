"""Templates: ``{context.path}`` placeholders filled from plain data. No code ever runs in one."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..bounds import truncate_text

CONTEXTS = ("exception", "domain", "policy", "step")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z0-9_.:-]+)\}")
_MISSING = object()


@dataclass
class Rendered:
    value: Any
    missing: list[str] = field(default_factory=list)
    truncated: bool = False  # text only: the output reached its limit and was cut (marked)


def placeholders(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(text)]


def unknown_contexts(value: Any) -> list[str]:
    """Placeholders whose context is not one of CONTEXTS, anywhere in ``value``."""
    found: list[str] = []
    for text in _strings(value):
        found.extend(f"{ctx}.{path}" for ctx, path in placeholders(text) if ctx not in CONTEXTS)
    return found


def lookup(context: dict[str, Any], name: str, path: str) -> Any:
    """Walk a dotted path through dicts (and list indices); never touches object attributes."""
    current: Any = context.get(name, _MISSING)
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def render_text(text: str, context: dict[str, Any], limit: int | None = None) -> Rendered:
    """Fill the placeholders of ``text``. With ``limit``, the output is at most ``limit`` characters:
    rendering stops as soon as it is reached (a huge value is never built in full) and the text
    ends with ``bounds.TRUNCATION_MARK``."""
    missing: list[str] = []
    parts: list[str] = []
    length = 0
    position = 0
    for match in PLACEHOLDER.finditer(text):
        parts.append(text[position : match.start()])
        length += match.start() - position
        position = match.end()
        if limit is not None and length > limit:
            break
        value = lookup(context, match.group(1), match.group(2))
        if value is _MISSING or value is None:
            missing.append(match.group(0)[1:-1])
            continue
        piece = _as_text(value)
        parts.append(piece)
        length += len(piece)
    else:
        parts.append(text[position:])
        length += len(text) - position
    rendered = "".join(parts)
    if limit is None:
        return Rendered(rendered, missing)
    cut, truncated = truncate_text(rendered, limit)
    return Rendered(cut, missing, truncated)


def _as_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value).lower() if isinstance(value, bool) else str(value)


def render_value(value: Any, context: dict[str, Any]) -> Rendered:
    """Render nested data; a string that is exactly one placeholder keeps the value's JSON type."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            found = lookup(context, whole.group(1), whole.group(2))
            if found is _MISSING or found is None:
                return Rendered(None, [value[1:-1]])
            return Rendered(found)
        return render_text(value, context)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        missing: list[str] = []
        for key, item in value.items():
            rendered = render_value(item, context)
            out[key] = rendered.value
            missing.extend(rendered.missing)
        return Rendered(out, missing)
    if isinstance(value, list):
        parts = [render_value(item, context) for item in value]
        return Rendered([p.value for p in parts], [m for p in parts for m in p.missing])
    return Rendered(value)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []
