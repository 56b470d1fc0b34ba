"""Case-insensitive globs with ``*`` (any run) and ``?`` (one character), in linear-ish time.

A glob is not translated to one regex: patterns like ``*a*a*a*b`` backtrack polynomially on long
attribute strings. Instead the pattern is split on ``*``; every piece has a fixed length, so
placing each piece at its leftmost possible position is optimal and needs no backtracking.
"""

from __future__ import annotations

import re
from collections.abc import Callable

GlobMatcher = Callable[[str], bool]


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _same(text: str) -> str:
    return text


def _piece(text: str) -> re.Pattern[str]:
    return re.compile("".join("." if ch == "?" else re.escape(ch) for ch in text), re.DOTALL)


def compile_glob(pattern: str, *, input_folded: bool = False) -> GlobMatcher:
    """Return a predicate telling whether a string matches ``pattern``, ignoring case.

    ``input_folded`` skips case-folding the tested text when the caller already folded it once
    (the exception type is folded once per evaluation, not once per playbook).
    """
    folded = pattern.casefold()
    fold: Callable[[str], str] = _same if input_folded else str.casefold
    if not has_wildcard(folded):
        return lambda text: fold(text) == folded
    if "*" not in folded:
        whole = _piece(folded).fullmatch
        return lambda text: whole(fold(text)) is not None
    if "?" not in folded:
        return _stars_only(folded, fold)

    head_text, *middle_texts, tail_text = folded.split("*")
    head, tail = _piece(head_text), _piece(tail_text)
    middles = tuple(_piece(text) for text in middle_texts if text)
    fixed = len(head_text) + len(tail_text)

    def matches(text: str) -> bool:
        folded_text = fold(text)
        end = len(folded_text) - len(tail_text)
        if len(folded_text) < fixed or head.match(folded_text) is None:
            return False
        if tail.fullmatch(folded_text, end) is None:
            return False
        position = len(head_text)
        for piece in middles:
            found = piece.search(folded_text, position, end)
            if found is None:
                return False
            position = found.end()
        return True

    return matches


def _stars_only(folded: str, fold: Callable[[str], str]) -> GlobMatcher:
    """The common shapes (``Trade*``, ``*Failure``, ``*bank*``) with plain string methods."""
    head, *middle_texts, tail = folded.split("*")
    middles = tuple(text for text in middle_texts if text)
    fixed = len(head) + len(tail)

    def matches(text: str) -> bool:
        folded_text = fold(text)
        # The length check stops head and tail from overlapping ("ab*ab" must not match "ab").
        if len(folded_text) < fixed or not folded_text.startswith(head) or not folded_text.endswith(tail):
            return False
        position, end = len(head), len(folded_text) - len(tail)
        for piece in middles:
            found = folded_text.find(piece, position, end)
            if found < 0:
                return False
            position = found + len(piece)
        return True

    return matches
