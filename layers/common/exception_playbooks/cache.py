"""A warm-process LRU cache bounded by entry count *and* bytes (docs/operations.md, "Bounds").

Caches live in module scope so warm Lambda invocations share them; every key must carry all
that makes its value valid (tenant, version, generation), never per-request state. A lock makes
the bookkeeping safe when the local stack runs handlers on several threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    def __init__(self, max_entries: int, max_bytes: int):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: K, value: V, size: int) -> None:
        """Remember ``value`` (``size`` bytes); a value larger than the whole budget is not kept."""
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self.max_bytes:
                return
            self._entries[key] = (value, size)
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted

    def items(self) -> list[tuple[K, V]]:
        """A snapshot of the entries (least recently used first)."""
        with self._lock:
            return [(key, value) for key, (value, _) in self._entries.items()]

    def size_of(self, key: K) -> int:
        with self._lock:
            found = self._entries.get(key)
            return found[1] if found else 0

    def discard(self, key: K) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes
