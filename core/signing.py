"""HMAC request signatures (docs/architecture.md §5), used both ways: partner requests to us and our
webhooks to partners.

``X-Signature: t=<unix seconds>,v1=<hex>`` where
``v1 = HMAC_SHA256(secret, "<t>\\n<METHOD>\\n<path with query>\\n" + raw body)``.
The secret is the signing secret's text, UTF-8 encoded; the body is the exact bytes sent.
A header may carry several ``v1`` values (one per active secret during a rotation).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterable

SIGNATURE_HEADER = "X-Signature"
TOLERANCE_SECONDS = 300
MAX_SIGNATURES = 5

_T_RE = re.compile(r"^[0-9]{1,12}$")
_V1_RE = re.compile(r"^[0-9a-f]{64}$")


class SignatureHeaderError(ValueError):
    """The signature header is missing or does not follow ``t=<digits>,v1=<64 hex>[,v1=…]``."""


def _key(secret: str | bytes) -> bytes:
    return secret if isinstance(secret, bytes) else secret.encode("utf-8")


def signed_payload(t: int, method: str, path_with_query: str, body: bytes) -> bytes:
    """The exact bytes that are signed."""
    return f"{t}\n{method.upper()}\n{path_with_query}\n".encode() + body


def sign_request(secret: str | bytes, t: int, method: str, path_with_query: str, body: bytes) -> str:
    """The ``v1`` value (lowercase hex) of a request."""
    return hmac.new(_key(secret), signed_payload(t, method, path_with_query, body), hashlib.sha256).hexdigest()


def format_signature_header(t: int, v1: str | Iterable[str]) -> str:
    """``t=<t>,v1=<hex>`` (one ``v1=`` pair per signature given)."""
    values = [v1] if isinstance(v1, str) else list(v1)
    return ",".join([f"t={t}", *(f"v1={value}" for value in values)])


def signature_header(
    secret: str | bytes, method: str, path_with_query: str, body: bytes, *, t: int | None = None
) -> str:
    """Sign a request and format the header in one call (clients, webhooks, tests)."""
    stamp = int(time.time()) if t is None else t
    return format_signature_header(stamp, sign_request(secret, stamp, method, path_with_query, body))


def parse_signature_header(value: str | None) -> tuple[int, list[str]]:
    """``(t, [v1, …])`` from a header value; ``SignatureHeaderError`` on anything else.

    Strict: exactly one ``t`` (decimal digits), one to five ``v1`` (64 lowercase hex digits),
    no other keys, no empty parts.
    """
    if not value:
        raise SignatureHeaderError("missing signature header")
    t: int | None = None
    signatures: list[str] = []
    for part in value.strip().split(","):
        key, sep, item = part.partition("=")
        if not sep:
            raise SignatureHeaderError("each part must be key=value")
        if key == "t" and t is None and _T_RE.match(item):
            t = int(item)
        elif key == "v1" and _V1_RE.match(item) and len(signatures) < MAX_SIGNATURES:
            signatures.append(item)
        else:
            raise SignatureHeaderError(f"unexpected or malformed part {key!r}")
    if t is None or not signatures:
        raise SignatureHeaderError("the header needs t= and at least one v1=")
    return t, signatures


def verify(secret: str | bytes, t: int, method: str, path_with_query: str, body: bytes, signature: str) -> bool:
    """True when ``signature`` is the ``v1`` of this request under ``secret`` (constant time)."""
    expected = sign_request(secret, t, method, path_with_query, body)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace"))


def timestamp_is_fresh(t: int, *, now: float | None = None, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """True when ``|now - t| <= tolerance`` seconds."""
    current = int(time.time() if now is None else now)
    return abs(current - t) <= tolerance
