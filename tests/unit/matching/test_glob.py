from __future__ import annotations

import time

import pytest
from exception_playbooks.matching.glob import compile_glob, has_wildcard


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("TradeSettlementFailure", "tradesettlementfailure", True),
        ("TradeSettlementFailure", "TradeSettlementFailures", False),
        ("Trade*", "TradeBreak", True),
        ("Trade*", "trade", True),
        ("Trade*", "ATradeBreak", False),
        ("*Failure", "TradeSettlementFAILURE", True),
        ("*Failure", "FailureX", False),
        ("*Settle*", "TradeSettlementFailure", True),
        ("*", "", True),
        ("*", "anything", True),
        ("Trade?reak", "TradeBreak", True),
        ("Trade?reak", "Tradereak", False),
        ("Trade?reak", "TradeBBreak", False),
        ("?", "x", True),
        ("a*b*c", "abc", True),
        ("a*b*c", "aXXbYYc", True),
        ("a*b*c", "acb", False),
        ("a**b", "ab", True),
        ("ab*ab", "ab", False),
        ("ab*ab", "abab", True),
        ("*ab*ab*", "xabyab", True),
        ("[abc]", "[ABC]", True),  # only * and ? are special
        ("[abc]", "a", False),
        ("a.c", "abc", False),
        ("*bank*", "ACME BANK plc", True),
        # ? and * together
        ("T?ade*", "TradeBreak", True),
        ("T?ade*", "Tade", False),
        ("*a?c*", "xxABCxx", True),
        ("*a?c*", "xxacxx", False),
        ("?*", "", False),
        ("?*", "a", True),
        ("*?", "", False),
        ("a?*?b", "axyb", True),
        ("a?*?b", "axb", False),
    ],
)
def test_glob(pattern: str, text: str, expected: bool):
    assert compile_glob(pattern)(text) is expected


def test_pre_folded_input_skips_folding():
    assert compile_glob("Trade*", input_folded=True)("tradebreak")
    assert compile_glob("TradeBreak", input_folded=True)("tradebreak")
    assert compile_glob("Trade?reak", input_folded=True)("tradebreak")


def test_has_wildcard():
    assert has_wildcard("a*") and has_wildcard("a?") and not has_wildcard("abc")


def test_pathological_pattern_runs_in_linear_time():
    # A naive regex translation backtracks polynomially here (seconds); pieces placed greedily do not.
    started = time.perf_counter()
    assert not compile_glob("*a*a*a*a*a*a*b")("a" * 20_000)
    assert not compile_glob("*a?a*a?a*a?a*b")("a" * 20_000)
    assert time.perf_counter() - started < 0.5
