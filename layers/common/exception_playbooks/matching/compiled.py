"""Compiled playbook conditions, cached on the (immutable) ``PlaybookVersion`` itself.

The cache lives in the version's ``_derived`` private slot, read through ``__pydantic_private__``
directly: pydantic's private-attribute ``__getattr__`` costs ~1.7 us, which at 10,000
candidates would be most of the matching budget. The entry remembers the ``Conditions`` object
it was compiled from, so a ``model_copy`` with other conditions recompiles instead of reusing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from ..errors import Problem, ValidationFailed
from ..models.playbook import Conditions, DerivedCache, PlaybookVersion
from .compiler import Check, CompiledMatch, Test, compile_match
from .facts import Facts


def _never(facts: Facts) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class CompiledPlaybook:
    source: Conditions  # identity guard against stale entries
    match: CompiledMatch | None  # None when the stored conditions are invalid: never matches
    problems: tuple[Problem, ...]
    tests: tuple[Test, ...]  # the fast path: every test must hold
    priority: int
    specificity: int

    def explain(self, facts: Facts) -> list[Check]:
        if self.match is None:
            problems = [problem.as_dict() for problem in self.problems]
            return [Check("conditions", "valid conditions", problems, False)]
        return self.match.explain(facts)


def compile_conditions(conditions: Conditions) -> CompiledPlaybook:
    try:
        match = compile_match(conditions.match)
    except ValidationFailed as failure:
        # A stored playbook with broken conditions must not break matching for the whole tenant.
        return CompiledPlaybook(conditions, None, tuple(failure.problems), (_never,), conditions.priority, 0)
    return CompiledPlaybook(conditions, match, (), match.tests, conditions.priority, match.specificity)


def compiled_playbook(playbook: PlaybookVersion) -> CompiledPlaybook:
    """The compiled conditions of a version, compiling them on first use."""
    slot = cast(DerivedCache, cast(dict[str, object], playbook.__pydantic_private__)["_derived"])
    entry = slot.value
    if entry is not None and entry.source is playbook.conditions:
        return cast(CompiledPlaybook, entry)
    entry = compile_conditions(playbook.conditions)
    slot.value = entry
    return entry
