"""Field-by-field comparison of two playbook documents (two versions, or a draft and its base).

Steps carry no identity of their own, so they are paired by (name, action_type) in order of
appearance; pairs that keep their relative order (the longest common subsequence) are
"unchanged" or "changed", the other pairs "moved"; unpaired steps are "added" or "removed".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

_STEP_FIELDS = ("name", "action_type", "params", "requires_approval", "skippable")
_STEP_DEFAULTS = {"params": {}, "requires_approval": False, "skippable": True}


def diff_playbooks(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """``{"fields", "conditions", "priority", "steps", "changed"}`` between two documents."""
    fields = [
        {"field": name, "before": before.get(name), "after": after.get(name)}
        for name in ("name", "description")
        if before.get(name) != after.get(name)
    ]
    old_conditions = before.get("conditions") or {}
    new_conditions = after.get("conditions") or {}
    conditions = diff_match(old_conditions.get("match") or {}, new_conditions.get("match") or {})
    priority = None
    if old_conditions.get("priority", 0) != new_conditions.get("priority", 0):
        priority = {"before": old_conditions.get("priority", 0), "after": new_conditions.get("priority", 0)}
    steps = diff_steps(before.get("steps") or [], after.get("steps") or [])
    changed = bool(fields or conditions or priority) or any(s["change"] != "unchanged" for s in steps)
    return {
        "changed": changed,
        "fields": fields,
        "conditions": conditions,
        "priority": priority,
        "steps": steps,
    }


def diff_match(before: Mapping[str, Any], after: Mapping[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """Per condition key (attribute paths one by one): added, removed or changed."""
    changes: list[dict[str, Any]] = []
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        path = f"{prefix}{key}"
        if key == "attributes" and isinstance(old, dict | None) and isinstance(new, dict | None):
            changes += diff_match(old or {}, new or {}, f"{path}.")
        elif key not in after:
            changes.append({"path": path, "change": "removed", "before": old, "after": None})
        elif key not in before:
            changes.append({"path": path, "change": "added", "before": None, "after": new})
        elif old != new:
            changes.append({"path": path, "change": "changed", "before": old, "after": new})
    return changes


def diff_steps(
    before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One entry per step of either side, in the order of ``after`` (removed ones where they were)."""
    old = [_normal(step) for step in before]
    new = [_normal(step) for step in after]
    pairs = _pair(old, new)
    kept = _longest_ordered(pairs)
    by_new = {j: i for i, j in pairs}
    paired_old = {i for i, _ in pairs}
    entries: list[dict[str, Any]] = []
    removed = [i for i in range(len(old)) if i not in paired_old]
    for j, step in enumerate(new):
        partner = by_new.get(j)
        while removed and partner is not None and removed[0] < partner:
            gone = removed.pop(0)  # a removed step shows where it was, before its old successor
            entries.append(_entry("removed", gone, None, old[gone], None))
        if j not in by_new:
            entries.append(_entry("added", None, j, None, step))
            continue
        i = by_new[j]
        changed = [f for f in _STEP_FIELDS if old[i][f] != step[f]]
        kind = "moved" if (i, j) not in kept else ("changed" if changed else "unchanged")
        entry = _entry(kind, i, j, old[i], step)
        entry["changed_fields"] = changed
        entries.append(entry)
    entries += [_entry("removed", i, None, old[i], None) for i in removed]
    return entries


def _normal(step: Mapping[str, Any]) -> dict[str, Any]:
    return {name: step.get(name, _STEP_DEFAULTS.get(name)) for name in _STEP_FIELDS}


def _pair(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Pair steps with the same name and action type, first with first (exact copies first)."""
    free: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, step in enumerate(old):
        free[(str(step["name"]), str(step["action_type"]))].append(i)
    pairs: list[tuple[int, int]] = []
    for j, step in enumerate(new):
        candidates = free.get((str(step["name"]), str(step["action_type"])))
        if candidates:
            exact = next((i for i in candidates if old[i] == step), candidates[0])
            candidates.remove(exact)
            pairs.append((exact, j))
    return pairs


def _longest_ordered(pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """The largest set of pairs whose old positions increase with the new ones (O(n^2), n <= 100)."""
    if not pairs:
        return set()
    best = [1] * len(pairs)
    back = [-1] * len(pairs)
    for b in range(len(pairs)):
        for a in range(b):
            if pairs[a][0] < pairs[b][0] and best[a] + 1 > best[b]:
                best[b], back[b] = best[a] + 1, a
    end = max(range(len(pairs)), key=lambda k: best[k])
    kept: set[tuple[int, int]] = set()
    while end != -1:
        kept.add(pairs[end])
        end = back[end]
    return kept


def _entry(change: str, old_index: int | None, new_index: int | None, old: Any, new: Any) -> dict[str, Any]:
    return {
        "change": change,
        "before_order": None if old_index is None else old_index + 1,
        "after_order": None if new_index is None else new_index + 1,
        "before": old,
        "after": new,
        "changed_fields": [],
    }
