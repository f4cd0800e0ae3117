"""Reconciliation against the sandbox providers over real HTTP (issue 12, item 3 acceptance).

Traffic goes through every rail's own services; each provider's record of the day comes from
its simulator in its own format (Wave's transaction list, Orange Money's search, Niirpay's
settlement CSV, the banks' camt.053); the comparison runs as the daily job runs it.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from ledger.models import Transaction
from partners.models import ProviderConnection
from reconciliation.models import BreakState, ReconciliationBreak, ReconciliationRun
from reconciliation.services import reconciliation_run
from sandbox.services import QUIRK_AMOUNT_DELTA_MINOR
from tests.reconciliation.traffic import (
    PROVIDERS,
    bill,
    cash_in,
    connect_everything,
    credits_in,
    mixed_day,
    settle_transfers,
    transfer_out,
)

pytestmark = pytest.mark.django_db(transaction=True)


def reconcile(provider: str) -> ReconciliationRun:
    return reconciliation_run(provider=provider, mode="test", business_date=timezone.localdate())


def test_a_day_of_mixed_traffic_through_every_rail_reconciles(live_server: Any, settings: Any) -> None:
    day = connect_everything(live_server, settings)
    mixed_day(day)
    statuses = {(t.provider, t.status) for t in Transaction.objects.filter(partner=day.partner)}
    assert {(p, "succeeded") for p in PROVIDERS} <= statuses  # money moved on every rail
    assert {(p, "failed") for p in PROVIDERS} <= statuses  # and was refused on every rail
    assert Transaction.objects.filter(client_reference__endswith="9902", status="succeeded").count() == 2

    for provider in PROVIDERS:
        run = reconcile(provider)
        assert (run.provider, run.verdict, run.counts) == (provider, "reconciled", {})
        succeeded = Transaction.objects.filter(partner=day.partner, provider=provider, status="succeeded").count()
        assert run.matched == succeeded and run.in_flight == 0
    assert not ReconciliationBreak.objects.exists()

    out = StringIO()
    call_command("reconcile", provider="wave", date=timezone.localdate().isoformat(), mode="test", stdout=out)
    assert "reconciled" in out.getvalue() and "Amount differs: 0" in out.getvalue()


def test_9906_and_9907_give_one_amount_and_one_missing_break_per_provider(live_server: Any, settings: Any) -> None:
    day = connect_everything(live_server, settings)
    for suffix in ("1234", "9906", "9907"):
        cash_in(day, "wave", suffix)
        cash_in(day, "orange_money", suffix)
        bill(day, suffix)
        transfer_out(day, suffix)
    credits_in(day, ["1234", "9906", "9907"])
    settle_transfers(day)

    for provider in PROVIDERS:
        run = reconcile(provider)
        assert (run.verdict, run.counts) == ("breaks", {"amount_differs": 1, "missing_at_provider": 1}), provider
        assert run.matched == 1
        breaks = {b.kind: b for b in ReconciliationBreak.objects.filter(provider=provider)}
        differs, missing = breaks["amount_differs"], breaks["missing_at_provider"]
        ours = {t.public_id: t for t in day.of(provider)}
        assert ours[differs.reference].client_reference.endswith("9906")
        assert differs.provider_amount_minor == (differs.ledger_amount_minor or 0) + QUIRK_AMOUNT_DELTA_MINOR
        assert differs.ledger_amount_minor == ours[differs.reference].amount_minor
        assert ours[missing.reference].client_reference.endswith("9907")
        assert (missing.ledger_amount_minor, missing.provider_amount_minor) == (
            ours[missing.reference].amount_minor,
            None,
        )
        assert {b.state for b in breaks.values()} == {BreakState.NEW}

    # the next run finds the same breaks: same ids, still open, their age counted from the first
    again = reconcile("wave")
    kept = ReconciliationBreak.objects.filter(provider="wave")
    assert {b.state for b in kept} == {BreakState.OPEN} and {b.last_run_id for b in kept} == {again.pk}
    assert {b.first_run_id for b in kept} != {again.pk}
    with pytest.raises(CommandError) as exit_code:
        call_command(
            "reconcile", provider="wave", date=timezone.localdate().isoformat(), mode="test", stdout=StringIO()
        )
    assert exit_code.value.returncode == 1


def test_an_unknown_transaction_the_provider_reports_paid_is_a_status_break_in_the_unknown_queue(
    live_server: Any, settings: Any
) -> None:
    day = connect_everything(live_server, settings)
    lost = cash_in(day, "wave", "9902")  # paid at Wave, the answer lost: unknown until polled
    assert lost.status == "unknown" and not lost.needs_review
    run = reconcile("wave")
    assert (run.verdict, run.counts) == ("breaks", {"status_differs": 1})
    brk = ReconciliationBreak.objects.get()
    assert (brk.transaction_id, brk.ledger_status, brk.provider_status) == (lost.pk, "unknown", "succeeded")
    lost.refresh_from_db()
    assert lost.status == "unknown" and lost.needs_review  # staff decide; reconciliation moves no money
    assert "wave reports it succeeded" in lost.review_reason


def test_the_record_unavailable_is_incomplete_never_reconciled(live_server: Any, settings: Any) -> None:
    day = connect_everything(live_server, settings)
    cash_in(day, "orange_money", "1234")
    ProviderConnection.objects.filter(connector="orange_money").update(base_url="http://127.0.0.1:9/")
    run = reconcile("orange_money")
    assert run.verdict == "incomplete" and run.counts == {} and "Provider" in run.note
    assert not ReconciliationBreak.objects.exists()  # nothing is concluded without the record
    with pytest.raises(CommandError) as exit_code:
        call_command(
            "reconcile", provider="orange_money", date=timezone.localdate().isoformat(), mode="test", stdout=StringIO()
        )
    assert exit_code.value.returncode == 2
