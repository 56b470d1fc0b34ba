"""The reasoning record: a one-paragraph summary (built eagerly, it is cheap) and, for every
candidate, each condition with expected, actual and pass/fail (built lazily: explaining 10,000
candidates costs far more than selecting the winner)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..models.playbook import PlaybookVersion
from .compiled import CompiledPlaybook
from .effective import (
    SOURCE_DEFAULT,
    SOURCE_GIVEN,
    SOURCE_HUMAN,
    SOURCE_OVERRIDE,
    SOURCE_TYPE_DEFAULT,
    EffectiveView,
)
from .guardrails import Guardrails
from .index import IndexedCandidate, gc_paused
from .ranking import deciding_factor

MAX_LISTED = 5  # passed-over playbooks named in the summary; the rest are counted


@dataclass(frozen=True, slots=True)
class PassedOver:
    """A match that ranked above the winner but violates the tenant policy."""

    playbook: PlaybookVersion
    violations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What selection decided; the input of the summary and of the candidate list."""

    view: EffectiveView
    snapshot: tuple[PlaybookVersion, ...]  # the candidates as given
    active: tuple[IndexedCandidate, ...]  # the active ones, by position in the snapshot
    ranked: Sequence[IndexedCandidate]  # every match, best first
    winner_rank: int | None  # index of the winner in ``ranked``
    passed_over: Sequence[PassedOver]
    enforced: bool

    def playbook(self, entry: IndexedCandidate) -> PlaybookVersion:
        return self.snapshot[entry.position]


class Reasoning:
    """The reasoning of one selection; ``as_dict()`` is the API's ``reasoning`` object."""

    def __init__(self, outcome: Outcome, guardrails: Guardrails):
        self._outcome = outcome
        self._guardrails = guardrails
        self.summary = summarise(outcome, guardrails)
        self._candidates: list[dict[str, Any]] | None = None

    def candidates(self) -> list[dict[str, Any]]:
        """Every active candidate: matches in rank order first, then the rest by playbook_id."""
        if self._candidates is None:
            with gc_paused():  # tens of thousands of plain dicts and lists, none in a cycle
                self._candidates = self._build_candidates()
        return self._candidates

    def as_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "candidates": self.candidates(),
            "effective": self._outcome.view.as_dict(),
            "guardrails_enforced": self._outcome.enforced,
        }

    def _build_candidates(self) -> list[dict[str, Any]]:
        outcome = self._outcome
        matched = {entry.position for entry in outcome.ranked}
        unmatched = sorted(
            (
                (outcome.snapshot[entry.position], entry.compiled)
                for entry in outcome.active
                if entry.position not in matched
            ),
            key=lambda pair: (pair[0].playbook_id, -pair[0].version),
        )
        dicts = [
            self._candidate(outcome.playbook(entry), entry.compiled, rank, rank - 1 == outcome.winner_rank)
            for rank, entry in enumerate(outcome.ranked, start=1)
        ]
        dicts.extend(self._candidate(playbook, compiled, None, False) for playbook, compiled in unmatched)
        return dicts

    def _candidate(
        self, playbook: PlaybookVersion, compiled: CompiledPlaybook, rank: int | None, selected: bool
    ) -> dict[str, Any]:
        violations = self._guardrails.violations(playbook)
        return {
            "playbook_id": playbook.playbook_id,
            "name": playbook.name,
            "version": playbook.version,
            "priority": compiled.priority,
            "specificity": compiled.specificity,
            "matched": rank is not None,
            "rank": rank,
            "selected": selected,
            "compliant": not violations,
            "violations": violations,
            "checks": [check.as_dict() for check in compiled.explain(self._outcome.view)],
        }


# --- summary ------------------------------------------------------------------------------


