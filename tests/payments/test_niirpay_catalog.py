"""The simulated Niirpay catalogue: reference formats of the Senegalese billers and fee bands."""

from __future__ import annotations

import re

import pytest

from payments.providers.base import Biller, BillerCategory, BillerKind
from sandbox.niirpay.catalog import BILLERS, biller_by_code
from sandbox.services import Outcome, outcome_for


def test_the_catalogue_holds_the_five_senegalese_billers() -> None:
    assert [(b.code, b.type, b.category) for b in BILLERS] == [
        ("SENELEC", "POSTPAID_BILL", "ELECTRICITY"),
        ("WOYOFAL", "PREPAID", "ELECTRICITY"),
        ("SENEAU", "POSTPAID_BILL", "WATER"),
        ("CANALPLUS", "PREPAID", "TV"),
        ("ORANGE_AIRTIME", "PREPAID", "AIRTIME"),
    ]


@pytest.mark.parametrize(
    ("code", "valid", "invalid"),
    [
        ("SENELEC", ["012345678912", "000000009901"], ["01234567891", "0123456789123", "01234567891A", ""]),
        ("WOYOFAL", ["14212345678", "14212349902"], ["1421234567", "142123456789", "1421234567x"]),
        ("SENEAU", ["3012345678", "3012349903"], ["301234567", "30123456789", "30-1234567"]),
        ("CANALPLUS", ["23456789012345", "23456789019904"], ["2345678901234", "234567890123456"]),
        ("ORANGE_AIRTIME", ["771234567", "781239905"], ["761234567", "701234567", "221771234567", "77123456"]),
    ],
)
def test_reference_patterns(code: str, valid: list[str], invalid: list[str]) -> None:
    biller = biller_by_code(code)
    assert biller is not None
    assert all(biller.accepts_reference(reference) for reference in valid)
    assert not any(biller.accepts_reference(reference) for reference in invalid)
    # The pattern is a plain anchored regex the partner API can hand to JavaScript as is.
    assert biller.reference_pattern.startswith("^") and biller.reference_pattern.endswith("$")


@pytest.mark.parametrize("biller", BILLERS, ids=lambda biller: biller.code)
def test_examples_succeed_and_every_outcome_reference_fits_the_format(biller) -> None:  # type: ignore[no-untyped-def]
    assert biller.accepts_reference(biller.reference_example)
    assert outcome_for(biller.reference_example) is Outcome.SUCCESS
    for suffix, outcome in [("9901", Outcome.REJECTED), ("9904", Outcome.INSUFFICIENT_FLOAT)]:
        reference = biller.reference_example[:-4] + suffix
        assert biller.accepts_reference(reference)
        assert outcome_for(reference) is outcome


def test_the_interface_biller_matches_the_whole_reference_only() -> None:
    biller = Biller(
        code="SENELEC",
        name="Senelec",
        category=BillerCategory.ELECTRICITY,
        kind=BillerKind.BILL,
        reference_label="Numéro de police",
        reference_pattern="^[0-9]{12}$",
        reference_example="012345678912",
        min_amount_minor=100,
        max_amount_minor=3_000_000,
        currency="XOF",
    )
    assert biller.accepts_reference("012345678912")
    assert not biller.accepts_reference("012345678912\n")
    assert not biller.accepts_reference(" 012345678912")
    assert re.fullmatch(biller.reference_pattern, "0123456789120") is None


@pytest.mark.parametrize(
    ("code", "amount", "fee"),
    [
        ("SENELEC", 100, 100),
        ("SENELEC", 10_000, 100),
        ("SENELEC", 10_001, 200),
        ("SENELEC", 50_000, 200),
        ("SENELEC", 50_001, 500),
        ("SENELEC", 200_000, 500),
        ("SENELEC", 200_001, 1_000),
        ("SENELEC", 3_000_000, 1_000),
        ("WOYOFAL", 1_000, 100),
        ("WOYOFAL", 5_000, 100),
        ("WOYOFAL", 5_001, 150),
        ("WOYOFAL", 20_000, 150),
        ("WOYOFAL", 20_001, 300),
        ("WOYOFAL", 500_000, 300),
        ("SENEAU", 10_000, 100),
        ("SENEAU", 10_001, 200),
        ("SENEAU", 50_001, 500),
        ("CANALPLUS", 5_000, 150),
        ("CANALPLUS", 25_000, 150),
        ("ORANGE_AIRTIME", 100, 0),
        ("ORANGE_AIRTIME", 200_000, 0),
    ],
)
def test_fee_bands(code: str, amount: int, fee: int) -> None:
    biller = biller_by_code(code)
    assert biller is not None
    assert biller.fee_for(amount) == fee


def test_fee_bands_are_ordered_and_cover_every_payable_amount() -> None:
    for biller in BILLERS:
        bounds = [band.up_to for band in biller.fee_bands]
        assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds), biller.code
        assert bounds[-1] >= biller.max_amount, biller.code
        assert all(band.fee >= 0 for band in biller.fee_bands), biller.code


def test_canal_plus_sells_fixed_offers_only() -> None:
    canal = biller_by_code("CANALPLUS")
    assert canal is not None
    assert [(offer.code, offer.amount) for offer in canal.offers] == [
        ("ACCESS", 5_000),
        ("EVASION", 10_000),
        ("ACCESS_PLUS", 15_000),
        ("EVASION_PLUS", 20_000),
        ("TOUT_CANAL", 25_000),
    ]
    assert canal.offer_for(10_000) is not None and canal.offer_for(10_000).code == "EVASION"  # type: ignore[union-attr]
    assert canal.offer_for(10_001) is None
    assert biller_by_code("ORANGE_AIRTIME").offers == ()  # type: ignore[union-attr]
    assert biller_by_code("NOPE") is None
