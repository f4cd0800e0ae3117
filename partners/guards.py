"""Redis-backed guards shared by every gateway process: the per-partner rate limit and the
signature replay guard (docs/architecture.md §5, §9).

Both fail closed: when Redis cannot answer, the request is refused with 503
``service_unavailable`` rather than let through unthrottled or replayable.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass

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
_SLIDING_WINDOW = """
local key, limit, window, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
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


def rate_limit_hit(*, key: str, limit: int, window_ms: int = WINDOW_MS) -> RateDecision:
    """Count one request against ``limit`` per ``window_ms`` for ``key``; say if it may pass."""
    try:
        allowed, remaining, retry_ms = redis_client().eval(
            _SLIDING_WINDOW, 1, KEY_PREFIX + "rate:" + key, limit, window_ms, uuid.uuid4().hex
        )
    except redis.RedisError as exc:
        raise _unavailable(exc) from exc
    return RateDecision(allowed=bool(allowed), remaining=int(remaining), retry_after_seconds=int(retry_ms) / 1000)


def replay_claim(*, scope: str, t: int, signature: str) -> bool:
    """Claim the (t, v1) pair of a signed request; False when it was already seen (a replay)."""
    key = f"{KEY_PREFIX}sig:{scope}:{t}:{signature}"
    try:
        return bool(redis_client().set(key, b"1", nx=True, ex=REPLAY_TTL_SECONDS))
    except redis.RedisError as exc:
        raise _unavailable(exc) from exc
