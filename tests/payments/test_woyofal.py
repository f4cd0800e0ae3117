"""Woyofal prepaid electricity in the simulator: kWh from the tariff table, three 20-digit tokens."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.niirpay.woyofal import kwh_for_amount, tokens_for


@pytest.mark.parametrize(
    ("amount_xof", "kwh"),
    [
        (1_000, "10.96"),  # 100000 centimes / 91.17 → 10.968…, rounded down
        (5_000, "54.84"),
        (13_675, "149.99"),  # 1.5 XOF short of the first tranche (150 kWh = 13,675.50 XOF)
        (13_676, "150.00"),  # the first tranche and 0.50 XOF that buys less than 0.01 kWh
        (20_000, "196.33"),  # 150 kWh + 6,324.50 XOF at 136.49
        (100_000, "706.04"),  # 150 + 100 kWh (27,324.50 XOF) + 72,675.50 XOF at 159.36
    ],
)
def test_kwh_follows_the_tranches(amount_xof: int, kwh: str) -> None:
    assert kwh_for_amount(amount_xof) == Decimal(kwh)
    assert str(kwh_for_amount(amount_xof)) == kwh  # two decimals on the receipt


def test_more_money_never_buys_less_energy() -> None:
    energies = [kwh_for_amount(amount) for amount in range(1_000, 40_001, 250)]
    assert energies == sorted(energies)


def test_three_20_digit_tokens_stable_per_payment() -> None:
    tokens = tokens_for("14212345678", "txn_1")
    assert len(tokens) == 3 and len(set(tokens)) == 3
    assert all(len(token) == 20 and token.isdigit() for token in tokens)
    assert tokens_for("14212345678", "txn_1") == tokens  # a replay shows the same tokens, same order
    assert tokens_for("14212345678", "txn_2") != tokens
    assert tokens_for("14212345679", "txn_1") != tokens
