"""core/short_cache.py: what a process reuses, and when it reads again."""

from __future__ import annotations

import itertools

import pytest

from core import short_cache
from core.short_cache import ShortCache, short_caches_clear


@pytest.fixture
def reads():  # type: ignore[no-untyped-def]
    return itertools.count(1)


def test_off_reads_on_every_call(settings, reads) -> None:  # type: ignore[no-untyped-def]
    settings.CONFIGURATION_CACHE_SECONDS = 0
    cache: ShortCache[str, int] = ShortCache("CONFIGURATION_CACHE_SECONDS")
    assert [cache.fetch("k", lambda: next(reads)) for _ in range(3)] == [1, 2, 3]


def test_on_reuses_until_the_lifetime_ends(settings, reads, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings.CONFIGURATION_CACHE_SECONDS = 2
    now = [1000.0]
    monkeypatch.setattr(short_cache.time, "monotonic", lambda: now[0])
    cache: ShortCache[str, int] = ShortCache("CONFIGURATION_CACHE_SECONDS")
    assert [cache.fetch("k", lambda: next(reads)) for _ in range(3)] == [1, 1, 1]
    assert cache.fetch("other", lambda: next(reads)) == 2  # per key
    now[0] += 1.9
    assert cache.fetch("k", lambda: next(reads)) == 1
    now[0] += 0.2  # 2.1 s after the read: read again
    assert cache.fetch("k", lambda: next(reads)) == 3


def test_none_is_never_kept_and_clear_forgets(settings, reads) -> None:  # type: ignore[no-untyped-def]
    settings.CONFIGURATION_CACHE_SECONDS = 5
    cache: ShortCache[str, int | None] = ShortCache("CONFIGURATION_CACHE_SECONDS")
    assert cache.fetch("absent", lambda: None) is None
    assert cache.fetch("absent", lambda: next(reads)) == 1  # looked for again
    short_caches_clear()
    assert cache.fetch("absent", lambda: next(reads)) == 2


def test_a_flood_of_keys_cannot_grow_it_past_its_bound(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings.CONFIGURATION_CACHE_SECONDS = 5
    monkeypatch.setattr(short_cache, "MAX_ENTRIES", 10)
    cache: ShortCache[int, int] = ShortCache("CONFIGURATION_CACHE_SECONDS")
    for key in range(25):
        cache.fetch(key, lambda k=key: k)  # type: ignore[misc]
    assert len(cache) <= 10
