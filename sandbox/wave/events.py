"""Webhooks the Wave simulator sends back: ``{"id": "EV_…", "type": …, "data": {…}}`` signed
with ``Wave-Signature: t=<unix>,v1=HMAC_SHA256(secret, t + raw_body)`` (docs/providers/wave.md §6).

Written independently of the gateway's verifier on purpose: the conformance suite checks that
the two agree.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from sandbox.services import SimAccount, callback_enqueue
from sandbox.wave.common import PROVIDER, wave_id

ON_TIME = (0.0,)
LATE_TWICE = (5.0, 9.0)  # outcome 9905: the same event, late, delivered twice (docs/architecture.md §6)


def signature_header(secret: str, raw_body: bytes, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode("utf-8"), str(stamp).encode("ascii") + raw_body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def event_send(account: SimAccount, event_type: str, data: dict[str, Any], delays: tuple[float, ...] = ON_TIME) -> str:
    """Queue one event (once per delay, identical bytes: a redelivery) to the account's webhook.

    Returns the event id. Without a registered webhook URL nothing is sent, as at Wave.
    """
    event_id = wave_id("EV_", 12)
    if not account.callback_url:
        return event_id
    raw = json.dumps({"id": event_id, "type": event_type, "data": data}, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "Wave-Signature": signature_header(account.webhook_secret, raw)}
    for delay in delays:
        callback_enqueue(provider=PROVIDER, url=account.callback_url, body=raw, headers=headers, delay_seconds=delay)
    return event_id
