"""What a wallet speaking the generic-wallet shape may change: its name in the sandbox, its
signature header and the separator of the signed bytes, its ids. The generic wallet's own
dialect is the contract of docs/providers/generic-wallet.yaml; another wallet modelled on the
same shape (sandbox/mixx/) brings its own."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    provider: str  # the simulator's name in the sandbox's tables (SimEffect.provider…)
    signature_header: str  # t=<unix>,v1=<hex HMAC-SHA256(secret, t + separator + raw body)>
    separator: bytes
    id_prefix: str  # of cash-ins, checkouts and events
    key_prefix: str  # of generated sandbox API keys


GENERIC_WALLET = Dialect(
    provider="generic_wallet",
    signature_header="Wallet-Signature",
    separator=b".",
    id_prefix="gw",
    key_prefix="gw_sandbox_",
)
