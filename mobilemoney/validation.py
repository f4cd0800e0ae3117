"""Validation of partner input, field by field, collecting every problem (DESIGN.md §5).

Each check appends ``FieldError``s instead of raising, so that a batch reports all its item
errors in one problem response (``items[3].msisdn``, ``line 4``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.errors import FieldError
from core.money import Money, MoneyError
from mobilemoney.providers.msisdn import is_e164

PROVIDERS = ("wave", "orange_money")
CURRENCIES = ("XOF",)  # Wave and Orange Money Senegal move XOF only (providers.md §1, §2)
CLIENT_REFERENCE_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")


@dataclass(frozen=True)
class CashInInput:
    msisdn: str
    money: Money
    client_reference: str
    recipient_name: str
    reason: str


def _text(data: dict[str, Any], name: str, field: str, errors: list[FieldError], *, max_length: int) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        errors.append(FieldError(field, f"must be a string of at most {max_length} characters"))
        return ""
    return value.strip()


def provider_of(data: Any, errors: list[FieldError]) -> str:
    provider = data.get("provider") if isinstance(data, dict) else None
    if provider not in PROVIDERS:
        errors.append(FieldError("provider", f"must be one of {', '.join(PROVIDERS)}"))
        return ""
    return str(provider)


def cash_in_input(data: Any, errors: list[FieldError], prefix: str = "") -> CashInInput | None:
    """The cash-in fields of ``data`` (``None`` with ``errors`` appended when any is wrong)."""
    if not isinstance(data, dict):
        errors.append(FieldError(prefix.rstrip(".") or "body", "must be a JSON object"))
        return None
    before = len(errors)
    msisdn = data.get("msisdn")
    if not isinstance(msisdn, str) or not is_e164(msisdn):
        errors.append(FieldError(f"{prefix}msisdn", "must be an E.164 number such as +221771234567"))
    currency = data.get("currency")
    money = None
    if currency not in CURRENCIES:
        errors.append(FieldError(f"{prefix}currency", f"must be one of {', '.join(CURRENCIES)}"))
    else:
        try:
            money = Money.parse(data.get("amount"), str(currency))
        except MoneyError as exc:
            errors.append(FieldError(f"{prefix}amount", exc.detail))
    reference = data.get("client_reference")
    if not isinstance(reference, str) or not CLIENT_REFERENCE_RE.match(reference):
        errors.append(FieldError(f"{prefix}client_reference", "1-100 characters of [A-Za-z0-9_.:-]"))
    recipient_name = _text(data, "recipient_name", f"{prefix}recipient_name", errors, max_length=100)
    reason = _text(data, "reason", f"{prefix}reason", errors, max_length=140)
    if len(errors) > before or money is None:
        return None
    return CashInInput(str(msisdn), money, str(reference), recipient_name, reason)


@dataclass(frozen=True)
class CheckoutFields:
    money: Money
    client_reference: str
    success_url: str
    error_url: str
    restrict_payer_msisdn: str | None


def _url(data: dict[str, Any], name: str, errors: list[FieldError]) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not re.match(r"^https?://[^\s]{1,990}$", value):
        errors.append(FieldError(name, "must be an http(s) URL"))
        return ""
    return value


def checkout_input(data: Any, errors: list[FieldError]) -> CheckoutFields | None:
    if not isinstance(data, dict):
        errors.append(FieldError("body", "must be a JSON object"))
        return None
    before = len(errors)
    money = None
    currency = data.get("currency")
    if currency not in CURRENCIES:
        errors.append(FieldError("currency", f"must be one of {', '.join(CURRENCIES)}"))
    else:
        try:
            money = Money.parse(data.get("amount"), str(currency))
        except MoneyError as exc:
            errors.append(FieldError("amount", exc.detail))
    reference = data.get("client_reference")
    if not isinstance(reference, str) or not CLIENT_REFERENCE_RE.match(reference):
        errors.append(FieldError("client_reference", "1-100 characters of [A-Za-z0-9_.:-]"))
    success_url, error_url = _url(data, "success_url", errors), _url(data, "error_url", errors)
    payer = data.get("restrict_payer_mobile")
    if payer is not None and (not isinstance(payer, str) or not is_e164(payer)):
        errors.append(FieldError("restrict_payer_mobile", "must be an E.164 number"))
    if len(errors) > before or money is None:
        return None
    return CheckoutFields(money, str(reference), success_url, error_url, payer)
