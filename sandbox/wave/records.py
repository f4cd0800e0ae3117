"""Wave's record of the day: ``GET /v1/transactions?date=YYYY-MM-DD[&after=&first=]`` (Wave's
Balance & Reconciliation API, docs/providers/wave.md §9).

One day per call, cursor-paged (``first`` items, 1000 at most; ``page_info.end_cursor`` is the
``after`` of the next page). Items are the wallet's payouts (``api_payout``, the amount negative:
money leaving the wallet) and paid checkout sessions (``api_checkout``, positive), each with
Wave's ``fee`` and our ``client_reference``. The sandbox disagrees on purpose for recipients
ending in ``9906`` (another amount) and ``9907`` (left out): sandbox.services.record_quirk.
"""

from __future__ import annotations

import base64
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from sandbox.models import SimObject
from sandbox.services import SimAccount, business_day_bounds, recorded_amount
from sandbox.wave.common import PROVIDER, fee_of, iso, validation_error, wallet_of, wave_api

MAX_PAGE = 1000


def _cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"pk:{pk}".encode()).decode()


def _after(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return int(text[3:]) if text.startswith("pk:") and text[3:].isdigit() else None


def _item(row: SimObject) -> dict[str, Any] | None:
    data = row.data
    if row.kind == "payout":
        amount = recorded_amount(str(data.get("mobile") or ""), int(data["receive_amount"]))
        kind, sign, fee = "api_payout", "-", data.get("fee") or "0"
    else:
        amount = recorded_amount(str(data.get("_payer") or ""), int(data["amount"]))
        kind, sign, fee = "api_checkout", "", str(fee_of(int(data["amount"])))
    if amount is None:
        return None
    return {
        "timestamp": iso(row.created_at),
        "transaction_id": data.get("transaction_id") or f"T_{row.object_id.upper()}",
        "transaction_type": kind,
        "amount": f"{sign}{amount}",
        "fee": fee,
        "currency": "XOF",
        "is_reversal": False,
        "counterparty_mobile": data.get("mobile"),
        "client_reference": data.get("client_reference"),
        "checkout_api_session_id": data.get("id") if row.kind == "checkout_session" else None,
    }


@wave_api("GET")
def transactions(request: HttpRequest, account: SimAccount) -> HttpResponse:
    day = request.GET.get("date", "")
    bounds = business_day_bounds(day)
    if bounds is None:
        return validation_error("date must be YYYY-MM-DD", ["date"])
    first = request.GET.get("first", str(MAX_PAGE))
    size = int(first) if first.isdigit() and 0 < int(first) <= MAX_PAGE else MAX_PAGE
    rows = SimObject.objects.filter(
        provider=PROVIDER,
        data___account=wallet_of(account),
        created_at__gte=bounds[0],
        created_at__lt=bounds[1],
    ).filter(kind="payout", status="succeeded") | SimObject.objects.filter(
        provider=PROVIDER,
        kind="checkout_session",
        data___account=wallet_of(account),
        data__payment_status="succeeded",
        updated_at__gte=bounds[0],
        updated_at__lt=bounds[1],
    )
    after = _after(request.GET["after"]) if request.GET.get("after") else 0
    if after is None:
        return validation_error("after is not a cursor of this list", ["after"])
    page = list(rows.filter(pk__gt=after).order_by("pk")[: size + 1])
    more, page = len(page) > size, page[:size]
    items = [item for item in map(_item, page) if item is not None]
    end = _cursor(page[-1].pk) if page else None
    return JsonResponse(
        {"page_info": {"start_cursor": None, "end_cursor": end, "has_next_page": more}, "date": day, "items": items}
    )
