"""Orange Money transaction objects, as the simulator stores and lists them
(docs/providers/orange_money.md §3, the prod payload of a merchant payment; the cash-in type
value ``CASHIN`` is assumed, §9)."""

from __future__ import annotations

from typing import Any

from sandbox.models import SimObject
from sandbox.orange_money.common import PROVIDER, client_of, now_iso, transaction_id
from sandbox.services import SimAccount

CASH_IN = "CASHIN"
MERCHANT_PAYMENT = "MERCHANT_PAYMENT"


def transaction_object(
    *,
    kind: str,
    reference: str,
    amount_minor: int,
    partner: dict[str, str],
    customer_msisdn: str,
    status: str,
    channel: str,
    receive_notification: bool,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    stamp = now_iso()
    return {
        # Sonatel sends the amount as a JSON float (10.0): the simulator does the same on purpose,
        # so connectors must read it without floats (docs/providers/orange_money.md §3).
        "amount": {"value": float(amount_minor), "unit": "XOF"},
        "requestDate": stamp,
        "reference": reference,
        "metadata": metadata or {},
        "receiveNotification": receive_notification,
        "partner": partner,
        "customer": {"id": customer_msisdn, "idType": "MSISDN", "walletType": "PRINCIPAL"},
        "type": kind,
        "transactionId": transaction_id("CI" if kind == CASH_IN else "MP"),
        "createdAt": stamp,
        "updatedAt": stamp,
        "channel": channel,
        "status": status,
    }


def transaction_store(account: SimAccount, transaction: dict[str, Any]) -> None:
    SimObject.objects.create(
        provider=PROVIDER,
        kind="transaction",
        object_id=transaction["transactionId"],
        reference=transaction["reference"],
        status=transaction["status"],
        data={**transaction, "_account": client_of(account)},
    )


def transactions_of(account: SimAccount) -> Any:
    return SimObject.objects.filter(provider=PROVIDER, kind="transaction", data___account=client_of(account))
