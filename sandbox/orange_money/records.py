"""Orange Money's record of a period: the transaction search with ``fromDateTime`` and
``toDateTime`` (docs/providers/orange_money.md §10), a bare array, oldest first, paged with
``page`` (from 0; **assumed**) and ``size`` (500 at most).

Customers ending in ``9906`` are listed with another amount, those ending in ``9907`` are left
out (sandbox.services.record_quirk): the cash-in itself was processed normally.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from sandbox.models import SimObject
from sandbox.orange_money.common import PROVIDER, client_of, problem, public
from sandbox.services import SimAccount, recorded_amount

MAX_SIZE = 500


def _moment(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _recorded(data: dict[str, Any]) -> dict[str, Any] | None:
    customer = str((data.get("customer") or {}).get("id") or "")
    amount = recorded_amount(customer, int(data["amount"]["value"]))
    if amount is None:
        return None
    return {**public(data), "amount": {"value": float(amount), "unit": data["amount"]["unit"]}}


def period_transactions(request: HttpRequest, account: SimAccount) -> HttpResponse:
    start, end = _moment(request.GET.get("fromDateTime", "")), _moment(request.GET.get("toDateTime", ""))
    if start is None or end is None or end <= start:
        return problem(400, 400, "fromDateTime and toDateTime: ISO 8601 with a zone, from before to", request.path)
    size, page = request.GET.get("size", "20"), request.GET.get("page", "0")
    limit = int(size) if size.isdigit() and 0 < int(size) <= MAX_SIZE else 20
    offset = int(page) * limit if page.isdigit() else 0
    rows = SimObject.objects.filter(
        provider=PROVIDER,
        kind="transaction",
        data___account=client_of(account),
        created_at__gte=start,
        created_at__lt=end,
    ).order_by("pk")[offset : offset + limit]
    found = [_recorded(row.data) for row in rows]
    return JsonResponse([item for item in found if item is not None], safe=False)
