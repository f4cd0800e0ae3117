"""Small helpers for reading providers' answers without trusting their types.

Providers send amounts as strings (Wave, docs/providers/wave.md §2) or as JSON floats (Orange
Money, docs/providers/orange_money.md §3: ``amount.value`` arrives as a float): both are read
through ``Decimal`` so no float ever touches an amount.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.errors import ProviderOutcomeUnknown
from core.money import Money, exponent


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value by case-insensitive name (callers pass Django's or a plain dict)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def decode_json(content: bytes) -> Any:
    """JSON with every non-integer number read as ``Decimal`` (never float)."""
    return json.loads(content or b"null", parse_float=Decimal)


def decode_json_or_none(content: bytes) -> Any:
    """Like ``decode_json`` but ``None`` for a body that is not JSON (error bodies)."""
    try:
        return decode_json(content)
    except ValueError:
        return None


def decode_json_answer(content: bytes, *, what: str) -> Any:
    """Decode a success answer; a body that is not JSON leaves the outcome unknown."""
    try:
        return decode_json(content)
    except ValueError as exc:
        raise ProviderOutcomeUnknown(f"{what}: the answer is not JSON") from exc


def money_from_provider(value: object, currency: object) -> Money:
    """An amount as the provider wrote it (``"1500"``, ``1500``, ``1500.0``) as ``Money``.

    Refuses booleans, non-numbers and amounts with more decimals than the currency has
    (``"12.5"`` XOF); ``"1500.00"`` is accepted for XOF because its value is whole.
    """
    if not isinstance(currency, str):
        raise ValueError(f"currency {currency!r} is not a string")
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f"amount {value!r} is neither a string nor a number")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"amount {value!r} is not a number") from exc
    if not amount.is_finite():
        raise ValueError(f"amount {value!r} is not finite")
    minor = amount.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise ValueError(f"amount {value!r} has more decimals than {currency} allows")
    return Money(int(minor), currency)


def parse_timestamp(value: object) -> datetime | None:
    """An ISO-8601 timestamp (``2024-01-15T10:00:00Z``) as an aware datetime, else ``None``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def text(value: object) -> str | None:
    """A non-empty string or ``None`` (providers send ``null``, numbers or ``""`` for absent)."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
