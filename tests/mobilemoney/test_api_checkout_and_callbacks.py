"""Checkout sessions and provider callbacks over real HTTP: create (QR rendered), pay as the
sandbox customer, the provider's signed callback stored, verified, de-duplicated and applied
once (the partner credited once), forgeries refused with 401 and kept, out-of-order events
ignored, bulk payloads applied in chunks, search limited to the partner and mode."""

from __future__ import annotations

import base64
import json
import time

import pytest

from ledger.models import Transaction
from ledger.selectors import ledger_check
from ledger.services import transaction_transition
from mobilemoney.models import CallbackStatus, CashIn, CheckoutSession, InboundCallback
from mobilemoney.services.callbacks import callback_apply
from mobilemoney.services.cash_ins import cash_in_process
from mobilemoney.services.refunds import checkout_refund_process
from partners.registry import connector_session_for
from sandbox.wave.events import signature_header
from tests.mobilemoney.api_support import (
    cash_in_body,
    connect_providers,
    deliver_sandbox_callbacks,
    make_partner,
    outbox_types,
    post_callback,
)

pytestmark = pytest.mark.django_db(transaction=True)

PROVIDERS = ["wave", "orange_money"]
PATH = "/api/v1/mobile-money/checkout-sessions"


@pytest.fixture
def accounts(live_server, settings):  # type: ignore[no-untyped-def]
    settings.SANDBOX_HANG_SECONDS = 2
    return connect_providers(live_server.url)


@pytest.fixture
def side(live_server, accounts):  # type: ignore[no-untyped-def]
    return make_partner(live_server.url)


def session_body(provider: str, reference: str = "cart-1", amount: str = "2500") -> dict[str, str]:
    return {
        "provider": provider,
        "amount": amount,
        "currency": "XOF",
        "client_reference": reference,
        "success_url": "https://shop.example/ok",
        "error_url": "https://shop.example/ko",
    }


def create_session(
    side, provider: str, reference: str = "cart-1", key: str | None = None, amount: str = "2500"
) -> dict:  # type: ignore[no-untyped-def]
    body = session_body(provider, reference, amount)
    answer = side.client.post(PATH, json=body, idempotency_key=key or reference)
    assert answer.status == 201, answer.body
    return answer.body


def apply_all() -> int:
    return callback_apply(list(InboundCallback.objects.values_list("pk", flat=True)))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_paid_session_is_credited_once_even_when_the_callback_comes_ten_times(side, live_server, provider) -> None:  # type: ignore[no-untyped-def]
    balance, held = side.money()
    body = create_session(side, provider)
    assert body["status"] == "open" and body["transaction"]["kind"] == "collection"
    assert body["payment_url"] and body["qr_code"]["payload"]
    assert base64.b64decode(body["qr_code"]["png_base64"]).startswith(b"\x89PNG")
    assert side.money() == (balance, held)  # no hold for a collection

    paid = side.client.post(
        f"/api/v1/test-helpers/checkout-sessions/{body['id']}/pay", json={"payer_msisdn": "+221770001234"}
    )
    assert paid.status == 200, paid.body
    assert deliver_sandbox_callbacks(live_server.url, provider, times=10) == [200] * 10
    events = InboundCallback.objects.exclude(delivery=None)
    assert events.count() == 1  # one event, ten deliveries
    assert InboundCallback.objects.filter(delivery=None).count() == 10  # every delivery kept raw
    apply_all()
    apply_all()  # a repeated task applies nothing more

    session = CheckoutSession.objects.select_related("transaction").get(public_id=body["id"])
    assert (session.status, session.transaction.status) == ("complete", "succeeded")
    assert side.money() == (balance + 2500, held)
    assert outbox_types(session.transaction) == [
        "transaction.created", "transaction.processing", "transaction.succeeded",
    ]  # fmt: skip
    assert ledger_check().is_ok
    status, _, got = side.client.get(f"{PATH}/{body['id']}")
    assert status == 200 and got["transaction"]["status"] == "succeeded"


