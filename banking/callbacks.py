"""``POST /callbacks/partner-bank``: the partner bank's signed pacs.002 status messages.

A plain Django view (the bank does not speak our API): the body is stored raw before anything
else, then verified (401 when the signature fails, the row kept and flagged), de-duplicated on
the message id and applied by ``banking.callback_apply_status`` — the answer is fast.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from banking.services import callback_receive
from core.api.errors import problem_response
from core.errors import ErrorCode

MAX_CALLBACK_BYTES = 1024 * 1024
REFUSALS = {
    400: (ErrorCode.VALIDATION_ERROR, "Unreadable status message"),
    401: (ErrorCode.INVALID_SIGNATURE, "Invalid signature"),
}


@csrf_exempt
@require_POST
def partner_bank_callback(request: HttpRequest) -> HttpResponse:
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_CALLBACK_BYTES:
        return problem_response(
            status=413,
            code=ErrorCode.PAYLOAD_TOO_LARGE,
            title="Payload too large",
            detail=f"A callback is at most {MAX_CALLBACK_BYTES:,} bytes.",
        )
    callback, status = callback_receive(raw=request.body, headers=dict(request.headers))
    if status in REFUSALS:  # kept and flagged; the bank reads a problem like every other refusal of ours
        code, title = REFUSALS[status]
        detail = f"Callback {callback.pk} was kept but not applied: {callback.status}."
        return problem_response(status=status, code=code, title=title, detail=detail, extra={"id": callback.pk})
    return JsonResponse({"received": callback.status, "id": callback.pk}, status=status)
