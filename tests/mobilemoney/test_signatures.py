"""Callback signatures: Wave (t + body, docs/providers/wave.md §6) and Orange Money (t + "," + body,
docs/providers/orange_money.md §6).

The expected digests were computed outside Python with
``printf '%s%s' T BODY | openssl dgst -sha256 -hmac SECRET`` (and ``'%s,%s'`` for Sonatel).
"""

from __future__ import annotations

import pytest

from mobilemoney.providers.signatures import (
    format_signature_header,
    parse_signature_header,
    sonatel_signature,
    verify_sonatel_signature,
    verify_wave_signature,
    wave_signature,
)

WAVE_SECRET = "wave_sn_WHS_xz4m6g8rjs9bshxy05xj4khcvjv7j3hcp4fbpvv6met0zdrjvezg"
WAVE_T = 1639081943
WAVE_BODY = (
    b'{"id":"EV_QvEZuDSQbLdI","type":"checkout.session.completed",'
    b'"data":{"id":"cos-18qq25rgr100a","amount":"5000","currency":"XOF"}}'
)
WAVE_V1 = "6b3b0e52a59d125bea6a93b90fe124041a40a855d752576a2af441b8294a7162"
WAVE_V1_WITH_DOT = "01f95352a65f99dfc3ac2bc0a82c7277befd1fbd8fdab117ecc55f8b3e8f1a58"  # the wrong, Stripe-style form

OM_SECRET = "om_endpoint_secret_example"
OM_T = 1757412179
OM_BODY = b'{"transactionId":"MP260909.1002.A34169","reference":"PROBE-10XOF-RECETTE","status":"SUCCESS"}'
OM_V1 = "786ba272800ea362cd0f42f3bc0c8fb7753b9bcf0fae70efffb7c1ad2fe5fb6e"


def test_wave_signature_matches_the_fixed_vector() -> None:
    assert wave_signature(WAVE_SECRET, WAVE_T, WAVE_BODY) == WAVE_V1
    assert verify_wave_signature(f"t={WAVE_T},v1={WAVE_V1}", WAVE_BODY, [WAVE_SECRET], now=WAVE_T) is True


def test_sonatel_signature_matches_the_fixed_vector() -> None:
    assert sonatel_signature(OM_SECRET, OM_T, OM_BODY) == OM_V1
    assert verify_sonatel_signature(f"t={OM_T},v1={OM_V1}", OM_BODY, [OM_SECRET], now=OM_T) is True


def test_the_two_providers_sign_different_bytes() -> None:
    assert wave_signature(OM_SECRET, OM_T, OM_BODY) != OM_V1
    assert verify_wave_signature(f"t={OM_T},v1={OM_V1}", OM_BODY, [OM_SECRET], now=OM_T) is False
    assert verify_sonatel_signature(f"t={WAVE_T},v1={WAVE_V1}", WAVE_BODY, [WAVE_SECRET], now=WAVE_T) is False


def test_wave_refuses_the_stripe_style_dot_separator() -> None:
    header = f"t={WAVE_T},v1={WAVE_V1_WITH_DOT}"
    assert verify_wave_signature(header, WAVE_BODY, [WAVE_SECRET], now=WAVE_T) is False


@pytest.mark.parametrize(("offset", "accepted"), [(0, True), (300, True), (-300, True), (301, False), (-301, False)])
def test_timestamp_tolerance_is_300_seconds_both_ways(offset: int, accepted: bool) -> None:
    header = f"t={WAVE_T},v1={WAVE_V1}"
    assert verify_wave_signature(header, WAVE_BODY, [WAVE_SECRET], now=WAVE_T + offset) is accepted


def test_any_of_several_v1_values_and_any_of_several_secrets_is_accepted() -> None:
    header = f"t={WAVE_T},v1={'0' * 64},v1={WAVE_V1}"
    assert verify_wave_signature(header, WAVE_BODY, [WAVE_SECRET], now=WAVE_T) is True
    assert verify_wave_signature(f"t={WAVE_T},v1={WAVE_V1}", WAVE_BODY, ["old", WAVE_SECRET], now=WAVE_T) is True


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        f"v1={WAVE_V1}",
        f"t={WAVE_T}",
        f"t=abc,v1={WAVE_V1}",
        f"t={WAVE_T},t={WAVE_T},v1={WAVE_V1}",
        f"t={WAVE_T};v1={WAVE_V1}",
        f"t={WAVE_T},v1={WAVE_V1[:-1]}",
        f"t=١٢٣,v1={WAVE_V1}",  # non-ASCII digits
    ],
)
def test_malformed_or_wrong_headers_are_refused(header: str | None) -> None:
    assert verify_wave_signature(header, WAVE_BODY, [WAVE_SECRET], now=WAVE_T) is False


def test_tampered_body_unknown_secret_and_no_secret_are_refused() -> None:
    header = f"t={WAVE_T},v1={WAVE_V1}"
    assert verify_wave_signature(header, WAVE_BODY.replace(b"5000", b"5001"), [WAVE_SECRET], now=WAVE_T) is False
    assert verify_wave_signature(header, WAVE_BODY, ["another-secret"], now=WAVE_T) is False
    assert verify_wave_signature(header, WAVE_BODY, [], now=WAVE_T) is False
    assert verify_wave_signature(header, WAVE_BODY, [""], now=WAVE_T) is False


def test_header_parsing_keeps_t_as_sent_and_ignores_unknown_schemes() -> None:
    parsed = parse_signature_header(f" t={WAVE_T} , v0=abc, v1={WAVE_V1.upper()}")
    assert parsed is not None
    assert parsed.timestamp == str(WAVE_T)
    assert parsed.signatures == (WAVE_V1,)
    assert format_signature_header(WAVE_T, [WAVE_V1, "ff"]) == f"t={WAVE_T},v1={WAVE_V1},v1=ff"
