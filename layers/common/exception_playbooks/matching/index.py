"""A prepared, domain-bucketed view of one candidate list, cached across calls.

At 10,000 candidates, merely reading one attribute of every ``PlaybookVersion`` costs
milliseconds (the objects are scattered over a large heap). A warm Lambda passes the same
(immutable) version objects again and again, so the active candidates, their compiled tests and
rank keys are kept in compact tuples, bucketed by the domain their conditions require;
matching then touches only the exception's domain bucket and the domain-free candidates.

The cache is keyed by the identities of the candidates, in order. It holds weak references to
them only: when any candidate is freed its index is dropped before the memory (and so the
``id``) can be reused, so an identity match always means the very same objects.
"""

from __future__ import annotations

import gc
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..models.playbook import PlaybookVersion
from .compiled import CompiledPlaybook, compiled_playbook
from .compiler import Test
from .ranking import RankKey, key_for

CACHE_SIZE = 16


@dataclass(frozen=True, slots=True)
class IndexedCandidate:
    position: int  # in the candidate sequence the index was built from
    compiled: CompiledPlaybook
    tests: tuple[Test, ...]  # the tests left once the bucket has settled the domain
    key: RankKey


@dataclass(slots=True)
class _Liveness:
    dead: bool = False


@dataclass(frozen=True, slots=True)
class CandidateIndex:
    active: tuple[IndexedCandidate, ...]  # every active candidate, in input order
    by_domain: dict[str, tuple[IndexedCandidate, ...]]  # case-folded domain -> candidates requiring it
    anywhere: tuple[IndexedCandidate, ...]  # candidates without a domain condition
    liveness: _Liveness = field(default_factory=_Liveness)
    refs: tuple[weakref.ref[PlaybookVersion], ...] = ()  # kept so their callbacks fire

    def buckets_for(self, domain_folded: str) -> tuple[tuple[IndexedCandidate, ...], ...]:
        """The candidates that can match an exception of this (case-folded) domain, by bucket."""
        return (self.by_domain.get(domain_folded, ()), self.anywhere)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while compiling many versions.

    Compiling allocates many long-lived objects; each batch would otherwise trigger a full
    collection over the whole heap (5x the compile time at 10,000 versions). Compiled forms
    contain no reference cycles, so nothing is left for the collector to find.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_index(candidates: Sequence[PlaybookVersion]) -> CandidateIndex:
    active: list[IndexedCandidate] = []
    buckets: dict[str, list[IndexedCandidate]] = {}
    anywhere: list[IndexedCandidate] = []
    for position, playbook in enumerate(candidates):
        if not playbook.active:
            continue
        compiled = compiled_playbook(playbook)
        match = compiled.match
        domain = match.domain if match is not None else None
        tests = match.tests_besides_domain if match is not None else compiled.tests
        entry = IndexedCandidate(position, compiled, tests, key_for(playbook, compiled))
        active.append(entry)
        if domain is None:
            anywhere.append(entry)
        else:
            buckets.setdefault(domain, []).append(entry)
    return CandidateIndex(
        tuple(active), {domain: tuple(entries) for domain, entries in buckets.items()}, tuple(anywhere)
    )


class IndexCache:
    """LRU of candidate indexes keyed by the identities of the candidates."""

    def __init__(self, size: int = CACHE_SIZE):
        self._size = size
        self._entries: OrderedDict[tuple[int, ...], CandidateIndex] = OrderedDict()
        self._dead: list[tuple[int, ...]] = []  # appended by weakref callbacks, purged on next use

    def get(self, candidates: Sequence[PlaybookVersion]) -> CandidateIndex:
        self._purge()
        key = tuple(map(id, candidates))
        index = self._entries.get(key)
        if index is not None and not index.liveness.dead:
            self._entries.move_to_end(key)
            return index
        with gc_paused():
            index = build_index(candidates)
            try:
                index = self._watch(index, key, candidates)
            except TypeError:  # a candidate without weak reference support: use once, do not cache
                return index
        self._entries[key] = index
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return index

    def clear(self) -> None:
        self._entries.clear()

    def _watch(
        self, index: CandidateIndex, key: tuple[int, ...], candidates: Sequence[PlaybookVersion]
    ) -> CandidateIndex:
        liveness, dead = index.liveness, self._dead

        def on_free(_ref: weakref.ref[PlaybookVersion]) -> None:
            # Runs inside deallocation or a GC pass: only flag and queue, never touch the dict here.
            if not liveness.dead:
                liveness.dead = True
                dead.append(key)

        refs = tuple(weakref.ref(candidate, on_free) for candidate in candidates)
        return CandidateIndex(index.active, index.by_domain, index.anywhere, liveness, refs)

    def _purge(self) -> None:
        while self._dead:
            key = self._dead.pop()
            index = self._entries.get(key)
            if index is not None and index.liveness.dead:
                del self._entries[key]


_cache = IndexCache()


def candidate_index(candidates: Sequence[PlaybookVersion]) -> CandidateIndex:
    """The (cached) index of a candidate sequence."""
    return _cache.get(candidates)
