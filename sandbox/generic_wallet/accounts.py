"""Sandbox accounts of a generic-wallet simulator: one wallet per API key, with its float, the
webhook URL the wallet posts to and the secret it signs with."""

from __future__ import annotations

import secrets

from sandbox.generic_wallet.dialect import GENERIC_WALLET, Dialect
from sandbox.generic_wallet.engine import DEFAULT_FLOAT_MINOR, balance_set
from sandbox.services import SimAccount, account_register


def wallet_account_register(
    *, callback_url: str = "", float_minor: int = DEFAULT_FLOAT_MINOR, dialect: Dialect = GENERIC_WALLET
) -> SimAccount:
    """A new sandbox wallet holding ``float_minor`` (XOF), calling back ``callback_url``."""
    account = account_register(
        provider=dialect.provider,
        api_key=dialect.key_prefix + secrets.token_urlsafe(24),
        webhook_secret=dialect.key_prefix + "whsec_" + secrets.token_urlsafe(24),
        callback_url=callback_url,
        extra={"wallet_id": dialect.id_prefix + "_w_" + secrets.token_hex(6)},
    )
    balance_set(dialect, account, float_minor)
    return account


def wallet_connector_credentials(account: SimAccount) -> dict[str, str]:
    """The credentials a connection on this sandbox wallet needs."""
    return {"api_key": account.api_key, "webhook_secret": account.webhook_secret}
