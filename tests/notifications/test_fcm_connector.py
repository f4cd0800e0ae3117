"""The FCM connector: the real firebase-admin SDK against the sandbox FCM over real HTTP.

What FCM received is read back from the sandbox's records (SimObject kind ``fcm_message``).
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import pytest

from core.errors import ValidationFailed
from notifications.providers.base import (
    AndroidOptions,
    ApnsOptions,
    PushErrorCode,
    PushMessage,
    PushProvider,
    PushTargets,
    TargetResult,
)
from tests.notifications.fcm_support import SANDBOX_PROJECT, attempts_for, delivered, delivered_to, requests_received

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = PushMessage(title="Paiement reçu", body="Vous avez reçu 1 500 XOF", data={"transaction": "txn_01"})


def message_name(record_id: str) -> str:
    return f"projects/{SANDBOX_PROJECT}/messages/{record_id}"


def test_three_tokens_one_unregistered_gives_two_deliveries_and_one_dead_token(fcm: PushProvider) -> None:
    tokens = ["tok-alice-1", "tok-unregistered-bob-2", "tok-carol-3"]

    results = fcm.send(HELLO, PushTargets.to_tokens(tokens))

    assert [result.target for result in results] == tokens
    assert [result.is_delivered for result in results] == [True, False, True]
    dead = results[1]
    assert (dead.error_code, dead.dead_token, dead.retryable, dead.message_id) == (
        PushErrorCode.UNREGISTERED,
        True,
        False,
        None,
    )
    records = delivered()
    assert sorted(record["target"] for record in records) == ["tok-alice-1", "tok-carol-3"]
    for record in records:
        assert record["message"]["notification"] == {"title": "Paiement reçu", "body": "Vous avez reçu 1 500 XOF"}
        assert record["message"]["data"] == {"transaction": "txn_01"}
    ids = {record["target"]: record for record in records}
    assert results[0].message_id is not None and results[0].message_id.startswith(
        f"projects/{SANDBOX_PROJECT}/messages/0:"
    )
    assert delivered_to("tok-unregistered-bob-2") == []
    assert len(ids) == 2


def test_message_ids_are_the_names_fcm_answered(fcm: PushProvider) -> None:
    from sandbox.models import SimObject

    [result] = fcm.send(HELLO, PushTargets.to_tokens(["tok-dave"]))

    row = SimObject.objects.get(provider="fcm", kind="fcm_message", reference="tok-dave")
    assert result == TargetResult(target="tok-dave", message_id=message_name(row.object_id), error_code=None)


@pytest.mark.parametrize(
    ("marker", "code"),
    [("unavailable", PushErrorCode.UNAVAILABLE), ("internal", PushErrorCode.INTERNAL)],
)
def test_a_transient_error_is_retryable_and_the_next_send_succeeds(
    fcm: PushProvider, marker: str, code: PushErrorCode
) -> None:
    token = f"tok-{marker}-erin"

    [first] = fcm.send(HELLO, PushTargets.to_tokens([token]))

    # the SDK's own retry of 500/503 (4 times with backoff) is off: exactly one request
    assert attempts_for(token) == 1
    assert (first.error_code, first.retryable, first.dead_token, first.message_id) == (code, True, False, None)
    assert delivered_to(token) == []

    [second] = fcm.send(HELLO, PushTargets.to_tokens([token]))

    assert second.is_delivered and second.error_code is None
    assert attempts_for(token) == 2
    assert len(delivered_to(token)) == 1


@pytest.mark.parametrize(
    ("token", "code", "dead", "retryable", "retry_after"),
    [
        ("tok-invalid-frank", PushErrorCode.INVALID_ARGUMENT, True, False, None),
        ("tok-mismatch-gina", PushErrorCode.SENDER_ID_MISMATCH, True, False, None),
        ("tok-quota-hugo", PushErrorCode.QUOTA_EXCEEDED, False, True, 30.0),
        ("tok-thirdpartyauth-ines", PushErrorCode.THIRD_PARTY_AUTH_ERROR, False, False, None),
    ],
)
def test_fcm_error_codes_map_to_dead_and_retryable_flags(
    fcm: PushProvider, token: str, code: PushErrorCode, dead: bool, retryable: bool, retry_after: float | None
) -> None:
    [result] = fcm.send(HELLO, PushTargets.to_tokens([token]))

    assert (result.error_code, result.dead_token, result.retryable, result.retry_after_seconds) == (
        code,
        dead,
        retryable,
        retry_after,
    )
    assert result.message_id is None
    assert delivered() == []


def test_an_oversized_payload_is_refused_before_anything_is_sent(fcm: PushProvider) -> None:
    big = PushMessage(title="Relevé", data={"statement": "x" * 4100})  # 5 + 7 (é is 2 bytes) + 9 + 4100

    with pytest.raises(ValidationFailed) as caught:
        fcm.send(big, PushTargets.to_tokens(["tok-jade", "tok-karim"]))

    assert [error.field for error in caught.value.errors] == ["payload"]
    assert caught.value.errors[0].message == "The device message payload is 4121 bytes; the limit is 4096."
    assert requests_received() == 0
    assert delivered() == []


def test_a_reserved_data_key_is_refused_before_anything_is_sent(fcm: PushProvider) -> None:
    message = PushMessage(title="Bonjour", data={"from": "bank", "google.sent_time": "1", "amount": "1500"})

    with pytest.raises(ValidationFailed) as caught:
        fcm.send(message, PushTargets.to_topic("news"))

    assert [error.field for error in caught.value.errors] == ["data.from", "data.google.sent_time"]
    assert requests_received() == 0
    assert delivered() == []


def test_a_topic_message_reaches_the_topic(fcm: PushProvider) -> None:
    [result] = fcm.send(HELLO, PushTargets.to_topic("/topics/promotions-sn"))

    assert result.target == "/topics/promotions-sn" and result.is_delivered
    [record] = delivered()
    assert (record["target_kind"], record["target"]) == ("topic", "promotions-sn")  # the SDK strips /topics/
    assert result.message_id is not None and result.message_id.startswith(f"projects/{SANDBOX_PROJECT}/messages/")


def test_a_condition_message_reaches_the_condition(fcm: PushProvider) -> None:
    condition = "'promotions' in topics && ('dakar' in topics || 'thies' in topics)"

    [result] = fcm.send(HELLO, PushTargets.to_condition(condition))

    assert result.target == condition and result.is_delivered
    [record] = delivered()
    assert (record["target_kind"], record["target"]) == ("condition", condition)
    assert "token" not in record["message"] and "topic" not in record["message"]


def test_a_topic_error_is_a_result_without_a_dead_token(fcm: PushProvider) -> None:
    [result] = fcm.send(HELLO, PushTargets.to_topic("quota-topic"))

    assert (result.error_code, result.retryable, result.dead_token) == (PushErrorCode.QUOTA_EXCEEDED, True, False)


def test_data_android_and_apns_options_arrive_as_the_sdk_encodes_them(fcm: PushProvider) -> None:
    message = PushMessage(
        title="Solde",
        body="Votre solde est de 25 000 XOF",
        data={"kind": "balance", "account": "acc_7"},
        android=AndroidOptions(
            priority="high", ttl_seconds=3600, collapse_key="balance", channel_id="transactions", color="#00aa55"
        ),
        apns=ApnsOptions(badge=3, sound="default", thread_id="balances", priority=10, collapse_id="balance"),
    )

    [result] = fcm.send(message, PushTargets.to_tokens(["tok-lamine"]))

    assert result.is_delivered
    [record] = delivered()
    assert record["message"] == {
        "token": "tok-lamine",
        "notification": {"title": "Solde", "body": "Votre solde est de 25 000 XOF"},
        "data": {"kind": "balance", "account": "acc_7"},
        "android": {
            "collapse_key": "balance",
            "priority": "high",
            "ttl": "3600s",
            "notification": {"channel_id": "transactions", "color": "#00aa55"},
        },
        "apns": {
            "headers": {"apns-priority": "10", "apns-collapse-id": "balance"},
            "payload": {"aps": {"badge": 3, "sound": "default", "thread-id": "balances"}},
        },
    }
    assert record["api_format_version"] == "2"
    assert record["client"].startswith("fire-admin-python/")


def test_sending_to_tokens_raises_no_deprecation_warning(fcm: PushProvider) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        results = fcm.send(HELLO, PushTargets.to_tokens(["tok-mariama", "tok-ndeye"]))

    assert [result.is_delivered for result in results] == [True, True]


def test_dry_run_validates_without_delivering(fcm: PushProvider) -> None:
    results = fcm.send(HELLO, PushTargets.to_tokens(["tok-omar", "tok-unregistered-pape"]), dry_run=True)

    assert results[0].message_id == message_name("fake_message_id")
    assert results[1].error_code is PushErrorCode.UNREGISTERED and results[1].dead_token
    assert delivered() == []
    assert requests_received() == 2


def test_a_lost_answer_is_a_retryable_deadline_and_the_push_may_have_been_delivered(
    fcm: PushProvider, settings: Any
) -> None:
    settings.SANDBOX_HANG_SECONDS = 2.0

    [result] = fcm.send(HELLO, PushTargets.to_tokens(["tok-timeout-rama"]))

    # the read timed out (1.5 s) and was not retried: one attempt below
    assert (result.error_code, result.retryable, result.dead_token) == (PushErrorCode.DEADLINE_EXCEEDED, True, False)
    assert attempts_for("tok-timeout-rama") == 1
    assert len(delivered_to("tok-timeout-rama")) == 1  # FCM did deliver: the outcome was only unknown to us
    time.sleep(0.6)  # let the stalled simulator request finish before the database is flushed


def test_tokens_are_sent_in_chunks_and_results_stay_in_order(live_server, transactional_db) -> None:  # type: ignore[no-untyped-def]
    from partners.registry import get_connector_class
    from tests.notifications.fcm_support import sandbox_fcm_settings

    settings = sandbox_fcm_settings(live_server.url + "/sandbox/", limits={"max_parallel_requests": 2})
    tokens = ["tok-a", "tok-unregistered-b", "tok-c", "tok-invalid-d", "tok-e"]

    results = get_connector_class("fcm")(settings).send(HELLO, PushTargets.to_tokens(tokens))

    assert [result.target for result in results] == tokens
    assert [result.error_code for result in results] == [
        None,
        PushErrorCode.UNREGISTERED,
        None,
        PushErrorCode.INVALID_ARGUMENT,
        None,
    ]
    assert sorted(record["target"] for record in delivered()) == ["tok-a", "tok-c", "tok-e"]


def test_an_access_token_the_sandbox_does_not_know_is_refused_for_every_target(live_server, transactional_db) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from partners.registry import get_connector_class
    from tests.notifications.fcm_support import sandbox_fcm_settings

    settings = sandbox_fcm_settings(live_server.url + "/sandbox/")
    stranger = replace(settings, credentials={"project_id": SANDBOX_PROJECT, "access_token": "ya29.unknown"})

    results = get_connector_class("fcm")(stranger).send(HELLO, PushTargets.to_tokens(["tok-sara", "tok-tidiane"]))

    assert [(r.error_code, r.retryable, r.dead_token) for r in results] == [
        (PushErrorCode.UNAUTHENTICATED, False, False)
    ] * 2
    assert delivered() == []
