"""Sandbox accounts of the two simulated banks: who may call them, and where callbacks go.

- the core banking system (``core_banking``) authenticates our gateway by API key;
- the partner bank (``partner_bank``) authenticates us by API key, signs its pacs.002 status
  callbacks with ``webhook_secret`` and posts them to ``callback_url`` (agreed out of band, as
  banks do), after ``settlement_delay_seconds``.

Demo seeding and tests turn an account into the credentials of a provider connection with the
``*_connector_credentials`` helpers.
"""

from __future__ import annotations

import secrets

from sandbox.services import SimAccount, account_register

CORE_PROVIDER = "core_banking"
PARTNER_PROVIDER = "partner_bank"
DEFAULT_SETTLEMENT_DELAY_SECONDS = 2.0


def core_account_register(*, api_key: str | None = None) -> SimAccount:
    """Create (or reset) the gateway's access to the simulated core banking system."""
    return account_register(provider=CORE_PROVIDER, api_key=api_key or f"cbs_sandbox_{secrets.token_urlsafe(24)}")


def core_connector_credentials(account: SimAccount) -> dict[str, str]:
    """Credentials of a ``core_banking`` provider connection to this sandbox account."""
    return {"api_key": account.api_key}


def partner_account_register(
    *,
    callback_url: str,
    api_key: str | None = None,
    webhook_secret: str | None = None,
    settlement_delay_seconds: float = DEFAULT_SETTLEMENT_DELAY_SECONDS,
) -> SimAccount:
    """Create (or reset) the gateway's account at the simulated partner bank."""
    return account_register(
        provider=PARTNER_PROVIDER,
        api_key=api_key or f"pb_sandbox_{secrets.token_urlsafe(24)}",
        webhook_secret=webhook_secret or f"pb_whsec_{secrets.token_urlsafe(24)}",
        callback_url=callback_url,
        extra={"settlement_delay_seconds": settlement_delay_seconds},
    )


def partner_connector_credentials(account: SimAccount) -> dict[str, str]:
    """Credentials of a ``partner_bank`` provider connection to this sandbox account."""
    return {"api_key": account.api_key, "webhook_secret": account.webhook_secret}
