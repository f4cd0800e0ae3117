"""What validated partner input becomes (the serializers of ``mobilemoney.serializers`` build
these), and the rules the rail shares with them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.money import Money

# Providers are data (mobilemoney.connectors.rail_providers), not listed here.
# Wave and Orange Money Senegal move XOF only (docs/providers/wave.md §2, docs/providers/orange_money.md §3).
CURRENCIES = ("XOF",)
CLIENT_REFERENCE_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")
MAX_ITEMS = 10_000  # items of one bulk cash-in request


@dataclass(frozen=True)
class CashInInput:
    msisdn: str
    money: Money
    client_reference: str
    recipient_name: str
    reason: str


@dataclass(frozen=True)
class CheckoutFields:
    money: Money
    client_reference: str
    success_url: str
    error_url: str
    restrict_payer_msisdn: str | None
