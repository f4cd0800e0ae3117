"""The provider HTTP client: the only module allowed to import ``requests`` (docs/conventions.md §16).

Every outbound call has explicit connect and read timeouts, never follows a redirect, is
timed into ``addon_provider_call_seconds{provider,operation,outcome}``, is logged with
secrets masked, and fails with a typed error that says whether a retry can help:

- ``ProviderUnavailable``: nothing happened at the provider (refused connection, connect
  timeout, 429, or 5xx on a call that moves no money): retry later.
- ``ProviderOutcomeUnknown``: the request may have been acted on (read timeout, connection
  lost after sending, 408 or 5xx on a money-moving call): resolve by asking, never guess.
- ``ProviderRejected``: the provider refused for good (other 4xx, redirects): do not retry.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from core.errors import ProviderError, ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.logging import mask_text
from core.metrics import provider_call_seconds
from core.provider_calls import CallOutcome, provider_call

logger = logging.getLogger("core.http")

EXCERPT_BYTES = 2048


@dataclass(frozen=True)
class Timeouts:
    """Connect and read timeouts in seconds; both are required."""

    connect: float
    read: float

    def __post_init__(self) -> None:
        if not (self.connect > 0 and self.read > 0):
            raise ValueError("connect and read timeouts must both be positive")

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)


@dataclass(frozen=True)
class ProviderResponse:
    status: int
    headers: Mapping[str, str]
    content: bytes
    elapsed: float
    url: str

    def json(self) -> Any:
        try:
            return json.loads(self.content or b"null")
        except ValueError as exc:
            raise ProviderOutcomeUnknown(
                f"provider answered HTTP {self.status} with a body that is not JSON", http_status=self.status
            ) from exc

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class _TlsNameAdapter(HTTPAdapter):
    """Connects to the address in the URL but speaks TLS to ``server_name`` (SNI and the
    certificate check): how a caller pins a checked address (partners/webhooks.py)."""

    def __init__(self, server_name: str, **kwargs: Any) -> None:
        self._server_name = server_name  # before super().__init__, which builds the pool manager
        super().__init__(**kwargs)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        pool_kwargs.update(server_hostname=self._server_name, assert_hostname=self._server_name)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


@dataclass
class ProviderHttpClient:
    """One client per provider connection: a pooled session bound to a base URL.

    ``tls_server_name``: when ``base_url`` names an address, the host name its certificate is for.
    """

    provider: str
    base_url: str
    timeouts: Timeouts
    default_headers: Mapping[str, str] = field(default_factory=dict)
    pool_size: int = 10
    tls_server_name: str | None = None
    _session: requests.Session = field(init=False, repr=False)

    def __post_init__(self) -> None:
        scheme = urlsplit(self.base_url).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"base_url must be http(s), got {self.base_url!r}")
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy or netrc surprises from the environment
        adapter = HTTPAdapter(pool_connections=self.pool_size, pool_maxsize=self.pool_size, max_retries=0)
        self._session.mount("http://", adapter)
        if self.tls_server_name:
            adapter = _TlsNameAdapter(
                self.tls_server_name, pool_connections=self.pool_size, pool_maxsize=self.pool_size, max_retries=0
            )
        self._session.mount("https://", adapter)
        self._session.headers.update({"User-Agent": "addon-partner/1.0", **self.default_headers})

    def close(self) -> None:
        self._session.close()

    def url(self, path: str) -> str:
        return urljoin(self.base_url.rstrip("/") + "/", path.lstrip("/"))

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        moves_money: bool = False,
        json_body: Any = None,
        data: bytes | str | Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
        raise_for_status: bool = True,
    ) -> ProviderResponse:
        """Send one request. With ``raise_for_status`` a non-2xx answer raises a typed error.

        Every attempt is a provider call record when a call scope is open (``core.provider_calls``).
        """
        with provider_call(operation=operation, provider=self.provider) as attempt:
            response = self._send(
                method,
                path,
                operation=operation,
                json_body=json_body,
                data=data,
                params=params,
                headers=headers,
                timeouts=timeouts,
            )
            attempt.http_status = response.status
            attempt.answered = _call_outcome_of_status(response.status, moves_money=moves_money)
            if raise_for_status:
                raise_for_provider_status(
                    response, provider=self.provider, operation=operation, moves_money=moves_money
                )
            return response

    def _send(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json_body: Any,
        data: bytes | str | Mapping[str, str] | None,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        timeouts: Timeouts | None,
    ) -> ProviderResponse:
        url = self.url(path)
        body: bytes | str | Mapping[str, str] | None = data
        send_headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            send_headers.setdefault("Content-Type", "application/json")
        started = time.perf_counter()
        outcome = "error"
        try:
            raw = self._session.request(
                method,
                url,
                data=body,
                params=params,
                headers=send_headers,
                timeout=(timeouts or self.timeouts).as_tuple(),
                allow_redirects=False,
            )
            response = ProviderResponse(
                status=raw.status_code,
                headers=dict(raw.headers),
                content=raw.content,
                elapsed=time.perf_counter() - started,
                url=url,
            )
            outcome = _outcome_of_status(response.status)
        except requests.exceptions.ConnectTimeout as exc:
            outcome = "connect_timeout"
            raise ProviderUnavailable(f"{self.provider} {operation}: connect timeout") from exc
        except requests.exceptions.ReadTimeout as exc:
            outcome = "timeout"
            raise ProviderOutcomeUnknown(f"{self.provider} {operation}: no answer within the read timeout") from exc
        except requests.exceptions.ConnectionError as exc:
            if _never_sent(exc):
                outcome = "unreachable"
                raise ProviderUnavailable(f"{self.provider} {operation}: cannot connect") from exc
            outcome = "connection_lost"
            raise ProviderOutcomeUnknown(f"{self.provider} {operation}: connection lost") from exc
        except requests.exceptions.RequestException as exc:
            outcome = "invalid_request"
            raise ProviderRejected(
                f"{self.provider} {operation}: request could not be sent ({type(exc).__name__})"
            ) from exc
        finally:
            elapsed = time.perf_counter() - started
            provider_call_seconds.labels(self.provider, operation, outcome).observe(elapsed)
            logger.info(
                "provider call %s %s %s -> %s in %.0f ms",
                self.provider,
                operation,
                method,
                outcome,
                elapsed * 1000,
                extra={
                    "provider": self.provider,
                    "operation": operation,
                    "outcome": outcome,
                    "url": urlsplit(url).path,
                },
            )
        return response


def _call_outcome_of_status(status: int, *, moves_money: bool) -> CallOutcome:
    """What an HTTP answer means for the call record (the typed errors say the same when raised)."""
    if status < 400:
        return CallOutcome.OK
    if status == 429:
        return CallOutcome.UNAVAILABLE
    if status == 408 or status >= 500:
        return CallOutcome.UNKNOWN if moves_money else CallOutcome.UNAVAILABLE
    return CallOutcome.REJECTED


def _outcome_of_status(status: int) -> str:
    if 200 <= status < 300:
        return "ok"
    if 300 <= status < 400:
        return "redirect"
    if status == 429:
        return "throttled"
    if status < 500:
        return "rejected"
    return "server_error"


def _never_sent(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was never established (so the request was never sent)."""
    text = repr(exc)
    return any(marker in text for marker in ("NewConnectionError", "ConnectionRefused", "NameResolution"))


