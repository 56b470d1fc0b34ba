"""Ranking among matching playbooks: a total order, independent of input order.

Higher priority; then more specific; then the newer version ``created_at``; then
``playbook_id`` ascending; then the higher version (only to stay total if two versions of one
playbook are ever offered). Sorting ascending by ``rank_key`` puts the best first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Final

from ..models.playbook import PlaybookVersion
from ..ports import parse_iso
from .compiled import CompiledPlaybook, compiled_playbook

RankKey = tuple[int, int, int, str, int]
RANK_FACTORS: Final[tuple[str, ...]] = ("priority", "specificity", "created_at", "playbook_id", "version")

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_UNREADABLE: Final = -(2**62)  # an unreadable created_at ranks as the oldest


@lru_cache(maxsize=65_536)
def created_micros(created_at: str) -> int:
    """Exact integer microseconds since the epoch (floats would lose sub-millisecond order)."""
    try:
        moment = parse_iso(created_at)
    except ValueError:
        return _UNREADABLE
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def key_for(playbook: PlaybookVersion, compiled: CompiledPlaybook) -> RankKey:
    return (
        -compiled.priority,
        -compiled.specificity,
        -created_micros(playbook.created_at),
        playbook.playbook_id,
        -playbook.version,
    )


def rank_key(playbook: PlaybookVersion) -> RankKey:
    """Sort key of a playbook among matches: smaller is better."""
    return key_for(playbook, compiled_playbook(playbook))


def deciding_factor(better: RankKey, worse: RankKey) -> str | None:
    """Name of the first ranking factor that separates two keys (``None`` when they are equal)."""
    for name, left, right in zip(RANK_FACTORS, better, worse, strict=True):
        if left != right:
            return name
    return None
