"""The condition language in one import: normalise, validate, compile, evaluate, explain.

The pieces live in small modules (``language``, ``validation``, ``compiler``, ``facts``,
``glob``); this module is the stable entry point the rest of the code base uses.
"""

from __future__ import annotations

from .compiler import Check, CompiledMatch, compile_match, jsonable
from .facts import MISSING, Facts, FactSheet, fact_sheet
from .language import ATTRIBUTE_OPERATORS, MATCH_KEYS, normalise_conditions, specificity
from .validation import validate_conditions, validate_match

__all__ = [
    "ATTRIBUTE_OPERATORS",
    "MATCH_KEYS",
    "MISSING",
    "Check",
    "CompiledMatch",
    "FactSheet",
    "Facts",
    "compile_match",
    "fact_sheet",
    "jsonable",
    "normalise_conditions",
    "specificity",
    "validate_conditions",
    "validate_match",
]
