"""Compile a match object once into fast check closures, with an explainer for the reasoning.

``evaluate`` is the hot path (a short loop of closures, cheapest and most selective first);
``explain`` evaluates every condition, without short-circuiting, for the reasoning record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from ..errors import ValidationFailed
from ..models.enums import Severity
from .facts import MISSING, NUMBER_TYPES, Facts, path_getter
from .glob import compile_glob, has_wildcard
from .language import MATCH_KEYS, specificity
from .validation import validate_match

Test = Callable[[Facts], bool]
Probe = Callable[[Facts], Any]
ValueTest = Callable[[Any], bool]


@dataclass(frozen=True, slots=True)
class Check:
    """One condition of one candidate as the reasoning shows it."""

    condition: str
    expected: Any
    actual: Any
    passed: bool
    branches: tuple[tuple[Check, ...], ...] = ()  # any_of: the checks of each branch

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "condition": self.condition,
            "expected": jsonable(self.expected),
            "actual": jsonable(self.actual),
            "passed": self.passed,
        }
        if self.branches:
            data["branches"] = [[check.as_dict() for check in branch] for branch in self.branches]
        return data


@dataclass(frozen=True, slots=True)
class _Condition:
    name: str
    expected: Any  # made JSON-ready once, at compile time
    probe: Probe  # the exception's value, shown as "actual"
    test: Test
    branches: tuple[CompiledMatch, ...] = ()


class CompiledMatch:
    """A validated match object, compiled. Immutable and safe to share.

    ``tests`` is the whole fast path. ``domain`` (case-folded) and ``tests_besides_domain`` let
    an index bucket candidates by domain and skip the domain test inside a bucket.
    """

    __slots__ = ("_conditions", "domain", "specificity", "tests", "tests_besides_domain")

    def __init__(
        self,
        tests: tuple[Test, ...],
        conditions: tuple[_Condition, ...],
        specificity: int,
        domain: str | None,
        tests_besides_domain: tuple[Test, ...],
    ):
        self.tests = tests
        self._conditions = conditions
        self.specificity = specificity
        self.domain = domain
        self.tests_besides_domain = tests_besides_domain

    @property
    def is_catch_all(self) -> bool:
        return not self.tests

    def evaluate(self, facts: Facts) -> bool:
        # A plain loop: measurably faster than all() over a generator on the hot path.
        for test in self.tests:  # noqa: SIM110
            if not test(facts):
                return False
        return True

    def explain(self, facts: Facts) -> list[Check]:
        checks: list[Check] = []
        for condition in self._conditions:
            if condition.branches:
                per_branch = tuple(tuple(branch.explain(facts)) for branch in condition.branches)
                held = [i for i, branch in enumerate(per_branch) if all(check.passed for check in branch)]
                checks.append(Check(condition.name, condition.expected, held, bool(held), per_branch))
            else:
                passed = condition.test(facts)
                checks.append(Check(condition.name, condition.expected, condition.probe(facts), passed))
        return checks


def compile_match(obj: Any, path: str = "conditions.match") -> CompiledMatch:
    """Validate and compile a match object; raises ``ValidationFailed`` listing every problem."""
    problems = validate_match(obj, path)
    if problems:
        raise ValidationFailed(problems, "The match object is invalid")
    return _compile(obj)


def _compile(match: dict[str, Any]) -> CompiledMatch:
    ordered: list[tuple[int, Test]] = []
    conditions: list[_Condition] = []
    for key in MATCH_KEYS:
        if key in match:
            built, explained = _BUILDERS[key](match[key])
            ordered.extend((_FAST_ORDER[key], test) for test in built)
            conditions.extend(explained)
    ordered.sort(key=lambda pair: pair[0])
    tests = tuple(test for _, test in ordered)
    domain = match["domain"].casefold() if "domain" in match else None
    # The domain test is the only one of rank 0, so it is first when present.
    besides_domain = tests[1:] if domain is not None else tests
    return CompiledMatch(tests, tuple(conditions), specificity(match), domain, besides_domain)


Built = tuple[list[Test], list[_Condition]]


def _single(name: str, expected: Any, probe: Probe, test: Test) -> Built:
    test = _shared(name, expected, test)
    return [test], [_Condition(name, jsonable(expected), probe, test)]


# Equal conditions share one test closure across all playbooks. Thousands of playbooks then run
# a few hundred hot closures instead of thousands scattered over the heap, which is what makes
# the fast path fast at 10,000 candidates. A test is a pure function of (key, value), so sharing
# is safe; the key spells numbers, booleans and Decimals apart so 1, 1.0, true never collide.
_SHARED: dict[str, Test] = {}
SHARED_LIMIT = 100_000


def _shared(name: str, value: Any, test: Test) -> Test:
    key = json.dumps([name, value], sort_keys=True, separators=(",", ":"), default=_key_default)
    existing = _SHARED.get(key)
    if existing is not None:
        return existing
    if len(_SHARED) >= SHARED_LIMIT:
        _SHARED.clear()  # compiled matches keep their own references; only future sharing restarts
    _SHARED[key] = test
    return test


def _key_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    raise TypeError(f"not JSON: {type(value).__name__}")


# --- keys ---------------------------------------------------------------------------------


def _domain(value: str) -> Built:
    wanted = value.casefold()
    return _single("domain", value, _probe_domain, lambda facts: facts.domain_folded == wanted)


def _exception_type(value: str) -> Built:
    if has_wildcard(value):
        matches = compile_glob(value, input_folded=True)
        test: Test = lambda facts: matches(facts.exception_type_folded)  # noqa: E731
    else:
        wanted = value.casefold()
        test = lambda facts: facts.exception_type_folded == wanted  # noqa: E731
    return _single("exception_type", value, _probe_exception_type, test)


def _severity(value: str) -> Built:
    wanted = Severity(value)
    return _single("severity", value, _probe_severity, lambda facts: facts.severity == wanted)


def _severity_in(value: list[str]) -> Built:
    allowed = frozenset(Severity(item) for item in value)
    return _single("severity_in", list(value), _probe_severity, lambda facts: facts.severity in allowed)


def _sla(value: float) -> Built:
    def below(facts: Facts) -> bool:
        # No deadline never holds; overdue is negative; equal to the threshold does not hold.
        remaining = facts.sla_minutes_remaining
        return remaining is not None and remaining < value

    return _single("sla_minutes_remaining_lt", value, _probe_sla, below)


def _policy_tags(value: list[str]) -> Built:
    needed = frozenset(value)
    return _single("policy_tags", list(value), _probe_tags, lambda facts: needed <= facts.tag_set)


def _attributes(value: dict[str, dict[str, Any]]) -> Built:
    tests: list[Test] = []
    conditions: list[_Condition] = []
    for path, operators in value.items():
        get = path_getter(path)
        predicates = [(operator, _operator(operator, operand)) for operator, operand in operators.items()]
        every = _path_test(get, tuple(predicate for _, predicate in predicates))
        tests.append(_shared("attributes", {path: operators}, every))
        for operator, predicate in predicates:
            operand = operators[operator]
            conditions.append(
                _Condition(
                    f"attributes.{path}.{operator}",
                    jsonable(operand),
                    _attribute_probe(get, presence=operator == "exists"),
                    _shared("attributes", {path: {operator: operand}}, _path_test(get, (predicate,))),
                )
            )
    return tests, conditions


def _any_of(value: list[dict[str, Any]]) -> Built:
    branches = tuple(_compile(branch) for branch in value)

    def any_branch(facts: Facts) -> bool:
        return any(branch.evaluate(facts) for branch in branches)

    test = _shared("any_of", value, any_branch)
    return [test], [_Condition("any_of", jsonable(value), _probe_none, test, branches)]


_BUILDERS: dict[str, Callable[[Any], Built]] = {
    "domain": _domain,
    "exception_type": _exception_type,
    "severity": _severity,
    "severity_in": _severity_in,
    "sla_minutes_remaining_lt": _sla,
    "policy_tags": _policy_tags,
    "attributes": _attributes,
    "any_of": _any_of,
}
# Fast-path order: cheap equality checks first (they reject most candidates), nested work last.
_FAST_ORDER = {
    key: rank
    for rank, key in enumerate(
        (
            "domain",
            "severity",
            "severity_in",
            "exception_type",
            "sla_minutes_remaining_lt",
            "policy_tags",
            "attributes",
            "any_of",
        )
    )
}


# --- attribute operators ------------------------------------------------------------------


_BOOLEAN_TYPES: frozenset[type] = frozenset({bool})
_STRING_TYPES: frozenset[type] = frozenset({str})


def _kind_types(operand: Any) -> frozenset[type]:
    """Exact types an attribute must have to be compared with ``operand`` (like with like)."""
    if isinstance(operand, bool):
        return _BOOLEAN_TYPES
    if isinstance(operand, str):
        return _STRING_TYPES
    return NUMBER_TYPES


def _operator(operator: str, operand: Any) -> ValueTest:
    if operator == "exists":
        return (lambda v: v is not MISSING) if operand else (lambda v: v is MISSING)
    if operator == "glob":
        matches = compile_glob(operand)
        return lambda v: type(v) is str and matches(v)
    if operator in ("in", "not_in"):
        types, values = _kind_types(operand[0]), frozenset(operand)
        if operator == "in":
            return lambda v: type(v) in types and v in values
        return lambda v: type(v) in types and v not in values
    types = _kind_types(operand)
    if operator == "eq":
        return lambda v: type(v) in types and v == operand
    if operator == "ne":
        return lambda v: type(v) in types and v != operand
    if operator == "gt":
        return lambda v: type(v) in types and v > operand
    if operator == "gte":
        return lambda v: type(v) in types and v >= operand
    if operator == "lt":
        return lambda v: type(v) in types and v < operand
    if operator == "lte":
        return lambda v: type(v) in types and v <= operand
    raise ValueError(f"unknown operator {operator!r}")  # unreachable after validation


def _path_test(get: Callable[[Any], Any], predicates: Sequence[ValueTest]) -> Test:
    if len(predicates) == 1:
        only = predicates[0]
        return lambda facts: only(get(facts.attributes))

    def every(facts: Facts) -> bool:
        value = get(facts.attributes)  # resolved once for all operators on this path
        return all(predicate(value) for predicate in predicates)

    return every


# --- probes (the "actual" values of the reasoning) -----------------------------------------


def _attribute_probe(get: Callable[[Any], Any], *, presence: bool) -> Probe:
    if presence:
        return lambda facts: get(facts.attributes) is not MISSING
    return lambda facts: None if (value := get(facts.attributes)) is MISSING else value


def _probe_domain(facts: Facts) -> Any:
    return facts.domain


def _probe_exception_type(facts: Facts) -> Any:
    return facts.exception_type


def _probe_severity(facts: Facts) -> Any:
    return facts.severity.value if facts.severity is not None else None


def _probe_sla(facts: Facts) -> Any:
    remaining = facts.sla_minutes_remaining
    return None if remaining is None else round(remaining, 2)


def _probe_tags(facts: Facts) -> Any:
    return list(facts.tags)


def _probe_none(facts: Facts) -> Any:
    return None


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """A JSON-ready copy: Decimals (from DynamoDB) become numbers, enums their values."""
    if type(value) in _PLAIN_TYPES:  # the common case, answered without isinstance chains
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value
