"""Sandbox Wave accounts: one business wallet per API key, as at Wave (docs/providers/wave.md §1).

A connector authenticates with the ``api_key`` returned here; the simulator signs its webhooks
with ``webhook_secret`` and posts them to ``callback_url`` (the webhook registered in Wave's
Business Portal, docs/providers/wave.md §6).
"""

from __future__ import annotations

import secrets

from sandbox.services import SimAccount, account_for_key, account_register
from sandbox.wave.common import DEFAULT_FLOAT_MINOR, PROVIDER, balance_set, wallet_of

# docs/providers/wave.md §3: Wave's docs disagree on the batch status path; a sandbox account may serve
# only one spelling so that a connector's fallback can be exercised.
BATCH_STATUS_PATHS = ("payout-batch", "payouts-batch")


def wave_account_register(
    *,
    api_key: str | None = None,
    webhook_secret: str | None = None,
    callback_url: str = "",
    business_name: str = "Addon Partner Sandbox",
    float_minor: int = DEFAULT_FLOAT_MINOR,
    batch_status_paths: tuple[str, ...] = BATCH_STATUS_PATHS,
) -> SimAccount:
    """Create (or reset) a sandbox business wallet holding ``float_minor`` XOF."""
    existing = account_for_key(PROVIDER, api_key) if api_key else None
    wallet_id = existing.extra["wallet_id"] if existing else "W_" + secrets.token_hex(6)
    account = account_register(
        provider=PROVIDER,
        api_key=api_key or f"wave_sn_sandbox_{secrets.token_urlsafe(24)}",
        webhook_secret=webhook_secret or f"wave_sn_WHS_{secrets.token_urlsafe(24)}",
        callback_url=callback_url,
        extra={
            "wallet_id": wallet_id,
            "business_name": business_name,
            "batch_status_paths": list(batch_status_paths),
        },
    )
    balance_set(wallet_of(account), float_minor)
    return account


def wave_connector_credentials(account: SimAccount) -> dict[str, str]:
    """The credentials a ``wave`` provider connection needs to use this sandbox account
    (demo seeding, tests)."""
    return {"api_key": account.api_key, "webhook_secret": account.webhook_secret}
