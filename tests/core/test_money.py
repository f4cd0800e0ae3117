"""Money parses strictly and formats by the currency's exponent."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ErrorCode
from core.money import Money, MoneyError


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("1500", "XOF", 1500), ("12.50", "EUR", 1250), ("12.5", "EUR", 1250), ("0.01", "USD", 1), ("7", "EUR", 700)],
)
def test_parse(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        ("10.5", "XOF"),  # XOF has no minor unit
        ("1.234", "EUR"),  # too many decimals
        ("-5", "XOF"),
        ("0", "XOF"),
        ("1e3", "XOF"),
        (" 100", "XOF"),
        ("100 ", "XOF"),
        ("0100", "XOF"),
        ("1,000", "XOF"),
        ("", "XOF"),
        ("NaN", "EUR"),
        ("12.", "EUR"),
        (".5", "EUR"),
        (1500, "XOF"),  # JSON numbers are refused
        (12.5, "EUR"),
        (True, "XOF"),
        (None, "XOF"),
    ],
)
def test_strict_parse_refuses(value: object, currency: str) -> None:
    with pytest.raises(MoneyError) as info:
        Money.parse(value, currency)
    assert info.value.code == ErrorCode.INVALID_AMOUNT
    assert info.value.status == 400


def test_unknown_currency() -> None:
    with pytest.raises(MoneyError) as info:
        Money.parse("10", "ZZZ")
    assert info.value.code == ErrorCode.UNSUPPORTED_CURRENCY


def test_zero_allowed_when_asked() -> None:
    assert Money.parse("0", "XOF", allow_zero=True) == Money(0, "XOF")


def test_minor_must_be_an_int() -> None:
    with pytest.raises(TypeError):
        Money(12.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "XOF")


def test_arithmetic_refuses_mixed_currencies() -> None:
    assert Money(5, "XOF") + Money(7, "XOF") == Money(12, "XOF")
    assert Money(5, "XOF") - Money(7, "XOF") == Money(-2, "XOF")
    with pytest.raises(ValueError):
        _ = Money(5, "XOF") + Money(5, "EUR")


def test_formatting() -> None:
    assert Money(5, "EUR").to_decimal_string() == "0.05"
    assert Money(-1250, "EUR").to_decimal_string() == "-12.50"
    assert str(Money(1500, "XOF")) == "1500 XOF"


@given(minor=st.integers(min_value=1, max_value=10**15), currency=st.sampled_from(["XOF", "EUR", "USD"]))
def test_round_trip(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert Money.parse(money.to_decimal_string(), currency) == money
