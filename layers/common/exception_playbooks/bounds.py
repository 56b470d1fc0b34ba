"""Every size maximum of the service, in one place, and the helpers that enforce them.

DynamoDB refuses items over 400 KB and EventBridge events over 256 KB. Nothing a client, an
author or an agent writes may reach either: inputs are refused with a 422 before anything is
written, authored documents are checked when written, rendered text is truncated (and the event
says so), lists inside events are capped with a count of what was left out, and every event
payload passes ``bound_payload`` before it is staged. docs/operations.md ("Bounds") lists them.
"""

from __future__ import annotations

import json
from typing import Any

# -- inputs (API.md) ----------------------------------------------------------------------------
MAX_ID = 128  # exception, playbook, tenant ids; usernames
MAX_SUMMARY = 500
MAX_NOTES = 4000  # step notes, comment text
MAX_ATTRIBUTES_BYTES = 64 * 1024  # attributes, raw_payload (JSON, UTF-8)
MAX_BODY_BYTES = 256 * 1024  # any request body

# -- authored documents -------------------------------------------------------------------------
MAX_PACK_BYTES = 96 * 1024  # a policy or domain pack document as JSON
MAX_TOOL_SCHEMA_BYTES = 16 * 1024  # one tool's parameters schema as JSON
MAX_SCHEMA_PATTERN = 1000  # characters of one ``pattern`` / ``patternProperties`` key

# -- rendered templates (per placeholder-filled text; longer output is cut and marked) ----------
MAX_RENDERED_TEXT = MAX_NOTES  # add_comment text, notify message
MAX_RENDERED_SUBJECT = MAX_SUMMARY  # notify subject
MAX_RENDERED_TARGET = 256  # notify recipient / group, assign_owner user_id / queue
MAX_TOOL_PAYLOAD_BYTES = 32 * 1024  # a rendered call_tool payload as JSON (refused above: 409)
TRUNCATION_MARK = "\u2026[truncated]"

# -- timeline events ----------------------------------------------------------------------------
# Measured as DynamoDB attribute-value JSON (how the pipe forwards ``payload`` to the bus), which
# is larger than plain JSON: the 256 KB EventBridge entry also holds the envelope and other fields.
MAX_EVENT_PAYLOAD_WIRE_BYTES = 160 * 1024
MAX_EVENT_LIST_ITEMS = 25  # violations, candidates, warnings, ... inside one event
MAX_EVENT_REASONING_CHARS = 4000  # reasoning summaries inside events
MAX_EVENT_STRING_CHARS = 8000  # any other string inside an event once an event is over its bound

# -- warm caches (per Lambda process) ------------------------------------------------------------
PACK_CACHE_MAX_ENTRIES = 256
PACK_CACHE_MAX_BYTES = 8 * 1024 * 1024
PLAYBOOK_CACHE_MAX_ENTRIES = 2000
PLAYBOOK_CACHE_MAX_BYTES = 32 * 1024 * 1024
PACK_RULES_CACHE_MAX_ENTRIES = 128

# -- candidate bundles (one compressed item per candidate partition, repository/candidates.py) ----
# A partition whose summaries compress to more is not bundled (matching queries it instead); a
# bundle that inflates past the second bound is refused as corrupt (no zip bombs).
MAX_CANDIDATE_BUNDLE_BYTES = 300 * 1024
MAX_CANDIDATE_BUNDLE_INFLATED_BYTES = 32 * 1024 * 1024


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode())


def wire_size(value: Any) -> int:
    """An upper bound of ``value``'s size as DynamoDB attribute-value JSON (``{"S": "..."}`` ...)."""
    total = 0
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            total += 9 + sum(json_size(key) + 2 for key in node)  # {"M":{}} , "key":
            stack.extend(node.values())
        elif isinstance(node, list):
            total += 9 + len(node)  # {"L":[]} and commas
            stack.extend(node)
        elif isinstance(node, str):
            total += 7 + json_size(node)
        elif node is None or isinstance(node, bool):
            total += 14  # {"NULL":true}
        else:
            total += 9 + len(str(node))  # {"N":"1"}
    return total


def truncate_text(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to at most ``limit`` characters (ending with a visible mark) and whether it was."""
    if len(text) <= limit:
        return text, False
    keep = max(limit - len(TRUNCATION_MARK), 0)
    return text[:keep] + TRUNCATION_MARK[: limit - keep], True


def cap_list(items: list[Any], limit: int = MAX_EVENT_LIST_ITEMS) -> tuple[list[Any], int]:
    """The first ``limit`` items and how many were left out."""
    return items[:limit], max(len(items) - limit, 0)


# Strings and lists are shrunk in these steps until the payload fits (the last always does:
# the number of keys of an event payload is fixed by its code, not by input).
_SHRINK_STEPS: tuple[tuple[int, int], ...] = (
    (MAX_EVENT_STRING_CHARS, MAX_EVENT_LIST_ITEMS),
    (1000, 10),
    (200, 3),
    (40, 1),
)


def bound_payload(payload: dict[str, Any], limit: int = MAX_EVENT_PAYLOAD_WIRE_BYTES) -> dict[str, Any]:
    """``payload`` unchanged when it fits ``limit``; otherwise a copy whose long strings and lists are
    cut, with ``truncated: {"original_wire_bytes", "fields"}`` saying what was cut. Small scalars
    (ids, orders, versions) are never touched, so projections and agents still read them."""
    if wire_size(payload) <= limit:
        return payload
    original = wire_size(payload)
    for max_chars, max_items in _SHRINK_STEPS:
        cut: list[str] = []
        shrunk = _shrink(payload, max_chars, max_items, "", cut, depth=0)
        shrunk["truncated"] = {"original_wire_bytes": original, "fields": cut[:MAX_EVENT_LIST_ITEMS]}
        if wire_size(shrunk) <= limit:
            return shrunk
    # Unreachable for payloads built by this code base; still never write an oversized event.
    return {"truncated": {"original_wire_bytes": original, "fields": ["*"]}}


_MAX_DEPTH = 8  # deeper structure inside an oversized payload is replaced by a marker


def _shrink(value: Any, max_chars: int, max_items: int, path: str, cut: list[str], depth: int) -> Any:
    if isinstance(value, str):
        text, was_cut = truncate_text(value, max_chars)
        if was_cut:
            cut.append(path or "payload")
        return text
    if isinstance(value, dict | list) and depth >= _MAX_DEPTH:
        cut.append(path)
        return TRUNCATION_MARK
    if isinstance(value, list):
        kept, omitted = cap_list(value, max_items)
        if omitted:
            cut.append(f"{path}[{omitted} omitted]")
        return [
            _shrink(item, max_chars, max_items, f"{path}[{i}]", cut, depth + 1) for i, item in enumerate(kept)
        ]
    if isinstance(value, dict):
        keys = list(value)
        kept_keys, omitted = cap_list(keys, max(max_items * 4, 20)) if depth else (keys, 0)
        if omitted:
            cut.append(f"{path}{{{omitted} keys omitted}}")
        return {
            key: _shrink(value[key], max_chars, max_items, f"{path}.{key}" if path else key, cut, depth + 1)
            for key in kept_keys
        }
    return value
