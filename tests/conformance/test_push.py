"""Push rail contract: every push connector against its simulator, over real HTTP.

A push simulator follows the sandbox's push markers (docs/sandbox.md, "Push (FCM)"): a target
containing ``unregistered`` is gone, ``invalid`` is malformed, ``unavailable`` fails once then
delivers; it counts every request in the SimCounter ``requests`` and records each delivery as
a SimObject with status ``delivered`` under its provider name.
"""

from __future__ import annotations

import pytest

from core.errors import ValidationFailed
from notifications.providers.base import PushMessage, PushProvider, PushTargets
from sandbox.models import SimObject
from sandbox.services import counter_value
from tests.conformance.conftest import rail_connectors
from tests.notifications.fcm_support import sandbox_fcm_settings

CONNECTORS = rail_connectors({"fcm": sandbox_fcm_settings})

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGE = PushMessage(title="Paiement reçu", body="1 500 XOF", data={"transaction": "txn_01"})


def delivered_targets(connector_name: str) -> list[str]:
    rows = SimObject.objects.filter(provider=connector_name, status="delivered").order_by("pk")
    return [row.reference for row in rows]


def test_it_is_a_push_provider(connector: PushProvider) -> None:
    assert isinstance(connector, PushProvider)


def test_results_are_per_target_and_in_order(connector: PushProvider, connector_name: str) -> None:
    tokens = ["tok-ok-1", "tok-unregistered-2", "tok-invalid-3", "tok-ok-4"]

    results = connector.send(MESSAGE, PushTargets.to_tokens(tokens))

    assert [r.target for r in results] == tokens
    assert [r.is_delivered for r in results] == [True, False, False, True]
    assert [(r.dead_token, r.retryable) for r in results] == [
        (False, False),
        (True, False),
        (True, False),
        (False, False),
    ]
    assert sorted(delivered_targets(connector_name)) == ["tok-ok-1", "tok-ok-4"]


def test_a_transient_failure_is_retryable_and_a_later_send_delivers_once(
    connector: PushProvider, connector_name: str
) -> None:
    targets = PushTargets.to_tokens(["tok-unavailable-1"])

    [first] = connector.send(MESSAGE, targets)
    [second] = connector.send(MESSAGE, targets)

    assert (first.is_delivered, first.retryable, first.dead_token) == (False, True, False)
    assert second.is_delivered
    assert delivered_targets(connector_name) == ["tok-unavailable-1"]


def test_an_invalid_push_never_reaches_the_provider(connector: PushProvider, connector_name: str) -> None:
    with pytest.raises(ValidationFailed):
        connector.send(PushMessage(title="t", data={"message_type": "x"}), PushTargets.to_tokens(["tok-1"]))
    with pytest.raises(ValidationFailed):
        connector.send(PushMessage(data={"d": "x" * 3000}), PushTargets.to_topic("news"))

    assert counter_value(connector_name, "requests") == 0
    assert delivered_targets(connector_name) == []


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        (PushTargets.to_topic("news-sn"), "news-sn"),
        (PushTargets.to_condition("'news' in topics || 'sn' in topics"), "'news' in topics || 'sn' in topics"),
    ],
)
def test_topic_and_condition_are_single_targets(
    connector: PushProvider, connector_name: str, targets: PushTargets, expected: str
) -> None:
    [result] = connector.send(MESSAGE, targets)

    assert result.is_delivered and result.message_id
    assert delivered_targets(connector_name) == [expected]
