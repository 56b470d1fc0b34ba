"""Playbook matching: the condition language, the effective view, guardrails and selection.

Pure domain code (no AWS). Typical use::

    result = select_playbook(record, candidates, packs, now)
    result.winner, result.reasoning_dict()
"""

from __future__ import annotations

from .conditions import (
    Check,
    CompiledMatch,
    compile_match,
    normalise_conditions,
    validate_conditions,
    validate_match,
)
from .effective import EffectiveView, effective_view
from .engine import MatchResult, select_for_view, select_playbook
from .guardrails import Guardrails, policy_violations
from .ranking import rank_key
from .reasoning import PassedOver, Reasoning

__all__ = [
    "Check",
    "CompiledMatch",
    "EffectiveView",
    "Guardrails",
    "MatchResult",
    "PassedOver",
    "Reasoning",
    "compile_match",
    "effective_view",
    "normalise_conditions",
    "policy_violations",
    "rank_key",
    "select_for_view",
    "select_playbook",
    "validate_conditions",
    "validate_match",
]
