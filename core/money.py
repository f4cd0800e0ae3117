"""Money: integer minor units plus an ISO 4217 currency (docs/conventions.md §13). No floats, ever.

Partners send and receive amounts as decimal strings in major units (``"1500"`` XOF,
``"12.50"`` EUR); parsing is strict: no floats, no negatives, no exponent notation, no more
decimals than the currency has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import ErrorCode, ValidationFailed

# ISO 4217 minor-unit exponents of the currencies the gateway moves.
EXPONENTS: dict[str, int] = {"XOF": 0, "XAF": 0, "EUR": 2, "USD": 2, "GBP": 2}
MAX_MINOR = 10**15  # far above any single movement; keeps sums inside bigint

_DECIMAL_RE = re.compile(r"^(0|[1-9][0-9]*)(?:\.([0-9]+))?$")


class MoneyError(ValidationFailed):
    code = ErrorCode.INVALID_AMOUNT
    title = "Invalid amount"


def exponent(currency: str) -> int:
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"Unsupported currency {currency!r}.", code=ErrorCode.UNSUPPORTED_CURRENCY) from None


@dataclass(frozen=True, order=True)
class Money:
    """An amount in integer minor units of one currency."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise TypeError("Money.minor must be an int")
        exponent(self.currency)

    @classmethod
    def parse(cls, value: object, currency: str, *, allow_zero: bool = False) -> Money:
        """Parse a partner's decimal string. Refuses floats, negatives and extra decimals."""
        if not isinstance(value, str):
            raise MoneyError('Amounts are decimal strings, such as "1500" or "12.50"; numbers are refused.')
        places = exponent(currency)
        match = _DECIMAL_RE.match(value.strip() if value == value.strip() else "\x00")
        if match is None:
            raise MoneyError(f"{value!r} is not a positive decimal amount.")
        whole, fraction = match.group(1), match.group(2) or ""
        if len(fraction) > places:
            if places == 0:
                raise MoneyError(f"{currency} has no minor unit: {value!r} must be a whole number.")
            raise MoneyError(f"{currency} allows {places} decimals at most: {value!r}.")
        minor = int(whole) * 10**places + int(fraction.ljust(places, "0") or "0")
        if minor == 0 and not allow_zero:
            raise MoneyError("The amount must be greater than zero.")
        if minor > MAX_MINOR:
            raise MoneyError("The amount is too large.")
        return cls(minor, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def to_decimal_string(self) -> str:
        places = exponent(self.currency)
        sign = "-" if self.minor < 0 else ""
        digits = str(abs(self.minor))
        if places == 0:
            return sign + digits
        digits = digits.rjust(places + 1, "0")
        return f"{sign}{digits[:-places]}.{digits[-places:]}"

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ValueError("cannot combine amounts of different currencies")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)


def format_minor(minor: int, currency: str) -> str:
    return Money(minor, currency).to_decimal_string()
