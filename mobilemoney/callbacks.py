"""POST /callbacks/wave, /callbacks/orange-money and /callbacks/<provider code> (a provider added as
data, docs/adding-a-provider.md): store, verify, answer fast (docs/architecture.md §4).

Plain Django views: providers sign with their own scheme (no partner authentication). A refused
signature is 401 (kept and flagged); anything verified is 200 at once, applied by a worker.
Orange Money stops retrying on 4xx, so an unreadable but verified body still gets 200
(docs/providers/orange_money.md, "callbacks").
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.api.errors import PROBLEM_CONTENT_TYPE, problem_body
from mobilemoney.connectors import rail_providers
from mobilemoney.services.callbacks import callback_receive


def _receive(request: HttpRequest, provider: str) -> JsonResponse:
    received = callback_receive(provider=provider, headers=dict(request.headers), raw_body=request.body)
    if not received.verified:
        body = problem_body(
            status=401, code="invalid_signature", title="Invalid signature", detail="The callback did not verify."
        )
        return JsonResponse(body, status=401, content_type=PROBLEM_CONTENT_TYPE)
    return JsonResponse({"received": True})


@csrf_exempt
@require_POST
def wave_callback(request: HttpRequest) -> JsonResponse:
    return _receive(request, "wave")


@csrf_exempt
@require_POST
def orange_money_callback(request: HttpRequest) -> JsonResponse:
    return _receive(request, "orange_money")


@csrf_exempt
@require_POST
def provider_callback(request: HttpRequest, provider: str) -> JsonResponse:
    """A provider of the rail by its code (``/callbacks/wave_ci``); another path is a 404."""
    if provider not in rail_providers():
        raise Http404("no such callback")
    return _receive(request, provider)
