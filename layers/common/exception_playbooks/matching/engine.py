"""Select one playbook for one exception (BEHAVIOUR.md, Matching).

The winner is found with the compiled fast path only, over the cached candidate index; the
per-candidate reasoning is built on demand by ``MatchResult.reasoning_dict()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from ..models.exception import ExceptionRecord
from ..models.packs import PackSet
from ..models.playbook import PlaybookVersion
from .effective import EffectiveView, effective_view
from .guardrails import Guardrails
from .index import IndexedCandidate, candidate_index
from .reasoning import Outcome, PassedOver, Reasoning

_BY_KEY = attrgetter("key")


@dataclass(frozen=True, slots=True)
class MatchResult:
    winner: PlaybookVersion | None
    view: EffectiveView
    reasoning: Reasoning
    matched: tuple[PlaybookVersion, ...]  # every match, best first (compliant or not)
    passed_over: tuple[PassedOver, ...]  # matches ranked above the winner that violate the policy

    @property
    def summary(self) -> str:
        return self.reasoning.summary

    def reasoning_dict(self) -> dict[str, Any]:
        """``{"summary", "candidates": [...]}`` as API.md shows it (plus extra keys)."""
        return self.reasoning.as_dict()


def select_playbook(
    record: ExceptionRecord,
    candidates: Sequence[PlaybookVersion],
    packs: PackSet,
    now: datetime,
    *,
    enforce_guardrails: bool = True,
) -> MatchResult:
    """Choose the playbook for ``record`` among ``candidates`` (inactive ones are skipped)."""
    view = effective_view(record, packs, now)
    return select_for_view(view, candidates, packs, enforce_guardrails=enforce_guardrails)


def select_for_view(
    view: EffectiveView,
    candidates: Sequence[PlaybookVersion],
    packs: PackSet,
    *,
    enforce_guardrails: bool = True,
) -> MatchResult:
    """Like ``select_playbook`` for an already computed view (e.g. triage, then policy)."""
    snapshot = tuple(candidates)  # the reasoning is built later; a caller's list may change
    index = candidate_index(snapshot)
    matches: list[IndexedCandidate] = []
    for bucket in index.buckets_for(view.domain_folded):
        for entry in bucket:
            for test in entry.tests:
                if not test(view):
                    break
            else:
                matches.append(entry)
    matches.sort(key=_BY_KEY)
    matched = tuple(snapshot[entry.position] for entry in matches)

    guardrails = Guardrails(packs)
    winner: int | None = None
    passed_over: list[PassedOver] = []
    for rank, playbook in enumerate(matched):
        violations = guardrails.violations(playbook) if enforce_guardrails else []
        if not violations:
            winner = rank
            break
        passed_over.append(PassedOver(playbook, tuple(violations)))

    outcome = Outcome(view, snapshot, index.active, matches, winner, passed_over, enforce_guardrails)
    return MatchResult(
        winner=matched[winner] if winner is not None else None,
        view=view,
        reasoning=Reasoning(outcome, guardrails),
        matched=matched,
        passed_over=tuple(passed_over),
    )
