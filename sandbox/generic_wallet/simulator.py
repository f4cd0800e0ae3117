"""The generic-wallet simulator's declaration (sandbox/simulators.py finds it)."""

from sandbox.generic_wallet.accounts import wallet_account_register, wallet_connector_credentials
from sandbox.simulators import Simulator


def open_account(callback_url: str) -> dict[str, str]:
    return wallet_connector_credentials(wallet_account_register(callback_url=callback_url))


SIMULATOR = Simulator("generic_wallet", "generic-wallet/", "sandbox.generic_wallet.urls", open_account)
