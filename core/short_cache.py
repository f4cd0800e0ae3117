"""A per-process memory of what was read, kept a few seconds (docs/performance.md §3).

The accept path reads the same rows for every request of a partner: its credential and signing
secrets, its provider's connection, the rail's provider codes, its limits. Reading them once per
process every few seconds instead of once per request removes most of the path's statements,
at the price of a change (a revoked key, a disabled provider, a lowered limit) reaching every
worker within the cache's lifetime rather than at once. Each cache names the setting that holds
that lifetime (``PARTNER_AUTH_CACHE_SECONDS``, ``CONFIGURATION_CACHE_SECONDS``); ``0`` reads on
every call, which is what the test suite does unless a test turns a cache on.

Values are shared by the process's threads: callers treat them as read-only (or copy them).
``None`` is never kept, so an absent row is looked for again on the next call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from django.conf import settings

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_ENTRIES = 10_000  # per cache and process; emptied past it (a flood of keys cannot grow memory)

_every: list[ShortCache[object, object]] = []


class ShortCache(Generic[K, V]):
    """``fetch(key, load)``: the value read less than ``settings.<ttl_setting>`` seconds ago, or ``load()``."""

    def __init__(self, ttl_setting: str) -> None:
        self.ttl_setting = ttl_setting
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()
        _every.append(self)  # type: ignore[arg-type]  # only cleared through it

    def fetch(self, key: K, load: Callable[[], V]) -> V:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        ttl = float(getattr(settings, self.ttl_setting))
        if ttl > 0 and value is not None:
            with self._lock:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (now + ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def short_caches_clear() -> None:
    """Forget everything every cache of this process read (tests; a change to be seen at once)."""
    for cache in _every:
        cache.clear()
