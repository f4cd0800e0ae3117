"""Orange Money credentials at work: the OAuth2 token shared by every worker, the cached RSA
public key, and the encryption of the PIN (docs/providers/orange_money.md §2).

The token lives in Django's cache (Redis in every deployment), so all gunicorn and Celery
processes use one token until just before it expires; a refresh is guarded by a cache lock
(``cache.add``, an atomic SET NX on Redis) so that, under concurrency, exactly one process asks
Sonatel for a new token (the sandbox token endpoint is limited to 60 requests a minute,
docs/providers/orange_money.md §2)
while the others wait for it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_der_public_key
from django.core.cache import cache
from redis.exceptions import RedisError

from core.errors import ErrorCode, ProviderRejected, ProviderUnavailable

logger = logging.getLogger("mobilemoney.orange_money")

TOKEN_EXPIRY_MARGIN_SECONDS = 30  # refresh this long before Sonatel's expires_in (299 s in prod)
LOCK_POLL_SECONDS = 0.05
PUBLIC_KEY_CACHE_SECONDS = 3600  # refetched at once on error 4003 anyway (docs/providers/orange_money.md §2)


def connection_cache_key(kind: str, base_url: str, client_id: str) -> str:
    """A cache key private to one Orange Money application at one base URL."""
    digest = hashlib.sha256(f"{base_url}|{client_id}".encode()).hexdigest()[:24]
    return f"mm:om:{kind}:{digest}"


def token_lifetime(expires_in: int) -> int:
    """How long we keep a token: up to the margin before it expires, never less than 1 s."""
    if expires_in > 2 * TOKEN_EXPIRY_MARGIN_SECONDS:
        return expires_in - TOKEN_EXPIRY_MARGIN_SECONDS
    return max(1, expires_in // 2)


@dataclass
class SharedTokenCache:
    """An access token shared through Django's cache, refreshed by one caller at a time.

    ``fetch`` asks the provider for a token and returns ``(access_token, expires_in)``.
    ``wait_seconds`` bounds how long a caller waits for another's refresh before giving up
    with ``ProviderUnavailable`` (nothing was sent, a retry is safe).
    """

    cache_key: str
    fetch: Callable[[], tuple[str, int]]
    wait_seconds: float

    @property
    def lock_key(self) -> str:
        return self.cache_key + ":lock"

    def get(self) -> str:
        try:
            return self._get_shared()
        except RedisError:
            # Redis down: keep paying with a token of our own rather than stop the rail.
            logger.warning("token cache unavailable; fetching an unshared Orange Money token")
            return self.fetch()[0]

    def _get_shared(self) -> str:
        token = cache.get(self.cache_key)
        if token:
            return str(token)
        owner = secrets.token_hex(8)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            if cache.add(self.lock_key, owner, timeout=max(1, int(self.wait_seconds) + 1)):
                try:
                    return self._refresh_locked()
                finally:
                    if cache.get(self.lock_key) == owner:
                        cache.delete(self.lock_key)
            time.sleep(LOCK_POLL_SECONDS)
            token = cache.get(self.cache_key)
            if token:
                return str(token)
            if time.monotonic() > deadline:
                raise ProviderUnavailable("orange_money token: another refresh did not finish in time")

    def _refresh_locked(self) -> str:
        token = cache.get(self.cache_key)  # another process may have refreshed meanwhile
        if token:
            return str(token)
        access_token, expires_in = self.fetch()
        cache.set(self.cache_key, access_token, timeout=token_lifetime(expires_in))
        return access_token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (refused with 401); a newer token put by another caller is kept."""
        try:
            if cache.get(self.cache_key) == token:
                cache.delete(self.cache_key)
        except RedisError:
            logger.warning("token cache unavailable; could not invalidate the Orange Money token")


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    der_base64: str


@dataclass
class PublicKeyCache:
    """The PIN-encryption key of ``GET /api/account/v1/publicKeys``, shared through the cache."""

    cache_key: str
    fetch: Callable[[], PublicKey]

    def get(self) -> PublicKey:
        try:
            cached = cache.get(self.cache_key)
        except RedisError:
            cached = None
        if isinstance(cached, dict) and cached.get("key"):
            return PublicKey(str(cached.get("key_id", "")), str(cached["key"]))
        key = self.fetch()
        try:
            cache.set(self.cache_key, {"key_id": key.key_id, "key": key.der_base64}, timeout=PUBLIC_KEY_CACHE_SECONDS)
        except RedisError:
            logger.warning("key cache unavailable; the Orange Money public key is not shared")
        return key

    def invalidate(self) -> None:
        try:
            cache.delete(self.cache_key)
        except RedisError:
            logger.warning("key cache unavailable; could not drop the Orange Money public key")


def encrypt_pin(pin: str, public_key_der_base64: str) -> str:
    """``encryptedPinCode``: RSA PKCS#1 v1.5 of the UTF-8 PIN, base64 (docs/providers/orange_money.md §2, the
    Java default ``Cipher.getInstance("RSA")`` of Sonatel's demo). Random padding: each call
    gives a different ciphertext for the same PIN."""
    try:
        key = load_der_public_key(base64.b64decode(public_key_der_base64, validate=True))
    except ValueError as exc:
        raise ProviderUnavailable("orange_money publicKeys: the key is not a base64 X.509 public key") from exc
    if not isinstance(key, RSAPublicKey):
        raise ProviderRejected("orange_money publicKeys: the key is not RSA", code=ErrorCode.PROVIDER_NOT_CONFIGURED)
    return base64.b64encode(key.encrypt(pin.encode("utf-8"), padding.PKCS1v15())).decode("ascii")
