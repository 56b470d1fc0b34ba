"""Compiled conditions are cached on the immutable PlaybookVersion without changing its behaviour."""

from __future__ import annotations

import copy
import pickle

from exception_playbooks.matching.compiled import compiled_playbook
from exception_playbooks.models.playbook import Conditions, DerivedCache

from .builders import playbook


def test_conditions_are_compiled_once_per_version_object():
    version = playbook("a", {"domain": "Finance"}, 3)
    first = compiled_playbook(version)
    assert compiled_playbook(version) is first
    assert (first.priority, first.specificity, first.problems) == (3, 1, ())


def test_the_cache_does_not_affect_equality():
    compiled, fresh = playbook("a", {"domain": "Finance"}), playbook("a", {"domain": "Finance"})
    compiled_playbook(compiled)
    assert compiled == fresh
    assert compiled != playbook("a", {"domain": "Ops"})


def test_a_copy_with_other_conditions_is_recompiled():
    version = playbook("a", {"domain": "Finance"}, 1)
    original = compiled_playbook(version)
    changed = version.model_copy(update={"conditions": Conditions(match={"domain": "Ops"}, priority=9)})
    recompiled = compiled_playbook(changed)
    assert recompiled is not original and recompiled.priority == 9
    assert compiled_playbook(version).priority == 1  # the original still answers for itself


def test_copies_and_pickles_start_with_an_empty_cache():
    version = playbook("a", {"domain": "Finance"})
    compiled_playbook(version)
    for clone in (copy.deepcopy(version), pickle.loads(pickle.dumps(version))):
        assert clone == version
        assert clone.__pydantic_private__ is not None
        assert clone.__pydantic_private__["_derived"].value is None
        assert compiled_playbook(clone).specificity == 1


def test_derived_cache_holder_semantics():
    holder = DerivedCache()
    holder.value = object()
    assert holder == DerivedCache() and holder != object()
    assert repr(holder) == "DerivedCache()"
