"""Notifications the Orange Money simulator sends (docs/providers/orange_money.md §6): the
transaction object,
with ``Authorization: Basic <apiKey>``, ``X-Sonatel-Idempotency-Key`` (the same on every
redelivery) and, when the application has an endpoint secret, ``X-Sonatel-Signature:
t=<unix>,v1=HMAC_SHA256(secret, t + "," + raw_body)``.

Written independently of the gateway's verifier on purpose: the conformance suite checks that
the two agree.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from django.conf import settings

from sandbox.orange_money.common import PROVIDER
from sandbox.services import SimAccount, callback_enqueue

ON_TIME = (0.0,)
LATE_TWICE = (5.0, 9.0)  # outcome 9905: the same notification, late, delivered twice (docs/architecture.md §6)


def after_lost_answer() -> tuple[float, ...]:
    """Outcome 9902: the notification follows the stalled answer (never before the caller's read
    timeout has made the cash-in ``unknown``); the poller's status query may well come first."""
    return (settings.SANDBOX_HANG_SECONDS + 2.0,)


def signature_header(secret: str, raw_body: bytes, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode("utf-8"), f"{stamp},".encode("ascii") + raw_body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def notification_send(
    account: SimAccount, transaction: dict[str, Any], *, url: str = "", delays: tuple[float, ...] = ON_TIME
) -> str:
    """Queue one notification to ``url`` (else the registered merchant callback); returns its
    idempotency key. Without any callback URL nothing is sent."""
    delivery_key = str(uuid.uuid4())
    target = url or account.callback_url
    if not target:
        return delivery_key
    raw = json.dumps(transaction, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Basic {account.extra['callback_api_key']}",
        "X-Sonatel-Idempotency-Key": delivery_key,
    }
    if account.extra.get("sign_callbacks") and account.webhook_secret:
        headers["X-Sonatel-Signature"] = signature_header(account.webhook_secret, raw)
    for delay in delays:
        callback_enqueue(provider=PROVIDER, url=target, body=raw, headers=headers, delay_seconds=delay)
    return delivery_key
