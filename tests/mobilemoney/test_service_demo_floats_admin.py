"""The rail's seeder (idempotent), its float sources in GET /balances, and its read-only admin."""

from __future__ import annotations

import pytest

from mobilemoney.demo import seed_mobile_money
from mobilemoney.models import CashIn, CashInBatch, CheckoutSession, InboundCallback
from partners.demo import DemoContext
from partners.models import ProviderConnection
from tests.mobilemoney.api_support import make_partner

pytestmark = pytest.mark.django_db(transaction=True)


def test_seeder_is_idempotent_and_floats_join_the_balances(live_server) -> None:  # type: ignore[no-untyped-def]
    context = DemoContext(base_url=live_server.url)
    first = seed_mobile_money(context)
    seed_mobile_money(context)
    assert first["providers"] == ["wave", "orange_money"]
    rows = ProviderConnection.objects.filter(mode="test", connector__in=["wave", "orange_money"])
    assert sorted(rows.values_list("partner__code", "connector")) == [
        ("orange-money", "orange_money"),
        ("wave", "wave"),
    ]

    side = make_partner(live_server.url, scopes=["balances.read"])
    status, _, body = side.client.get("/api/v1/balances")
    assert status == 200
    floats = {f["provider"]: f for f in body["provider_floats"]}
    assert floats["wave"]["available"] is True and floats["wave"]["currency"] == "XOF"
    assert floats["orange_money"]["available"] is True


@pytest.mark.parametrize("model", [CashIn, CashInBatch, CheckoutSession, InboundCallback])
def test_admin_lists_are_read_only(staff_client, model) -> None:  # type: ignore[no-untyped-def]
    base = f"/admin/mobilemoney/{model._meta.model_name}/"
    assert staff_client.get(base).status_code == 200
    assert staff_client.get(base + "add/").status_code == 403
