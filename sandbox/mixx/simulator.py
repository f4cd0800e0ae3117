"""The Mixx by Yas simulator (docs/providers/mixx.md): the generic wallet's simulator speaking
Mixx's dialect, under /sandbox/mixx/ (sandbox/simulators.py finds it)."""

from sandbox.generic_wallet.accounts import wallet_account_register, wallet_connector_credentials
from sandbox.generic_wallet.dialect import Dialect
from sandbox.simulators import Simulator

MIXX = Dialect(
    provider="mixx",
    signature_header="Mixx-Signature",
    separator=b":",
    id_prefix="mx",
    key_prefix="mixx_sandbox_",
)


def open_account(callback_url: str) -> dict[str, str]:
    return wallet_connector_credentials(wallet_account_register(callback_url=callback_url, dialect=MIXX))


SIMULATOR = Simulator("mixx", "mixx/", "sandbox.mixx.urls", open_account)
