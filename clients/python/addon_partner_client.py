"""A small Python client of the Addon Partner API, standard library only.

    client = AddonPartnerClient("https://gateway.example.sn", api_key, signing_secret)
    status, headers, body = client.get("/api/v1/me")
    response = client.post("/api/v1/mobile-money/cash-ins", json={...}, idempotency_key="order-42")

Every request carries ``Authorization: Bearer <api key>`` and ``X-Signature`` computed as in
docs/partner-api.md: ``v1 = HMAC_SHA256(secret, "<t>\\n<METHOD>\\n<path with query>\\n" + body)``.
The gateway refuses an identical request signed within the same second (a replay): re-send
after a second, with the same ``Idempotency-Key``, to retry safely.
"""

from __future__ import annotations

import hashlib
import hmac
import json as jsonlib
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlencode, urlsplit

JSON_TYPES = ("application/json", "application/problem+json")


def sign(secret: str, t: int, method: str, path_with_query: str, body: bytes) -> str:
    """The ``v1`` hex signature of a request."""
    message = f"{t}\n{method.upper()}\n{path_with_query}\n".encode() + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ApiResponse:
    """``status, headers, body = response``; ``body`` is parsed JSON for JSON answers, else bytes."""

    status: int
    headers: Message
    body: Any
    content: bytes

    def __iter__(self) -> Iterator[Any]:
        return iter((self.status, self.headers, self.body))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a signed request is never replayed to another URL


class AddonPartnerClient:
    def __init__(self, base_url: str, api_key: str, signing_secret: str, *, timeout: float = 35.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.signing_secret = signing_secret
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect)

    def get(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        if params:
            path += ("&" if "?" in path else "?") + urlencode(params, doseq=True)
        return self.request("GET", path, headers=headers)

    def post(
        self,
        path: str,
        json: Any = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> ApiResponse:
        return self.request("POST", path, json=json, data=data, headers=headers, idempotency_key=idempotency_key)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        t: int | None = None,
    ) -> ApiResponse:
        """Send a signed request. ``json`` is serialised compactly; ``data`` is sent as is
        (set its Content-Type in ``headers``). ``t`` overrides the signature time (tests)."""
        body, content_type = self._body(json, data)
        url = self.base_url + path
        all_headers = {**self.auth_headers(method, url, body, t=t), "Accept": "application/json"}
        if content_type:
            all_headers["Content-Type"] = content_type
        if idempotency_key is not None:
            all_headers["Idempotency-Key"] = idempotency_key
        all_headers.update(headers or {})
        request = urllib.request.Request(  # noqa: S310 - the base URL is the caller's gateway
            url, data=body if body or method.upper() not in ("GET", "HEAD") else None,
            headers=all_headers, method=method.upper(),
        )  # fmt: skip
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                return self._response(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return self._response(error.code, error.headers, error.read())

    def auth_headers(self, method: str, url: str, body: bytes, *, t: int | None = None) -> dict[str, str]:
        """``Authorization`` and ``X-Signature`` for a request to ``url`` (for other HTTP libraries)."""
        target = urlsplit(url)
        signed_path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        stamp = int(time.time()) if t is None else t
        return {
            "Authorization": f"Bearer {self.api_key}",
            "X-Signature": f"t={stamp},v1={sign(self.signing_secret, stamp, method, signed_path, body)}",
        }

    @staticmethod
    def _body(json: Any, data: bytes | str | None) -> tuple[bytes, str | None]:
        if json is not None and data is not None:
            raise ValueError("pass json or data, not both")
        if json is not None:
            return jsonlib.dumps(json, separators=(",", ":")).encode("utf-8"), "application/json"
        if isinstance(data, str):
            return data.encode("utf-8"), None
        return data or b"", None

    @staticmethod
    def _response(status: int, headers: Message, content: bytes) -> ApiResponse:
        media_type = (headers.get("Content-Type") or "").split(";", 1)[0].strip()
        body: Any = content
        if media_type in JSON_TYPES and content:
            body = jsonlib.loads(content)
        return ApiResponse(status=status, headers=headers, body=body, content=content)
