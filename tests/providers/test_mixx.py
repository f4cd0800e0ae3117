"""Issue 15, item 3: Mixx by Yas, a third wallet with its own API, is one connector module, one
simulator package and one registry line. The registry holds it, the conformance suite runs it
(tests/conformance/test_mobilemoney.py parametrises over the installed connectors), and a
cash-in accepted over HTTP is paid by a real Celery worker, its signed callback accepted by the
gateway; a refused one moves no money."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from ledger.models import Transaction
from ledger.selectors import ledger_check
from mobilemoney.providers.generic_wallet import GenericWalletConnector
from mobilemoney.providers.installed import CONNECTOR_MODULES
from partners.registry import get_connector_class, rail_of
from sandbox.models import SimCallback, SimEffect
from sandbox.simulators import simulators
from tests.mobilemoney.api_support import cash_in_body, make_partner
from tests.processes import celery_worker, wait_until
from tests.providers.test_add_provider import post

CASH_INS = "/api/v1/mobile-money/cash-ins"


def test_the_registry_holds_mixx_on_its_simulator() -> None:
    connector = get_connector_class("mixx")

    assert "mobilemoney.providers.mixx" in CONNECTOR_MODULES
    assert connector.__module__ == "mobilemoney.providers.mixx"
    assert rail_of(connector) == "mobile_money"
    assert connector.provider_name == "Mixx by Yas"
    # its own signature, not the generic wallet's: a callback of one is not one of the other
    assert (connector.signature_header, connector.signature_separator) != (
        GenericWalletConnector.signature_header,
        GenericWalletConnector.signature_separator,
    )
    assert simulators()["mixx"].prefix == "mixx/"


@pytest.mark.django_db(transaction=True)
def test_a_mixx_cash_in_is_paid_by_a_real_worker_and_a_refused_one_moves_no_money(live_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    call_command(
        "add_provider",
        *("--code", "mixx", "--name", "Mixx by Yas", "--rail", "mobile_money", "--connector", "mixx"),
        *("--mode", "test", "--sandbox", "--gateway-url", live_server.url),
    )
    side = make_partner(live_server.url)
    balance, held = side.money()

    with celery_worker(tmp_path / "worker.log", queues="payments", concurrency=1):
        paid = side.client.post(CASH_INS, json=cash_in_body("mixx"), idempotency_key="mixx-1")
        refused = side.client.post(CASH_INS, json=cash_in_body("mixx", suffix="9901"), idempotency_key="mixx-2")
        assert (paid.status, refused.status) == (202, 202), (paid.body, refused.body)
        ids = [paid.body["id"], refused.body["id"]]
        final = Transaction.objects.filter(public_id__in=ids, status__in=("succeeded", "failed"))
        wait_until(lambda: final.count() == 2, timeout=60, message="the worker did not settle the cash-ins")

    ok, ko = (Transaction.objects.get(public_id=public_id) for public_id in ids)
    assert (ok.status, ok.provider, ko.status, ko.failure_code) == ("succeeded", "mixx", "failed", "provider_rejected")
    effects = SimEffect.objects.filter(provider="mixx", effect="cash_in")
    assert [effects.filter(reference=ok.public_id).count(), effects.filter(reference=ko.public_id).count()] == [1, 0]
    assert side.money() == (balance - 1500, held)  # the refused one released its hold
    (callback,) = SimCallback.objects.filter(provider="mixx")
    assert callback.url == f"{live_server.url}/callbacks/mixx"
    assert "Mixx-Signature" in callback.headers
    assert post(callback.url, bytes(callback.body), dict(callback.headers)) == 200
    assert post(callback.url, bytes(callback.body).replace(b"1500", b"1600"), dict(callback.headers)) == 401
    assert ledger_check().is_ok
