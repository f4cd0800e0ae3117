"""MSISDN forms at the provider edge: E.164 inside, 9 local digits for Orange Money
(docs/providers/orange_money.md §3)."""

from __future__ import annotations

import pytest

from mobilemoney.providers.msisdn import MsisdnError, e164_to_sn_local, is_e164, sn_local_to_e164


def test_e164_to_the_9_digit_orange_money_form_and_back() -> None:
    assert e164_to_sn_local("+221771234567") == "771234567"
    assert sn_local_to_e164("771234567") == "+221771234567"
    assert sn_local_to_e164(e164_to_sn_local("+221701112233")) == "+221701112233"


@pytest.mark.parametrize(
    "value", ["221771234567", "+22177123456", "+2217712345678", "+225071234567", "+221 77 123 45 67"]
)
def test_only_senegalese_e164_numbers_convert_to_the_local_form(value: str) -> None:
    with pytest.raises(MsisdnError):
        e164_to_sn_local(value)


@pytest.mark.parametrize("value", ["221771234567", "+221771234567"])
def test_a_provider_that_sends_the_country_code_back_is_tolerated(value: str) -> None:
    assert sn_local_to_e164(value) == "+221771234567"


@pytest.mark.parametrize("value", ["77123456", "7712345678", "77123456a", "", "+225771234567"])
def test_malformed_local_numbers_are_refused(value: str) -> None:
    with pytest.raises(MsisdnError):
        sn_local_to_e164(value)


def test_is_e164() -> None:
    assert is_e164("+221771234567") is True
    assert is_e164("+33612345678") is True
    assert is_e164("771234567") is False
    assert is_e164("+0221771234567") is False
