"""What one provider callback costs the database with the production caches on (P7,
docs/performance.md): the delivery stored raw first, then ONE statement that marks it verified
and writes its events not stored yet; the enabled connections come from the process's short cache.
A duplicate delivery is stored and verified but writes no event and enqueues nothing.
"""

from __future__ import annotations

import json
import time

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.common import WAVE_WEBHOOK_SECRET, seed
from core.short_cache import short_caches_clear
from mobilemoney.models import CallbackStatus, InboundCallback
from sandbox.wave.events import signature_header

pytestmark = pytest.mark.django_db(transaction=True)

EXPECTED = [
    "INSERT INTO mobilemoney_inboundcallback",  # the delivery, raw, before it is verified
    "WITH updated AS",  # verified, and its new events written, in one statement (core/db.py insert_new)
]


@pytest.fixture
def caches_on(settings):  # type: ignore[no-untyped-def]
    settings.CONFIGURATION_CACHE_SECONDS = 2
    short_caches_clear()
    yield
    short_caches_clear()


def _deliver(client: Client, event_id: str) -> int:
    event = {"id": event_id, "type": "checkout.session.completed",
             "data": {"id": f"cos-{event_id}", "amount": "1500", "currency": "XOF", "checkout_status": "complete",
                      "payment_status": "succeeded", "client_reference": f"ref-{event_id}"}}  # fmt: skip
    body = json.dumps(event, separators=(",", ":")).encode()
    answer = client.post(
        "/callbacks/wave",
        body,
        content_type="application/json",
        headers={"Wave-Signature": signature_header(WAVE_WEBHOOK_SECRET, body)},
    )
    return answer.status_code


def _queued() -> int:
    return int(redis.Redis.from_url(settings.CELERY_BROKER_URL).llen("callbacks"))


def _first_words(sql: str) -> str:
    return " ".join(sql.replace('"', "").split()[:3])


def test_a_callback_is_two_statements_and_a_duplicate_writes_no_event(caches_on) -> None:  # type: ignore[no-untyped-def]
    seed("http://127.0.0.1:9")  # the Wave connection and its webhook secret; no call goes out
    client = Client()
    tag = f"EV_stmt{time.time_ns()}"
    assert _deliver(client, f"{tag}-warm") == 200  # the process reads the enabled connections once
    queued = _queued()

    with CaptureQueriesContext(connection) as captured:
        assert _deliver(client, tag) == 200
    assert [_first_words(q["sql"]) for q in captured.captured_queries] == EXPECTED
    event = InboundCallback.objects.get(event_id=tag)
    assert event.status == CallbackStatus.RECEIVED and event.mode == "test"
    assert event.delivery is not None and event.delivery.status == CallbackStatus.VERIFIED
    assert event.delivery.mode == "test" and bytes(event.delivery.raw_body).startswith(b'{"id":')
    assert _queued() == queued + 1  # its apply task

    with CaptureQueriesContext(connection) as captured:
        assert _deliver(client, tag) == 200  # delivered again
    assert [_first_words(q["sql"]) for q in captured.captured_queries] == EXPECTED
    assert InboundCallback.objects.filter(event_id=tag).count() == 1
    deliveries = InboundCallback.objects.filter(delivery__isnull=True, status=CallbackStatus.VERIFIED)
    assert deliveries.count() == 3  # warm, first, again: every delivery kept
    assert _queued() == queued + 1  # nothing new to apply


def test_a_forged_callback_is_kept_rejected_and_writes_no_event(caches_on) -> None:  # type: ignore[no-untyped-def]
    seed("http://127.0.0.1:9")
    client = Client()
    body = b'{"id":"EV_forged","type":"checkout.session.completed","data":{}}'
    answer = client.post("/callbacks/wave", body, content_type="application/json",
                         headers={"Wave-Signature": signature_header("wave_sn_WHS_not-the-secret", body)})  # fmt: skip
    assert answer.status_code == 401
    (delivery,) = InboundCallback.objects.all()
    assert delivery.status == CallbackStatus.REJECTED and bytes(delivery.raw_body) == body
    assert _queued() == 0
