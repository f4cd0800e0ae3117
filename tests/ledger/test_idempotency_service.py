"""Idempotency service: claims, replays, 409 while in progress, 422 on reuse, scoping, purge."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, connections
from django.db import transaction as db_transaction
from django.utils import timezone

from core.errors import ErrorCode, GatewayError
from ledger.models import IdempotencyRecord
from ledger.services import (
    idempotency_abandon,
    idempotency_begin,
    idempotency_complete,
    idempotency_fingerprint,
    idempotency_purge_expired,
)
from ledger.tasks import purge_idempotency_records
from partners.models import Mode, Partner
from tests.ledger.conftest import make_partner

BODY = b'{"amount": "1500", "currency": "XOF"}'
FP = idempotency_fingerprint(method="POST", path="/api/v1/mobile-money/cash-ins", body=BODY)


def begin(partner: Partner, key: str = "key-1", fingerprint: str = FP, mode: str = Mode.TEST):  # type: ignore[no-untyped-def]
    return idempotency_begin(partner=partner, mode=mode, key=key, fingerprint=fingerprint)


def test_fingerprint_covers_method_path_and_raw_bytes() -> None:
    assert len(FP) == 64
    variants = [
        ("PUT", "/api/v1/mobile-money/cash-ins", BODY),
        ("POST", "/api/v1/mobile-money/cash-ins?x=1", BODY),
        ("POST", "/api/v1/mobile-money/cash-ins", BODY + b" "),  # same JSON, other bytes
    ]
    assert all(idempotency_fingerprint(method=m, path=p, body=b) != FP for m, p, b in variants)
    assert idempotency_fingerprint(method="post", path="/api/v1/mobile-money/cash-ins", body=BODY) == FP


def test_a_new_key_is_claimed_in_progress_for_at_least_24_hours(partner: Partner) -> None:
    result = begin(partner)
    assert result.is_new and not result.is_replay
    record = IdempotencyRecord.objects.get()
    assert (record.partner_id, record.mode, record.key, record.fingerprint, record.state) == (
        partner.pk,
        "test",
        "key-1",
        FP,
        "in_progress",
    )
    assert record.expires_at - record.created_at >= timedelta(hours=24)


def test_same_key_same_request_replays_identical_bytes(partner: Partner) -> None:
    body = b'{"id":"txn_01","status":"pending","amount":"1500"}\n\x00\xff'
    record = begin(partner).record
    idempotency_complete(
        record=record,
        status=202,
        headers={"Content-Type": "application/json", "Location": "/x", "X-Request-ID": "r1", "Date": "d"},
        body=body,
    )

    replay = begin(partner)

    assert replay.is_replay and replay.record.pk == record.pk
    assert bytes(replay.record.response_body) == body
    assert replay.record.response_status == 202
    assert replay.record.response_headers == {"Content-Type": "application/json", "Location": "/x"}
    assert IdempotencyRecord.objects.count() == 1


def test_same_key_different_request_is_422_reused(partner: Partner) -> None:
    record = begin(partner).record
    idempotency_complete(record=record, status=202, headers={}, body=b"{}")
    other = idempotency_fingerprint(method="POST", path="/api/v1/mobile-money/cash-ins", body=b'{"amount":"2"}')

    with pytest.raises(GatewayError) as caught:
        begin(partner, fingerprint=other)

    assert (caught.value.status, caught.value.code) == (422, ErrorCode.IDEMPOTENCY_KEY_REUSED)
    assert IdempotencyRecord.objects.get().fingerprint == FP


def test_different_request_while_in_progress_is_also_422(partner: Partner) -> None:
    begin(partner)
    with pytest.raises(GatewayError) as caught:
        begin(partner, fingerprint="0" * 64)
    assert caught.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED


def test_same_request_while_the_first_is_in_progress_is_409_in_use(partner: Partner) -> None:
    begin(partner)
    with pytest.raises(GatewayError) as caught:
        begin(partner)
    assert (caught.value.status, caught.value.code) == (409, ErrorCode.IDEMPOTENCY_KEY_IN_USE)
    assert caught.value.headers == {"Retry-After": "1"}
    assert IdempotencyRecord.objects.get().state == "in_progress"


def test_keys_are_scoped_to_partner_and_mode(partner: Partner, other_partner: Partner) -> None:
    claims = [
        begin(partner, mode=Mode.TEST),
        begin(partner, mode=Mode.LIVE),
        begin(other_partner, mode=Mode.TEST),
        begin(other_partner, mode=Mode.LIVE),
    ]
    assert all(claim.is_new for claim in claims)
    assert IdempotencyRecord.objects.filter(key="key-1").count() == 4


def test_the_database_refuses_a_duplicate_claim(partner: Partner) -> None:
    begin(partner)
    now = timezone.now()
    with pytest.raises(IntegrityError), db_transaction.atomic():
        IdempotencyRecord.objects.create(
            partner=partner, mode="test", key="key-1", fingerprint=FP, created_at=now, expires_at=now
        )


def test_abandon_frees_the_key_for_a_retry(partner: Partner) -> None:
    record = begin(partner).record
    idempotency_abandon(record=record)
    assert not IdempotencyRecord.objects.exists()
    assert begin(partner).is_new


def test_abandon_never_deletes_a_completed_response(partner: Partner) -> None:
    record = begin(partner).record
    idempotency_complete(record=record, status=202, headers={}, body=b"{}")
    idempotency_abandon(record=record)
    assert begin(partner).is_replay


@pytest.mark.parametrize("key", ["k", "a" * 255, "order-2024/11:01_#1", "with inner space", "~!@#$%^&*()"])
def test_valid_keys(partner: Partner, key: str) -> None:
    assert begin(partner, key=key).is_new


@pytest.mark.parametrize(
    ("key", "code"),
    [
        (None, ErrorCode.IDEMPOTENCY_KEY_MISSING),
        ("", ErrorCode.IDEMPOTENCY_KEY_MISSING),
        ("a" * 256, ErrorCode.IDEMPOTENCY_KEY_INVALID),
        ("clé", ErrorCode.IDEMPOTENCY_KEY_INVALID),
        ("tab\there", ErrorCode.IDEMPOTENCY_KEY_INVALID),
        ("new\nline", ErrorCode.IDEMPOTENCY_KEY_INVALID),
        (" leading", ErrorCode.IDEMPOTENCY_KEY_INVALID),
        ("trailing ", ErrorCode.IDEMPOTENCY_KEY_INVALID),
    ],
)
def test_invalid_keys_are_400(partner: Partner, key: str | None, code: ErrorCode) -> None:
    with pytest.raises(GatewayError) as caught:
        begin(partner, key=key)  # type: ignore[arg-type]
    assert (caught.value.status, caught.value.code) == (400, code)
    assert not IdempotencyRecord.objects.exists()


def test_an_expired_record_not_yet_purged_is_free_again(partner: Partner) -> None:
    record = begin(partner).record
    idempotency_complete(record=record, status=202, headers={}, body=b"old")
    IdempotencyRecord.objects.filter(pk=record.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    again = begin(partner, fingerprint="f" * 64)

    assert again.is_new and again.record.pk == record.pk
    assert (again.record.state, again.record.fingerprint, again.record.response_body) == ("in_progress", "f" * 64, None)


def test_purge_deletes_expired_records_only(partner: Partner) -> None:
    now = timezone.now()
    for key, age in [("old-1", 25), ("old-2", 48), ("fresh", 1)]:
        record = begin(partner, key=key).record
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            created_at=now - timedelta(hours=age), expires_at=now - timedelta(hours=age) + timedelta(hours=24)
        )

    assert idempotency_purge_expired(now=now) == 2
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
    assert idempotency_purge_expired(now=now) == 0


def test_the_beat_task_purges(partner: Partner) -> None:
    record = begin(partner, key="old").record
    IdempotencyRecord.objects.filter(pk=record.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    begin(partner, key="fresh")

    assert purge_idempotency_records.apply().get() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]


def test_the_claim_refuses_to_hide_inside_another_transaction(partner: Partner) -> None:
    """The claim must commit on its own; nested in a caller's transaction it would be invisible."""
    assert connection.in_atomic_block  # the test's own transaction (django TestCase)
    with pytest.raises(RuntimeError, match="durable"), db_transaction.atomic():
        begin(partner)


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_one_claims_the_others_get_409() -> None:
    partner = make_partner()
    threads_count = 12
    barrier = threading.Barrier(threads_count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            barrier.wait()
            try:
                result = begin(partner, key="race")
                outcome = "new" if result.is_new else "replay"
            except GatewayError as exc:
                outcome = str(exc.code)
            with lock:
                outcomes.append(outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["idempotency_key_in_use"] * (threads_count - 1) + ["new"]
    assert IdempotencyRecord.objects.filter(key="race").count() == 1
