"""Faults between the gateway and a provider (issue 17, item 3): the Wave connection goes through
tests/faults/proxy.py to the sandbox over real HTTP. Whatever the line does to the payout call —
the answer lost after the provider acted, the connection cut before the request, reset in the
middle of the answer, an answer slower than our read timeout — the cash-in ends paid exactly
once or not at all, never twice, with the partner's hold captured or released exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from ledger.models import Transaction
from mobilemoney.models import CashIn
from mobilemoney.services.cash_ins import cash_in_process, cash_in_resolve
from partners.models import Partner
from partners.services import provider_connection_upsert
from tests.faults.proxy import Fault, FaultProxy
from tests.mobilemoney.api_support import connect_providers, make_partner, paid_count
from tests.mobilemoney.test_service_cash_in_poller import accept

pytestmark = pytest.mark.django_db(transaction=True)
READ_TIMEOUT = 1.0


@pytest.fixture
def proxied(live_server, settings) -> Iterator[FaultProxy]:  # type: ignore[no-untyped-def]
    """Wave's test connection reaches the sandbox through the fault proxy."""
    settings.SANDBOX_HANG_SECONDS = 2
    connect_providers(live_server.url, read_timeout=READ_TIMEOUT)
    server = urlsplit(live_server.url)
    with FaultProxy(server.hostname or "127.0.0.1", int(server.port or 80)) as proxy:
        provider_connection_upsert(
            partner=Partner.objects.get(code="wave"),
            mode="test",
            connector="wave",
            base_url=f"http://{proxy.address}/sandbox/wave/",
        )
        yield proxy


FAULTS = [
    ("the answer is lost after the provider acted", Fault.DROP_AFTER_REQUEST, {}),
    ("the line is cut before the request", Fault.DROP_BEFORE_REQUEST, {}),
    ("the answer is reset half-way", Fault.RESET_MID_RESPONSE, {"response_bytes": 12}),
    ("the answer comes after our read timeout", Fault.LATENCY, {"latency": READ_TIMEOUT + 0.5}),
]


@pytest.mark.parametrize(("story", "fault", "options"), FAULTS, ids=[f.value for _, f, _ in FAULTS])
def test_a_payout_call_hit_by_a_fault_pays_once_or_not_at_all(
    live_server, proxied: FaultProxy, story: str, fault: Fault, options: dict[str, float]
) -> None:  # type: ignore[no-untyped-def]
    side = make_partner(live_server.url)
    balance, held = side.money()
    cash_in = accept(side, "wave", "1234")
    amount = 1500
    assert side.money() == (balance, held + amount)

    proxied.plan(fault, **options)  # type: ignore[arg-type]
    cash_in_process(cash_in.pk)
    assert proxied.faults_injected == 1, f"{story}: the fault did not happen"
    txn = Transaction.objects.get(pk=cash_in.transaction_id)
    reference = txn.public_id
    if fault is Fault.DROP_BEFORE_REQUEST:
        assert paid_count("wave", reference) == 0 and txn.status != "succeeded"
    else:
        assert txn.status == "unknown", f"{story}: {txn.status} (a lost answer is unknown, never failed)"

    # the line is healthy again: the poller (or the worker's retry) settles it by asking Wave
    for _ in range(3):
        txn.refresh_from_db()
        if txn.status in ("succeeded", "failed"):
            break
        CashIn.objects.filter(pk=cash_in.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
        if txn.status == "pending":
            cash_in_process(cash_in.pk)
        else:
            cash_in_resolve(cash_in.pk)
    txn.refresh_from_db()
    paid = paid_count("wave", reference)
    assert paid <= 1, f"{story}: paid {paid} times"
    if txn.status == "succeeded":
        assert paid == 1 and side.money() == (balance - amount, held)
    else:
        assert (txn.status, paid, side.money()) == ("failed", 0, (balance, held)), story
    assert txn.events.filter(to_status=txn.status).count() == 1
