"""Playbook matching: the condition language, the effective view, guardrails and selection.

Pure domain code (no AWS). Typical use::

    result = select_playbook(record, candidates, packs, now)
    result.winner, result.reasoning_dict()
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Names are imported on first use (PEP 562): a function that needs only the effective view
# (status, execute) never pays for compiling, ranking and reasoning at cold start.
_HOME = {
    "Check": "conditions",
    "CompiledMatch": "conditions",
    "compile_match": "conditions",
    "normalise_conditions": "conditions",
    "validate_conditions": "conditions",
    "validate_match": "conditions",
    "EffectiveView": "effective",
    "effective_view": "effective",
    "MatchResult": "engine",
    "select_for_view": "engine",
    "select_playbook": "engine",
    "Guardrails": "guardrails",
    "policy_violations": "guardrails",
    "rank_key": "ranking",
    "PassedOver": "reasoning",
    "Reasoning": "reasoning",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


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
