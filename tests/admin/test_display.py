"""One way to show each kind of value (core/display.py): amounts, moments, enumerations, payloads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import translation

from core import display
from mobilemoney.selectors import msisdn_normalise

NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("language", "minor", "currency", "shown"),
    [
        ("fr", 999_939_260, "XOF", f"999{NNBSP}939{NNBSP}260 XOF"),
        ("fr", 150_000, "EUR", f"1{NNBSP}500,00 EUR"),
        ("fr", -5, "EUR", "-0,05 EUR"),
        ("en", 999_939_260, "XOF", "999,939,260 XOF"),
        ("en", 150_000, "EUR", "1,500.00 EUR"),
        ("en", 7, "XOF", "7 XOF"),
    ],
)
def test_amounts_are_grouped_with_their_currency_in_the_readers_language(
    language: str, minor: int, currency: str, shown: str
) -> None:
    with translation.override(language):
        assert display.amount(minor, currency) == shown


def test_entries_carry_their_sign_and_nothing_is_shown_as_none() -> None:
    with translation.override("en"):
        assert display.signed_amount(1_500, "XOF") == "+1,500 XOF"
        assert display.signed_amount(-1_500, "XOF") == "-1,500 XOF"
    assert display.amount(None, "XOF") == display.moment(None) == display.EMPTY


def test_moments_have_seconds_in_the_banks_time_zone() -> None:
    # Dakar is UTC all year: the same wall clock, to the second, whatever the server's zone
    assert display.moment(datetime(2026, 12, 3, 22, 4, 30, 999_999, tzinfo=UTC)) == "2026-12-03 22:04:30"


def test_an_enumeration_value_has_one_label_and_one_badge_everywhere() -> None:
    with translation.override("en"):
        assert display.label("bank_transfer_out") == "Bank transfer out"
        assert display.label("some_new_value") == "Some new value"
        badge = str(display.badge("unknown"))
    assert 'class="ap-badge ap-badge-warn"' in badge and ">Unknown<" in badge
    assert str(display.review_mark(False)) == ""  # no mark on the rows that are fine
    assert "ap-badge-warn" in str(display.review_mark(True, "late callback"))


def test_payloads_never_show_a_credential_and_mask_phone_numbers_and_ibans() -> None:
    raw = (
        b'{"headers": {"Authorization": "Bearer sk_abc123", "X-Signature": "t=1,v1=ff00", "X-Api-Key": "k-1"},'
        b' "msisdn": "+221771234567", "iban": "SN08SN0100152000048500003035", "note": "password=hunter2"}'
    )
    shown = display.payload(raw)
    for secret in ("sk_abc123", "v1=ff00", "k-1", "hunter2", "+221771234567", "SN08SN0100152000048500003035"):
        assert secret not in shown
    assert "SN08 •••• 3035" in shown and "567" in shown
    xml = display.payload(b"<Cdtr><IBAN>SN08SN0100152000048500003035</IBAN><Id>771234567</Id></Cdtr>")
    assert "SN08SN0100152000048500003035" not in xml and "771234567" not in xml


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [("+221771234567", "+221771234567"), ("77 123 45 67", "+221771234567"), ("00221771234567", "+221771234567"),
     ("221771234567", "+221771234567"), ("order-1", None), ("1500", None)],
)  # fmt: skip
def test_staff_type_a_phone_number_any_way_and_search_its_stored_form(typed: str, normalised: str | None) -> None:
    assert msisdn_normalise(typed) == normalised
