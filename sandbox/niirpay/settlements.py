"""Niirpay's settlement file of a day: ``GET v1/settlements/{YYYY-MM-DD}`` → ``text/csv``
(docs/providers/niirpay.md §12, the columns of the settlement file Niirpay is known to send).

One line per payment settled that day (status ``SUCCESSFUL``): ``Transaction Date``,
``niirPay Transaction ID``, ``Operator Transaction ID`` (the biller's receipt number),
``reference`` (ours), ``amount``, ``fees``, ``commissions_operator_amount``, ``currency``.
Customers ending in ``9906`` are settled with another amount, those ending in ``9907`` are
left out (sandbox.services.record_quirk): the payment itself was processed normally.
"""

from __future__ import annotations

import csv
import io

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox.models import SimObject
from sandbox.niirpay.accounts import PROVIDER, WireError, authenticate
from sandbox.niirpay.payments import PAYMENT_KIND
from sandbox.niirpay.views import error_response
from sandbox.services import business_day_bounds, recorded_amount, simulate_latency

COLUMNS = (
    "Transaction Date",
    "niirPay Transaction ID",
    "Operator Transaction ID",
    "reference",
    "amount",
    "fees",
    "commissions_operator_amount",
    "currency",
)


@csrf_exempt
def settlement_file(request: HttpRequest, day: str) -> HttpResponse:
    simulate_latency()
    try:
        if request.method != "GET":
            raise WireError(405, "METHOD_NOT_ALLOWED", "Use GET.")
        account = authenticate(request)
        bounds = business_day_bounds(day)
        if bounds is None:
            raise WireError(400, "INVALID_REQUEST", "The date is YYYY-MM-DD.")
    except WireError as error:
        return error_response(error)
    rows = SimObject.objects.filter(
        provider=PROVIDER,
        kind=PAYMENT_KIND,
        object_id__startswith=f"{account.account_id}:",
        status="SUCCESSFUL",
        created_at__gte=bounds[0],
        created_at__lt=bounds[1],
    ).order_by("pk")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows.iterator():
        data = row.data
        amount = recorded_amount(row.reference, int(data["amount"]))
        if amount is None:
            continue
        receipt = data.get("receipt") or {}
        writer.writerow(
            [
                row.created_at.date().isoformat(),
                data["transaction_id"],
                receipt.get("number", ""),
                data["reference"],
                str(amount),
                data["fee"],
                "0",
                data["currency"],
            ]
        )
    return HttpResponse(out.getvalue().encode(), content_type="text/csv; charset=utf-8")
