"""Mixx by Yas (formerly Free Money), Senegal's third wallet (docs/providers/mixx.md).

No public documentation of Mixx's merchant API exists: its API is modelled on the shape of the
others (docs/providers/generic-wallet.yaml), with its own signature header and signed bytes
(``t:body``), so the connector is the generic wallet's with those attributes changed. When
Mixx publishes its API, this module (and ``sandbox/mixx/``) follow it; nothing else changes.

Credentials: ``api_key`` (Bearer) and ``webhook_secret`` (optionally ``webhook_secrets``).
"""

from __future__ import annotations

from typing import ClassVar

from mobilemoney.providers.generic_wallet import GenericWalletConnector
from partners.registry import register


@register("mixx")
class MixxConnector(GenericWalletConnector):
    """Mixx by Yas: a wallet modelled on the generic wallet's shape (docs/providers/mixx.md)."""

    provider_name = "Mixx by Yas"
    signature_header: ClassVar[str] = "Mixx-Signature"
    signature_separator: ClassVar[bytes] = b":"
