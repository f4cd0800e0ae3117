"""``POST /callbacks/partner-bank``: the partner bank's signed pacs.002 status messages.

A plain Django view (the bank does not speak our API): the body is stored raw before anything
else, then verified (401 when the signature fails, the row kept and flagged), de-duplicated on
the message id and applied by ``banking.callback_apply_status`` — the answer is fast.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from banking.services import callback_receive

MAX_CALLBACK_BYTES = 1024 * 1024


@csrf_exempt
@require_POST
def partner_bank_callback(request: HttpRequest) -> JsonResponse:
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_CALLBACK_BYTES:
        return JsonResponse({"error": "payload_too_large"}, status=413)
    callback, status = callback_receive(raw=request.body, headers=dict(request.headers))
    return JsonResponse({"received": callback.status, "id": callback.pk}, status=status)