def summarise(outcome: Outcome, guardrails: Guardrails) -> str:
    """One paragraph: who won and why, who was passed over and why, what the exception looked like."""
    active, matched = len(outcome.active), len(outcome.ranked)
    if outcome.winner_rank is None:
        if not active:
            return "No playbook matched: there are no active playbooks."
        if not matched:
            return (
                f"No playbook matched: the conditions of none of the {active} active playbooks held "
                f"for this exception ({_view_text(outcome.view)})."
            )
        sentences = [
            f"No playbook was selected: {_count(matched, 'playbook')} matched "
            "but each violates the tenant policy."
        ]
        sentences += _passed_over_sentences(outcome.passed_over, "matched but was passed over")
        sentences.append(f"The exception was evaluated with {_view_text(outcome.view)}.")
        return " ".join(sentences)

    winner = outcome.ranked[outcome.winner_rank]
    playbook, compiled = outcome.playbook(winner), winner.compiled
    label = (
        f"'{playbook.name}' ({playbook.playbook_id} v{playbook.version}, "
        f"priority {compiled.priority}, specificity {compiled.specificity})"
    )
    sentences = [f"Selected {label}: {_why_winner(outcome, outcome.winner_rank)}."]
    sentences += _passed_over_sentences(outcome.passed_over, "matched with higher rank but was passed over")
    if not outcome.enforced:
        violations = guardrails.violations(playbook)
        if violations:
            sentences.append(
                f"Guardrails were not applied; it violates the tenant policy: {'; '.join(violations)}."
            )
    sentences.append(
        f"{matched} of {active} active playbooks matched; the exception was evaluated with "
        f"{_view_text(outcome.view)}."
    )
    return " ".join(sentences)


def _why_winner(outcome: Outcome, position: int) -> str:
    if len(outcome.ranked) == 1:
        return "it is the only playbook whose conditions held"
    if position + 1 == len(outcome.ranked):
        return "it is the highest-ranked match that complies with the tenant policy"
    winner, runner = outcome.ranked[position], outcome.ranked[position + 1]
    winner_playbook, runner_playbook = outcome.playbook(winner), outcome.playbook(runner)
    other = _name(runner_playbook)
    factor = deciding_factor(winner.key, runner.key)
    if factor == "priority":
        return f"its priority is higher than that of the next match, {other} ({runner.compiled.priority})"
    if factor == "specificity":
        return (
            f"it ties on priority with {other} but is more specific "
            f"({winner.compiled.specificity} conditions against {runner.compiled.specificity})"
        )
    if factor == "created_at":
        return (
            f"it ties on priority and specificity with {other} but is newer "
            f"(created {winner_playbook.created_at} against {runner_playbook.created_at})"
        )
    if factor == "playbook_id":
        return (
            f"it ties on priority, specificity and creation time with {other}, "
            f"and its playbook_id sorts first"
        )
    return f"it ties on every factor with {other} but is a newer version"


def _passed_over_sentences(passed_over: Sequence[PassedOver], verb: str) -> list[str]:
    sentences = [
        f"{_name(item.playbook)} {verb}: {'; '.join(item.violations)}." for item in passed_over[:MAX_LISTED]
    ]
    hidden = len(passed_over) - MAX_LISTED
    if hidden > 0:
        sentences.append(f"{_count(hidden, 'more playbook')} were passed over for policy violations.")
    return sentences


_SOURCE_TEXT = {
    SOURCE_HUMAN: "set by a person",
    SOURCE_OVERRIDE: "tenant override",
    SOURCE_GIVEN: "given at creation",
    SOURCE_TYPE_DEFAULT: "the exception type's default",
    SOURCE_DEFAULT: "default",
}


def _view_text(view: EffectiveView) -> str:
    source = _SOURCE_TEXT.get(view.severity_source, view.severity_source)
    tags = ", ".join(view.tags) if view.tags else "none"
    remaining = view.sla_minutes_remaining
    if remaining is None:
        sla = "no SLA deadline"
    elif remaining < 0:
        sla = f"SLA overdue by {-remaining:.1f} minutes"
    else:
        sla = f"{remaining:.1f} minutes to the SLA deadline"
    return f"severity {view.severity.value} ({source}), tags {tags}, {sla}"


def _name(playbook: PlaybookVersion) -> str:
    return f"'{playbook.name}'"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
