"""Callback signatures of the mobile-money providers (pure functions, no I/O).

Both providers send ``t=<unix seconds>,v1=<hex>[,v1=<hex>…]`` (several ``v1`` while a secret
is rotated) but sign different bytes:

- Wave ``Wave-Signature``: ``HMAC_SHA256(secret, t + raw_body)``, no separator
  (docs/providers/wave.md §6; the Stripe-style ``t + "." + body`` seen in some code is wrong for Wave).
- Orange Money ``X-Sonatel-Signature``: ``HMAC_SHA256(secret, t + "," + raw_body)``, a comma
  separator (docs/providers/orange_money.md §6).

The key is the secret's text as UTF-8, used as is; the body is the exact bytes received (never
re-serialised JSON). A signature is accepted when ``|now - t| <= 300`` seconds and any ``v1``
matches in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

TOLERANCE_SECONDS = 300
MAX_SIGNATURES = 8


@dataclass(frozen=True)
class SignatureHeader:
    timestamp: str  # as sent: the exact digits are part of the signed bytes
    signatures: tuple[str, ...]


def parse_signature_header(value: str | None) -> SignatureHeader | None:
    """``t`` and the ``v1`` values of a header; ``None`` when it is missing or malformed.

    Unknown keys (a future ``v2``) are ignored, as Wave's own sample does (docs/providers/wave.md §6).
    """
    if not value:
        return None
    timestamp: str | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            return None
        if key == "t":
            if timestamp is not None or not item.isascii() or not item.isdigit():
                return None
            timestamp = item
        elif key == "v1" and item and len(signatures) < MAX_SIGNATURES:
            signatures.append(item.strip().lower())
    if timestamp is None or not signatures:
        return None
    return SignatureHeader(timestamp, tuple(signatures))


def _hex_hmac(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def wave_signed_payload(timestamp: str, raw_body: bytes) -> bytes:
    return timestamp.encode("ascii") + raw_body


def sonatel_signed_payload(timestamp: str, raw_body: bytes) -> bytes:
    return timestamp.encode("ascii") + b"," + raw_body


def wave_signature(secret: str, timestamp: int | str, raw_body: bytes) -> str:
    """The ``v1`` (lowercase hex) Wave would send for this body."""
    return _hex_hmac(secret, wave_signed_payload(str(timestamp), raw_body))


def sonatel_signature(secret: str, timestamp: int | str, raw_body: bytes) -> str:
    """The ``v1`` (lowercase hex) Orange Money (Sonatel) would send for this body."""
    return _hex_hmac(secret, sonatel_signed_payload(str(timestamp), raw_body))


def _verify(
    header_value: str | None,
    raw_body: bytes,
    secrets: Iterable[str],
    now: float,
    *,
    comma: bool,
    tolerance: int,
) -> bool:
    parsed = parse_signature_header(header_value)
    if parsed is None or abs(int(now) - int(parsed.timestamp)) > tolerance:
        return False
    payload = (sonatel_signed_payload if comma else wave_signed_payload)(parsed.timestamp, raw_body)
    matched = False
    for secret in secrets:
        if not secret:
            continue
        expected = _hex_hmac(secret, payload).encode("ascii")
        for candidate in parsed.signatures:
            # compare every pair (no early exit) so timing says nothing about which matched
            matched |= hmac.compare_digest(expected, candidate.encode("ascii", "replace"))
    return matched


def verify_wave_signature(
    header_value: str | None,
    raw_body: bytes,
    secrets: Iterable[str],
    *,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """True when ``Wave-Signature`` is fresh and signed ``t + raw_body`` with one of ``secrets``."""
    return _verify(header_value, raw_body, secrets, now, comma=False, tolerance=tolerance)


def verify_sonatel_signature(
    header_value: str | None,
    raw_body: bytes,
    secrets: Iterable[str],
    *,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """True when ``X-Sonatel-Signature`` is fresh and signed ``t + "," + raw_body``."""
    return _verify(header_value, raw_body, secrets, now, comma=True, tolerance=tolerance)


def format_signature_header(timestamp: int | str, signatures: Iterable[str]) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={value}" for value in signatures)])