def wave_event(session: CheckoutSession, event_type: str, event_id: str) -> dict:  # type: ignore[type-arg]
    return {
        "id": event_id,
        "type": event_type,
        "data": {
            "id": session.provider_session_id,
            "amount": "2500",
            "currency": "XOF",
            "checkout_status": "complete" if event_type.endswith("completed") else "open",
            "payment_status": "succeeded" if event_type.endswith("completed") else "failed",
            "client_reference": session.public_id,
            "business_name": "Addon",
            "success_url": "https://shop.example/ok",
            "error_url": "https://shop.example/ko",
            "wave_launch_url": "https://pay.wave.com/c/x",
            "when_created": "2026-11-24T10:00:00Z",
            "when_expires": "2026-11-25T10:00:00Z",
            "last_payment_error": None if event_type.endswith("completed") else {"code": "blocked-account"},
        },
    }


def send_wave(live_server, accounts, payload, secret=None, timestamp=None) -> int:  # type: ignore[no-untyped-def]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    header = signature_header(secret or accounts["wave"].webhook_secret, raw, timestamp)
    return post_callback(live_server.url, "wave", raw, {"Content-Type": "application/json", "Wave-Signature": header})


def test_out_of_order_failure_never_moves_a_completed_session(side, live_server, accounts) -> None:  # type: ignore[no-untyped-def]
    session = CheckoutSession.objects.get(public_id=create_session(side, "wave")["id"])
    assert send_wave(live_server, accounts, wave_event(session, "checkout.session.completed", "EV_done")) == 200
    assert send_wave(live_server, accounts, wave_event(session, "checkout.session.payment_failed", "EV_fail")) == 200
    for _ in range(3):
        assert send_wave(live_server, accounts, wave_event(session, "checkout.session.completed", "EV_done")) == 200
    apply_all()
    session.refresh_from_db()
    txn = Transaction.objects.get(pk=session.transaction_id)
    assert (session.payment_status, txn.status) == ("succeeded", "succeeded")
    assert txn.events.filter(to_status="succeeded").count() == 1


def test_forged_stale_and_foreign_signatures_are_401_kept_and_apply_nothing(side, live_server, accounts) -> None:  # type: ignore[no-untyped-def]
    session = CheckoutSession.objects.get(public_id=create_session(side, "wave")["id"])
    event = wave_event(session, "checkout.session.completed", "EV_forged")
    raw = json.dumps(event, separators=(",", ":")).encode()
    good = signature_header(accounts["wave"].webhook_secret, raw)
    tampered = raw.replace(b'"2500"', b'"9999"')
    assert post_callback(live_server.url, "wave", tampered, {"Wave-Signature": good}) == 401
    assert send_wave(live_server, accounts, event, timestamp=int(time.time()) - 3600) == 401
    assert send_wave(live_server, accounts, event, secret="wave_sn_WHS_not-ours") == 401
    assert post_callback(live_server.url, "wave", raw, {}) == 401
    rejected = InboundCallback.objects.filter(status=CallbackStatus.REJECTED)
    assert rejected.count() == 4 and bytes(rejected.first().raw_body) in (raw, tampered)  # type: ignore[union-attr]
    assert InboundCallback.objects.exclude(delivery=None).count() == 0
    apply_all()
    assert Transaction.objects.get(pk=session.transaction_id).status == "pending"


def test_unknown_reference_is_kept_and_flagged(side, live_server, accounts) -> None:  # type: ignore[no-untyped-def]
    ghost = CheckoutSession(public_id="cos_nobody", provider_session_id="cos-ghost")
    assert send_wave(live_server, accounts, wave_event(ghost, "checkout.session.completed", "EV_ghost")) == 200
    apply_all()
    row = InboundCallback.objects.get(event_id="EV_ghost")
    assert (row.status, row.flag_reason) == ("flagged", "unknown checkout session")


