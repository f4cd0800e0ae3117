"""Provider call records (core/provider_calls.py, stored by the ledger): one row per attempt,
written before the call and completed after it, with the outcome the typed errors stand for —
against a real local HTTP server through the real provider client."""

from __future__ import annotations

import pytest

from core.errors import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from core.http import ProviderHttpClient, Timeouts
from core.provider_calls import CallOutcome, call_scope, current_scope, provider_call
from ledger.models import ProviderCall
from tests.core.test_provider_http import Handler, server  # noqa: F401 - the module's HTTP server fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(server: str) -> ProviderHttpClient:  # noqa: F811
    return ProviderHttpClient(provider="testprov", base_url=server, timeouts=Timeouts(connect=1, read=0.5))


def _call(client: ProviderHttpClient, path: str, **kwargs: object) -> None:
    with call_scope(rail="bills", provider="testprov", mode="live", reference="txn_REF"):
        client.request("POST", path, operation="pay", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "moves_money", "error", "outcome", "http_status", "retryable"),
    [
        ("/ok", True, None, CallOutcome.OK, 200, None),
        ("/rejected", True, ProviderRejected, CallOutcome.REJECTED, 422, False),
        ("/error-500", True, ProviderOutcomeUnknown, CallOutcome.UNKNOWN, 500, True),
        ("/error-500", False, ProviderUnavailable, CallOutcome.UNAVAILABLE, 500, True),
        ("/throttled", True, ProviderUnavailable, CallOutcome.UNAVAILABLE, 429, True),
        ("/slow", True, ProviderOutcomeUnknown, CallOutcome.UNKNOWN, None, True),  # the read timeout
        ("/drop", True, ProviderOutcomeUnknown, CallOutcome.UNKNOWN, None, True),  # connection lost
    ],
)
def test_each_attempt_leaves_one_completed_row_with_its_outcome(  # type: ignore[no-untyped-def]
    client, path, moves_money, error, outcome, http_status, retryable
) -> None:
    if error is None:
        _call(client, path, moves_money=moves_money)
    else:
        with pytest.raises(error):
            _call(client, path, moves_money=moves_money)
    row = ProviderCall.objects.get()
    assert (row.rail, row.provider, row.mode, row.operation, row.reference) == (
        "bills",
        "testprov",
        "live",
        "pay",
        "txn_REF",
    )
    assert (row.outcome, row.http_status, row.retryable) == (outcome, http_status, retryable)
    assert row.completed_at is not None and row.completed_at >= row.started_at and row.latency_ms is not None


def test_an_unreachable_provider_is_unavailable() -> None:
    unreachable = ProviderHttpClient(provider="down", base_url="http://127.0.0.1:9", timeouts=Timeouts(1, 1))
    with pytest.raises(ProviderUnavailable):
        _call(unreachable, "/ok")
    assert ProviderCall.objects.get().outcome == CallOutcome.UNAVAILABLE


def test_a_4xx_read_by_the_connector_itself_is_recorded_as_rejected(client: ProviderHttpClient) -> None:
    with call_scope(rail="mobile_money", provider="testprov", mode="test"):
        response = client.request("POST", "/rejected", operation="status", raise_for_status=False)
    assert response.status == 422
    row = ProviderCall.objects.get()
    assert (row.outcome, row.error_code, row.http_status) == ("rejected", "http_422", 422)


def test_the_row_exists_while_the_call_is_in_flight(client: ProviderHttpClient) -> None:
    with call_scope(rail="push", provider="fcm", mode="test", reference="ntf_1"), provider_call(operation="send"):
        in_flight = ProviderCall.objects.get()
        assert (in_flight.completed_at, in_flight.outcome, in_flight.reference) == (None, "", "ntf_1")
    assert ProviderCall.objects.get().outcome == CallOutcome.OK


def test_calls_outside_a_scope_are_not_provider_calls(client: ProviderHttpClient) -> None:
    """Partner webhooks and the sandbox's own callbacks use the same client without a scope."""
    assert current_scope() is None
    client.request("POST", "/ok", operation="webhook")
    assert not ProviderCall.objects.exists()


def test_an_unexpected_error_inside_a_call_is_unknown_not_ok() -> None:
    with pytest.raises(ZeroDivisionError), call_scope(rail="push", provider="fcm"), provider_call(operation="send"):
        _ = 1 / 0
    row = ProviderCall.objects.get()
    assert (row.outcome, row.error_code) == ("unknown", "ZeroDivisionError")
