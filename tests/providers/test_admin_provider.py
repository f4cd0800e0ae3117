"""Issue 15, item 1 in the console: a provider of a known kind is created from the admin's
provider connection page with its own code and currency (partners/admin.py), and takes a
cash-in under that code at once; a code already taken in the mode is refused and nothing is
created. Its record of the day (reconciliation) is labelled with its code, not "wave"."""

from __future__ import annotations

import json
from datetime import UTC

import pytest
from django.urls import reverse

from ledger.models import Transaction
from mobilemoney.models import CashIn
from mobilemoney.services.cash_ins import cash_in_process
from partners.models import Partner, ProviderConnection
from partners.registry import connector_session_for
from sandbox.models import SimEffect
from sandbox.simulators import simulators
from tests.mobilemoney.api_support import cash_in_body, make_partner

pytestmark = pytest.mark.django_db(transaction=True)

CODE = "wave_gm"


def connection_form(live_server, partner: Partner, code: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    credentials = simulators()["wave"].open_account(f"{live_server.url}/callbacks/{code}")
    return {
        "partner": str(partner.pk),
        "mode": "test",
        "connector": "wave",
        "provider_code": code,
        "currency": "XOF",
        "base_url": f"{live_server.url}/sandbox/wave/",
        "credentials_json": json.dumps(credentials),
        "connect_timeout_seconds": "2",
        "read_timeout_seconds": "2",
        "limits": "{}",
        "is_enabled": "on",
    }


def test_a_known_kind_provider_created_in_the_admin_takes_a_cash_in_under_its_code(staff_client, live_server) -> None:  # type: ignore[no-untyped-def]
    add = reverse("admin:partners_providerconnection_add")
    page = staff_client.get(add).content.decode()
    assert 'name="provider_code"' in page and 'name="currency"' in page
    provider = Partner.objects.create(name="Wave Gambia", code=CODE)

    assert staff_client.post(add, connection_form(live_server, provider, CODE)).status_code == 302

    connection = ProviderConnection.objects.get(provider_code=CODE)
    assert (connection.connector, connection.mode, connection.currency, connection.partner) == (
        "wave",
        "test",
        "XOF",
        provider,
    )
    side = make_partner(live_server.url)
    status, _, answer = side.client.post(
        "/api/v1/mobile-money/cash-ins", json=cash_in_body(CODE), idempotency_key="gm-1"
    )
    assert status == 202, answer
    cash_in_process(CashIn.objects.get(transaction__public_id=answer["id"]).pk)
    txn = Transaction.objects.get(public_id=answer["id"])
    assert (txn.status, txn.provider) == ("succeeded", CODE)
    assert SimEffect.objects.filter(provider="wave", effect="payout", reference=txn.public_id).count() == 1
    with connector_session_for(provider_code=CODE, mode="test") as connector:
        record = connector.day_record(txn.created_at.astimezone(UTC).date())
    assert record.provider == CODE  # the reconciliation's record of the day under its own code
    assert [line.reference for line in record.lines] == [txn.public_id]

    # the same code again in the same mode, on another provider partner: refused, nothing created
    other = Partner.objects.create(name="Other", code="other_gm")
    refused = staff_client.post(add, connection_form(live_server, other, CODE))
    assert refused.status_code == 200  # the form again, with its error
    assert ProviderConnection.objects.filter(provider_code=CODE).count() == 1
    assert not ProviderConnection.objects.filter(partner=other).exists()
