"""Woyofal (Senelec prepaid electricity): energy bought for an amount, and the STS tokens.

Since the STS-1 → STS-2 migration (15 Oct 2024) a purchase returns three 20-digit tokens to be
keyed in order (docs/providers/niirpay.md §7). The tariff below is an illustrative
three-tranche domestic table (assumed, not Senelec's official grid), applied to each purchase on
its own.
Integer arithmetic only: prices in centimes of XOF per kWh, energy in hundredths of a kWh.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

# (tranche size in hundredths of kWh or None for the open last tranche, price in centimes per kWh)
TARIFF: tuple[tuple[int | None, int], ...] = (
    (150 * 100, 9_117),  # 0-150 kWh at 91.17 XOF
    (100 * 100, 13_649),  # 151-250 kWh at 136.49 XOF
    (None, 15_936),  # beyond 250 kWh at 159.36 XOF
)
TOKEN_COUNT = 3
TOKEN_DIGITS = 20


def kwh_for_amount(amount_xof: int) -> Decimal:
    """kWh bought for ``amount_xof`` (rounded down to 0.01 kWh)."""
    remaining_centimes = amount_xof * 100
    energy_hundredths = 0
    for size_hundredths, price_centimes in TARIFF:
        # cost of a whole tranche, in centimes: size (hundredths of kWh) * price / 100
        if size_hundredths is not None and remaining_centimes * 100 >= size_hundredths * price_centimes:
            energy_hundredths += size_hundredths
            remaining_centimes -= size_hundredths * price_centimes // 100
            continue
        energy_hundredths += remaining_centimes * 100 // price_centimes
        break
    return Decimal(energy_hundredths).scaleb(-2)


def tokens_for(meter_number: str, payment_key: str) -> list[str]:
    """Three 20-digit tokens, stable for one payment (a replay shows the same tokens)."""
    tokens = []
    for index in range(1, TOKEN_COUNT + 1):
        digest = hashlib.sha256(f"woyofal:{meter_number}:{payment_key}:{index}".encode()).hexdigest()
        tokens.append(str(int(digest, 16) % 10**TOKEN_DIGITS).zfill(TOKEN_DIGITS))
    return tokens
