"""Who may call the simulated Niirpay, how requests are authenticated, and the account's float.

Assumed contract (docs/providers/niirpay.md "Authentication"): ``Authorization: Bearer
<api_key>`` plus ``X-Niirpay-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256 with the account's API secret over ``"<t>\\n<METHOD>\\n<path with query>\\n" + body``
(the path percent-decoded).
The API secret is kept in the generic sandbox account's ``webhook_secret`` (Niirpay has one
shared secret per account). Knobs for tests and demos live in the account's ``extra``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest

from core.signing import SignatureHeaderError, parse_signature_header, timestamp_is_fresh, verify
from sandbox.models import SimCounter
from sandbox.services import SimAccount, account_for_key, account_register, bearer_token, counter_value

PROVIDER = "niirpay"
SIGNATURE_HEADER = "X-Niirpay-Signature"
DEFAULT_FLOAT_XOF = 100_000_000
DEFAULT_QUOTE_TTL_SECONDS = 600


class WireError(Exception):
    """An error answer of the Niirpay API: ``{"error": {"code", "message"}}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


@dataclass(frozen=True)
class NiirpayAccount:
    """A merchant account at Niirpay (ours, in the sandbox), with its sandbox knobs."""

    account_id: str
    api_key: str
    api_secret: str
    initial_float: int
    quote_ttl_seconds: int
    unavailable_billers: frozenset[str]

    @classmethod
    def from_sim(cls, sim: SimAccount) -> NiirpayAccount:
        extra = sim.extra or {}
        return cls(
            account_id=account_id_for(sim.api_key),
            api_key=sim.api_key,
            api_secret=sim.webhook_secret,
            initial_float=int(extra.get("float_xof", DEFAULT_FLOAT_XOF)),
            quote_ttl_seconds=int(extra.get("quote_ttl_seconds", DEFAULT_QUOTE_TTL_SECONDS)),
            unavailable_billers=frozenset(extra.get("unavailable_billers", ())),
        )

    @property
    def float_counter(self) -> str:
        return f"float_debits:{self.account_id}"


def account_id_for(api_key: str) -> str:
    return hashlib.sha256(f"niirpay-account:{api_key}".encode()).hexdigest()[:12]


def register_account(
    *,
    api_key: str,
    api_secret: str,
    float_xof: int = DEFAULT_FLOAT_XOF,
    quote_ttl_seconds: int = DEFAULT_QUOTE_TTL_SECONDS,
    unavailable_billers: tuple[str, ...] = (),
) -> NiirpayAccount:
    """Open (or update) a sandbox merchant account. ``quote_ttl_seconds=0`` makes every quote
    expire at once; ``unavailable_billers`` simulates billers whose systems are down."""
    extra = {
        "float_xof": float_xof,
        "quote_ttl_seconds": quote_ttl_seconds,
        "unavailable_billers": list(unavailable_billers),
    }
    sim = account_register(provider=PROVIDER, api_key=api_key, webhook_secret=api_secret, extra=extra)
    return NiirpayAccount.from_sim(sim)


def authenticate(request: HttpRequest) -> NiirpayAccount:
    """The calling account, or ``WireError`` 401 (unknown key, bad or stale signature)."""
    api_key = bearer_token(request)
    sim = account_for_key(PROVIDER, api_key) if api_key else None
    if sim is None:
        raise WireError(401, "UNAUTHORIZED", "Unknown or missing API key.")
    try:
        stamp, signatures = parse_signature_header(request.headers.get(SIGNATURE_HEADER))
    except SignatureHeaderError as exc:
        raise WireError(401, "INVALID_SIGNATURE", f"{SIGNATURE_HEADER}: {exc}.") from None
    if not timestamp_is_fresh(stamp):
        raise WireError(401, "INVALID_SIGNATURE", "The signature timestamp is outside the 5 minute window.")
    # The signed path is percent-decoded (request.path is) plus the raw query string.
    query = request.META.get("QUERY_STRING", "")
    path = request.path + (f"?{query}" if query else "")
    if not any(verify(sim.webhook_secret, stamp, request.method or "", path, request.body, v1) for v1 in signatures):
        raise WireError(401, "INVALID_SIGNATURE", "The signature does not match the request.")
    return NiirpayAccount.from_sim(sim)


def float_available(account: NiirpayAccount) -> int:
    return account.initial_float - counter_value(PROVIDER, account.float_counter)


def float_debit_locked(account: NiirpayAccount, total: int) -> bool:
    """Debit the float if it covers ``total``; False (and nothing debited) otherwise.

    Must run inside the payment's transaction: the counter row stays locked until it commits,
    so two payments cannot both spend the last of the float.
    """
    assert transaction.get_connection().in_atomic_block, "float_debit_locked needs a transaction"
    counter, _ = SimCounter.objects.select_for_update().get_or_create(provider=PROVIDER, name=account.float_counter)
    if account.initial_float - counter.value < total:
        return False
    SimCounter.objects.filter(pk=counter.pk).update(value=F("value") + total)
    return True