def excerpt(content: bytes) -> str:
    return mask_text(content[:EXCERPT_BYTES].decode("utf-8", errors="replace"))


def raise_for_provider_status(
    response: ProviderResponse, *, provider: str, operation: str, moves_money: bool, provider_code: str | None = None
) -> None:
    """Map a non-2xx HTTP answer to the typed error the caller's retry logic needs."""
    status = response.status
    if 200 <= status < 300:
        return
    label = f"{provider} {operation}: HTTP {status}"
    if 300 <= status < 400:
        raise ProviderRejected(f"{label}: unexpected redirect (not followed)", http_status=status)
    if status == 429:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        raise ProviderUnavailable(f"{label}: throttled", retry_after=retry_after, http_status=status)
    if status == 408 or status >= 500:
        if moves_money:
            raise ProviderOutcomeUnknown(f"{label}: outcome unknown", http_status=status, provider_code=provider_code)
        raise ProviderUnavailable(f"{label}: unavailable", http_status=status, provider_code=provider_code)
    raise ProviderRejected(f"{label}: {excerpt(response.content)}", http_status=status, provider_code=provider_code)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


__all__ = [
    "ProviderError",
    "ProviderHttpClient",
    "ProviderOutcomeUnknown",
    "ProviderRejected",
    "ProviderResponse",
    "ProviderUnavailable",
    "Timeouts",
    "excerpt",
    "raise_for_provider_status",
]