def test_bulk_payload_is_applied_in_chunks(side, live_server, accounts) -> None:  # type: ignore[no-untyped-def]
    sessions = [CheckoutSession.objects.get(public_id=create_session(side, "wave", f"c-{i}")["id"]) for i in range(3)]
    payload = [wave_event(s, "checkout.session.completed", f"EV_bulk_{i}") for i, s in enumerate(sessions)]
    payload += [
        {"id": f"EV_other_{i}", "type": "merchant.payment_received", "data": {"id": f"x{i}"}} for i in range(447)
    ]
    assert send_wave(live_server, accounts, payload) == 200
    rows = list(InboundCallback.objects.exclude(delivery=None).order_by("pk").values_list("pk", flat=True))
    assert len(rows) == 450
    chunks = [rows[i : i + 200] for i in range(0, 450, 200)]
    assert [callback_apply(chunk) for chunk in chunks] == [200, 200, 50]
    assert set(Transaction.objects.filter(kind="collection").values_list("status", flat=True)) == {"succeeded"}


def test_orange_money_cash_in_notifications_late_and_twice_apply_once(side, live_server) -> None:  # type: ignore[no-untyped-def]
    answer = side.client.post(
        "/api/v1/mobile-money/cash-ins", json=cash_in_body("orange_money", "9905"), idempotency_key="k"
    )
    cash_in = CashIn.objects.get(transaction__public_id=answer.body["id"])
    cash_in_process(cash_in.pk)
    statuses = deliver_sandbox_callbacks(live_server.url, "orange_money")
    assert statuses == [200, 200]  # the same notification twice
    assert InboundCallback.objects.exclude(delivery=None).count() == 1
    apply_all()
    row = InboundCallback.objects.exclude(delivery=None).get()
    assert (row.status, row.transaction_public_id) == ("applied", cash_in.transaction.public_id)
    txn = Transaction.objects.get(pk=cash_in.transaction_id)
    assert txn.status == "succeeded" and txn.events.filter(to_status="succeeded").count() == 1


def test_search_returns_only_this_partners_matching_sessions(side, live_server) -> None:  # type: ignore[no-untyped-def]
    mine = [create_session(side, "wave", "cart-42", key=f"k{i}", amount=f"{2500 + i}")["id"] for i in range(3)]
    create_session(side, "orange_money", "cart-43")
    other = make_partner(live_server.url, "Other Shop", scopes=["mobile_money.checkout"])
    create_session(other, "wave", "cart-42")
    status, _, page = side.client.get(PATH, params={"client_reference": "cart-42", "limit": 2})
    assert status == 200 and [s["id"] for s in page["data"]] == mine[::-1][:2] and page["has_more"]
    status, _, rest = side.client.get(
        PATH, params={"client_reference": "cart-42", "limit": 2, "cursor": page["next_cursor"]}
    )
    assert [s["id"] for s in rest["data"]] == [mine[0]] and not rest["has_more"]
    _, _, by_provider = side.client.get(PATH, params={"provider": "orange_money", "status": "open"})
    assert [s["client_reference"] for s in by_provider["data"]] == ["cart-43"]
    assert side.client.get(PATH, params={"status": "nope"}).status == 400
    assert side.client.get(PATH, params={"limit": 101}).status == 400
    assert side.client.get(PATH, params={"created_after": "yesterday"}).status == 400


def test_expire_and_refund(side, live_server) -> None:  # type: ignore[no-untyped-def]
    open_one = create_session(side, "wave", "to-expire")
    t0 = int(time.time())
    answer = side.client.request("POST", f"{PATH}/{open_one['id']}/expire", t=t0)
    assert answer.status == 200 and answer.body["status"] == "expired"
    assert answer.body["transaction"]["status"] == "expired"
    again = side.client.request("POST", f"{PATH}/{open_one['id']}/expire", t=t0 - 7)
    assert again.status == 422

    paid = create_session(side, "wave", "to-refund")
    side.client.post(f"/api/v1/test-helpers/checkout-sessions/{paid['id']}/pay", json={"payer_msisdn": "+221770001234"})
    deliver_sandbox_callbacks(live_server.url, "wave")
    apply_all()
    balance, held = side.money()
    t1 = int(time.time())
    answer = side.client.request("POST", f"{PATH}/{paid['id']}/refund", idempotency_key="refund-1", t=t1)
    assert answer.status == 202 and answer.body["refund"]["status"] == "pending"
    assert side.money() == (balance, held + 2500)
    checkout_refund_process(CheckoutSession.objects.get(public_id=paid["id"]).pk)
    assert side.money() == (balance - 2500, held)
    again = side.client.request("POST", f"{PATH}/{paid['id']}/refund", idempotency_key="refund-2", t=t1 - 7)
    assert again.status == 422
    assert ledger_check().is_ok


