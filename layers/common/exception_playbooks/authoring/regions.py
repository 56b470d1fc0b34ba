"""What a match object can hold for: can it ever hold, and does one imply another?

Both questions are answered per *dimension* of the facts (domain, type, severity, SLA, tags, each
attribute path), which are independent of each other, so a conjunction implies another exactly
when each dimension does. Every answer is *sound*: ``never_holds`` only reports what truly can
never hold and ``implies`` only says yes when it is certain; where a question is out of reach
(globs against globs, nested ``any_of``) the answer is the safe "unknown" (no finding, no
implication).

Attribute operators are evaluated by the real compiled matcher on a finite set of probe values:
for ``eq/ne/in/not_in/gt/gte/lt/lte/exists`` a predicate is constant between the operands it
mentions, so one probe per operand, one between each pair and one beyond each end (per kind:
numbers, strings, booleans, null, objects, missing) decides every question exactly.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ..errors import ValidationFailed
from ..matching.compiler import compile_match
from ..matching.facts import MISSING, fact_sheet
from ..matching.glob import compile_glob, has_wildcard
from ..models.enums import Severity

ALL_SEVERITIES: frozenset[Severity] = frozenset(Severity)
_PROBE_KEY = "v"


@dataclass(frozen=True)
class Contradiction:
    """One reason a match object can never hold: where, and why (a sentence)."""

    path: str
    sentence: str


def severities(match: Mapping[str, Any]) -> frozenset[Severity]:
    """The effective severities a match object allows (all four when it says nothing)."""
    allowed = set(ALL_SEVERITIES)
    if isinstance(match.get("severity"), str):
        allowed &= {Severity(match["severity"])}
    if isinstance(match.get("severity_in"), list):
        allowed &= {Severity(item) for item in match["severity_in"]}
    return frozenset(allowed)


def never_holds(match: Mapping[str, Any], path: str = "conditions.match") -> list[Contradiction]:
    """Every reason a (valid) match object can never hold; empty when it can (or may)."""
    found: list[Contradiction] = []
    if not severities(match):
        found.append(
            Contradiction(
                f"{path}.severity_in",
                f"severity {match.get('severity')!r} is not among severity_in {match.get('severity_in')}: "
                "no exception can have both",
            )
        )
    attributes = match.get("attributes")
    if isinstance(attributes, dict):
        for attribute, operators in attributes.items():
            if isinstance(operators, dict) and not _satisfiable(operators):
                found.append(
                    Contradiction(
                        f"{path}.attributes.{attribute}",
                        f"no value of '{attribute}' satisfies {_spell(operators)} together",
                    )
                )
    branches = match.get("any_of")
    if isinstance(branches, list) and branches:
        dead = [
            (index, never_holds(branch, f"{path}.any_of[{index}]"))
            for index, branch in enumerate(branches)
            if isinstance(branch, dict)
        ]
        dead = [(index, reasons) for index, reasons in dead if reasons]
        if len(dead) == len(branches):
            found.append(Contradiction(f"{path}.any_of", "no branch of any_of can ever hold"))
            for _, reasons in dead:
                found.extend(reasons)
    return found


def dead_branches(match: Mapping[str, Any], path: str = "conditions.match") -> list[Contradiction]:
    """``any_of`` branches that can never hold while others can (dead alternatives)."""
    branches = match.get("any_of")
    if not isinstance(branches, list):
        return []
    reasons = [never_holds(branch, f"{path}.any_of[{i}]") for i, branch in enumerate(branches)]
    if all(reasons):
        return []  # the whole any_of is dead: never_holds reports it
    return [
        Contradiction(f"{path}.any_of[{index}]", f"this branch can never hold: {found[0].sentence}")
        for index, found in enumerate(reasons)
        if found
    ]


def implies(narrow: Mapping[str, Any], broad: Mapping[str, Any]) -> bool:
    """True only if every exception ``narrow`` holds for is one ``broad`` holds for too.

    ``narrow`` is assumed satisfiable (check ``never_holds`` first)."""
    return all(_implies_key(narrow, key, expected) for key, expected in broad.items())


def _implies_key(narrow: Mapping[str, Any], key: str, expected: Any) -> bool:
    if key == "domain":
        value = narrow.get("domain")
        return isinstance(value, str) and value.casefold() == str(expected).casefold()
    if key == "exception_type":
        return _type_implies(narrow.get("exception_type"), str(expected))
    if key in ("severity", "severity_in"):
        return severities(narrow) <= severities({key: expected})
    if key == "sla_minutes_remaining_lt":
        mine = narrow.get("sla_minutes_remaining_lt")
        return _is_number(mine) and mine <= expected
    if key == "policy_tags":
        mine = narrow.get("policy_tags")
        return isinstance(mine, list) and set(expected) <= set(mine)
    if key == "attributes":
        found = narrow.get("attributes")
        paths: dict[str, Any] = found if isinstance(found, dict) else {}
        return all(_path_implies(paths.get(path), operators) for path, operators in expected.items())
    if key == "any_of":
        if narrow.get("any_of") == expected:
            return True
        # Sound: narrow implies one particular branch (implying "some branch" per exception is more).
        return any(implies(narrow, branch) for branch in expected)
    return False  # an unknown key: never claim an implication


def _type_implies(narrow: Any, broad: str) -> bool:
    if not isinstance(narrow, str):
        return False
    if narrow.casefold() == broad.casefold():
        return True
    if has_wildcard(narrow):
        return False  # a pattern against another pattern: out of reach, say no
    return has_wildcard(broad) and compile_glob(broad)(narrow)


def _path_implies(narrow: dict[str, Any] | None, broad: dict[str, Any]) -> bool:
    if not narrow:
        return False  # narrow says nothing of this path: a missing value fails broad (bar exists:false)
    if all(op in narrow and narrow[op] == operand for op, operand in broad.items()):
        return True  # broad's operators are among narrow's
    holds, also = _predicate(_key(narrow)), _predicate(_key(broad))
    if holds is None or also is None:
        return False
    if "glob" in narrow or "glob" in broad:
        finite = _finite_strings(narrow)
        return finite is not None and all(also(value) for value in finite if holds(value))
    return all(also(value) for value in _probes(narrow, broad) if holds(value))


def _satisfiable(operators: dict[str, Any]) -> bool:
    holds = _predicate(_key(operators))
    if holds is None:
        return True
    if any(holds(value) for value in _probes(operators)):
        return True
    if "glob" not in operators:
        return False
    finite = _finite_strings(operators)
    return finite is None or any(holds(value) for value in finite)  # a glob alone: assume it can hold


def _finite_strings(operators: dict[str, Any]) -> list[str] | None:
    """The strings a path is pinned to by ``eq``/``in`` (None when it is not pinned)."""
    if isinstance(operators.get("eq"), str):
        return [operators["eq"]]
    if isinstance(operators.get("in"), list) and all(isinstance(v, str) for v in operators["in"]):
        return list(operators["in"])
    return None


def _probes(*operator_sets: dict[str, Any]) -> list[Any]:
    numbers: set[Any] = set()
    strings: set[str] = set()
    for operators in operator_sets:
        for operator, operand in operators.items():
            if operator in ("exists", "glob"):
                continue
            for value in operand if isinstance(operand, list) else [operand]:
                if _is_number(value):
                    numbers.add(value)
                elif isinstance(value, str):
                    strings.add(value)
    probes: list[Any] = [MISSING, None, True, False, {"": None}]
    ordered = sorted(numbers, key=float)
    if ordered:
        floats = [float(n) for n in ordered]
        probes += [*ordered, floats[0] - 1, floats[-1] + 1]
        probes += [(low + high) / 2 for low, high in itertools.pairwise(floats)]
    else:
        probes.append(0)
    texts = sorted(strings)
    if texts:
        probes += texts + [text + "\x00" for text in texts]
        if texts[0]:
            probes.append("")
    else:
        probes.append("x")
    return probes


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _key(operators: dict[str, Any]) -> str:
    """A cache key for one path's operators (stored Decimals spelt as the numbers they are)."""
    return json.dumps(_plain(operators), sort_keys=True)


@lru_cache(maxsize=4096)
def _predicate(key: str) -> Callable[[Any], bool] | None:
    """The real matcher's test for one path's operators, applied to a bare value."""
    try:
        compiled = compile_match({"attributes": {_PROBE_KEY: json.loads(key)}})
    except ValidationFailed:
        return None  # operators the language refuses: no claim either way

    def holds(value: Any) -> bool:
        attributes = {} if value is MISSING else {_PROBE_KEY: value}
        facts = fact_sheet(domain="d", exception_type="t", severity=None, attributes=attributes)
        return compiled.evaluate(facts)

    return holds


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _spell(operators: dict[str, Any]) -> str:
    return ", ".join(f"{op} {value!r}" for op, value in operators.items())


def attribute_paths(match: Mapping[str, Any]) -> Iterable[str]:
    """Every attribute path a match object tests (any_of branches included)."""
    attributes = match.get("attributes")
    if isinstance(attributes, dict):
        yield from attributes
    branches = match.get("any_of")
    if isinstance(branches, list):
        for branch in branches:
            if isinstance(branch, dict):
                yield from attribute_paths(branch)
