"""Redis-backed guards shared by every gateway process: the per-partner rate limit and the
signature replay guard (docs/architecture.md §5, §9).

A signed request takes both in ONE round trip (``request_guard``: one Lua script claims the
signature and counts the request; a refused request leaves neither behind), an unsigned read
only the rate limit (``rate_limit_hit``). Both fail closed: when Redis cannot answer, the request is refused with 503
``service_unavailable`` rather than let through unthrottled or replayable.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings

from core.errors import ServiceUnavailable

logger = logging.getLogger("partners.guards")

KEY_PREFIX = "ap:partners:"
REPLAY_TTL_SECONDS = 600  # twice the signature tolerance: covers t in [now-300, now+300]
WINDOW_MS = 60_000

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()

# Sliding-window log, atomic in Redis and timed by Redis' own clock so every process agrees:
# drop entries older than the window, count the rest, admit while under the limit. Refused
# requests are not recorded, so hammering does not extend the wait. Unlike a fixed window it
# never lets 2 x limit through around a window boundary.
_SLIDING_WINDOW_BODY = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if oldest[2] == nil then
  return {0, 0, window}
end
return {0, 0, window - (now - tonumber(oldest[2]))}
"""
_SLIDING_WINDOW = (
    "local key, limit, window, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]\n" + _SLIDING_WINDOW_BODY
)
# The replay claim first (a replay is refused without counting), then the window as above; a
# request over the limit gives its signature back, so it can be sent again once admitted.
# Answers {1, remaining, 0} admitted, {0, 0, retry_ms} limited, {-1, 0, 0} replayed.
_REPLAY_AND_WINDOW = (
    """
local key, limit, window, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[4])) then
  return {-1, 0, 0}
end
local decision = (function()
"""
    + _SLIDING_WINDOW_BODY
    + """
end)()
if decision[1] == 0 then
  redis.call('DEL', KEYS[2])
end
return decision
"""
)
_scripts: dict[tuple[int, str], Any] = {}


def redis_client() -> redis.Redis:
    """One connection pool per process (and per REDIS_URL, so tests can point elsewhere)."""
    url = settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        with _clients_lock:
            client = _clients.get(url)
            if client is None:
                client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
                _clients[url] = client
    return client


def _unavailable(exc: redis.RedisError) -> ServiceUnavailable:
    logger.error("redis unavailable for request guards: %s", type(exc).__name__)
    return ServiceUnavailable("The request guard is unavailable; try again shortly.")


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    remaining: int
    retry_after_seconds: float


@dataclass(frozen=True)
class GuardDecision:
    """A signed request's two guards at once: a replay, or the rate limit's decision."""

    replayed: bool
    rate: RateDecision


def _script(source: str) -> Any:
    """The script registered once per Redis client: sent by its SHA1 (EVALSHA), not its text."""
    client = redis_client()
    key = (id(client), source)
    script = _scripts.get(key)
    if script is None:
        script = _scripts[key] = client.register_script(source)
    return script


def _rate_decision(answer: list[int]) -> RateDecision:
    allowed, remaining, retry_ms = answer
    return RateDecision(allowed=allowed == 1, remaining=int(remaining), retry_after_seconds=int(retry_ms) / 1000)


def rate_limit_hit(*, key: str, limit: int, window_ms: int = WINDOW_MS) -> RateDecision:
    """Count one request against ``limit`` per ``window_ms`` for ``key``; say if it may pass."""
    try:
        answer = _script(_SLIDING_WINDOW)(keys=[KEY_PREFIX + "rate:" + key], args=[limit, window_ms, uuid.uuid4().hex])
    except redis.RedisError as exc:
        raise _unavailable(exc) from exc
    return _rate_decision(answer)


def _replay_key(scope: str, t: int, signature: str) -> str:
    return f"{KEY_PREFIX}sig:{scope}:{t}:{signature}"


def request_guard(
    *, rate_key: str, limit: int, scope: str, t: int, signature: str, window_ms: int = WINDOW_MS
) -> GuardDecision:
    """Claim the (t, v1) pair of a signed request and count it against the rate limit, in one
    round trip. A replay is not counted; a request over the limit does not keep its claim."""
    try:
        answer = _script(_REPLAY_AND_WINDOW)(
            keys=[KEY_PREFIX + "rate:" + rate_key, _replay_key(scope, t, signature)],
            args=[limit, window_ms, uuid.uuid4().hex, REPLAY_TTL_SECONDS],
        )
    except redis.RedisError as exc:
        raise _unavailable(exc) from exc
    if answer[0] == -1:
        return GuardDecision(replayed=True, rate=RateDecision(allowed=False, remaining=0, retry_after_seconds=0))
    return GuardDecision(replayed=False, rate=_rate_decision(answer))