def test_test_helper_is_refused_to_live_keys(side, live_server) -> None:  # type: ignore[no-untyped-def]
    from clients.python.addon_partner_client import AddonPartnerClient
    from partners.services import api_credential_issue, signing_secret_rotate

    session = create_session(side, "wave")
    live_key = api_credential_issue(partner=side.partner, mode="live")
    live_secret = signing_secret_rotate(partner=side.partner, mode="live")
    live = AddonPartnerClient(live_server.url, live_key.api_key, live_secret.secret)
    answer = live.post(
        f"/api/v1/test-helpers/checkout-sessions/{session['id']}/pay", json={"payer_msisdn": "+221770001234"}
    )
    assert answer.status in (403, 404)


def test_sweeper_reconciles_a_missed_callback_and_a_provider_side_expiry(side) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from mobilemoney.services.checkout import checkout_sessions_due, checkout_sync

    balance, held = side.money()
    paid = CheckoutSession.objects.get(public_id=create_session(side, "wave", "missed")["id"])
    side.client.post(
        f"/api/v1/test-helpers/checkout-sessions/{paid.public_id}/pay", json={"payer_msisdn": "+221770001234"}
    )
    lapsed = CheckoutSession.objects.get(public_id=create_session(side, "wave", "lapsed", amount="2600")["id"])
    with connector_session_for(provider_code="wave", mode="test") as connector:
        connector.checkout_expire(lapsed.provider_session_id)  # closed at the provider, not by us
    CheckoutSession.objects.update(expires_at=timezone.now())
    assert sorted(checkout_sessions_due()) == sorted([paid.pk, lapsed.pk])
    for session in CheckoutSession.objects.select_related("transaction"):
        checkout_sync(session)  # no callback was delivered: the sweeper asks the provider
    assert Transaction.objects.get(pk=paid.transaction_id).status == "succeeded"
    assert Transaction.objects.get(pk=lapsed.transaction_id).status == "expired"
    assert side.money() == (balance + 2500, held) and checkout_sessions_due() == []
    assert ledger_check().is_ok


def test_a_refund_whose_answer_was_lost_is_resolved_by_the_sweeper(side, live_server) -> None:  # type: ignore[no-untyped-def]
    from mobilemoney.services.checkout import checkout_sessions_due, checkout_sync

    paid = create_session(side, "wave", "lost-refund")
    side.client.post(f"/api/v1/test-helpers/checkout-sessions/{paid['id']}/pay", json={"payer_msisdn": "+221770001234"})
    deliver_sandbox_callbacks(live_server.url, "wave")
    apply_all()
    balance, held = side.money()
    side.client.post(f"{PATH}/{paid['id']}/refund", idempotency_key="refund-lost")
    session = CheckoutSession.objects.select_related("refund_transaction").get(public_id=paid["id"])
    refund = session.refund_transaction
    assert refund is not None
    transaction_transition(transaction=refund, to_status="processing", cause="worker")
    with connector_session_for(provider_code="wave", mode="test") as connector:
        connector.checkout_refund(session.provider_session_id)  # refunded at Wave...
    transaction_transition(transaction=refund, to_status="unknown", cause="worker")  # ...never read
    assert session.pk in checkout_sessions_due()
    checkout_sync(CheckoutSession.objects.select_related("transaction", "refund_transaction").get(pk=session.pk))
    assert Transaction.objects.get(pk=refund.pk).status == "succeeded"
    assert CheckoutSession.objects.get(pk=session.pk).payment_status == "refunded"
    assert side.money() == (balance - 2500, held)
    assert ledger_check().is_ok
