"""``@idempotent``: Idempotency-Key handling for a DRF view method (docs/architecture.md §4 and §5).

    class CashInCreateApi(APIView):
        @idempotent
        def post(self, request: Request) -> Response:
            ...  # validate, call one service, return Response(..., status=202)

The decorator runs after DRF authenticated the request (it wraps the handler, not
``dispatch``) and takes the partner and mode from ``request.auth`` (``partners.auth.PartnerAuth``
has ``.partner`` and ``.mode``), or else from ``request.partner`` and ``request.mode``. It then:

1. reads ``Idempotency-Key`` (400 ``idempotency_key_missing`` / ``idempotency_key_invalid``);
2. fingerprints the request from the RAW body (``request.body``: bytes as received, before any
   parsing) with its method and path;
3. claims the key in its own committed transaction (``idempotency_begin``), so a concurrent
   duplicate sees it ``in_progress`` (409) rather than doing the work again;
4. on a replay, answers the stored status, headers and body byte for byte, with
   ``Idempotent-Replayed: true``; a different request with the key gets 422;
5. otherwise runs the view and stores what it answered, rendered, exactly as sent; an
   anticipated error raised by the view abandons the claim (see ``ledger.services.idempotency``
   for what is stored and what is abandoned, and why).

``@idempotent(one_transaction=True)`` is the accept path of the money-moving creates
(docs/performance.md): claim, the view's service and the stored response in ONE database
transaction (the view's own ``atomic`` blocks become savepoints in it; work enqueued with
``enqueue_on_commit`` leaves after it commits; the funds check's lock on the partner's account
is taken last, ``ledger.services.transactions.holds_reserved_last``). Only for views that call no provider and wait
for nothing: a transaction is never held across a provider call (docs/conventions.md §7).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast, overload

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction as db_transaction
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import AuthenticationFailed, GatewayError
from ledger.models import IdempotencyRecord
from ledger.services.idempotency import (
    idempotency_abandon,
    idempotency_begin,
    idempotency_claim_here,
    idempotency_complete,
    idempotency_fingerprint,
    idempotency_key_validate,
)
from ledger.services.transactions import DuplicateReferenceFound, holds_reserved_last
from partners.models import Partner

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

# Raised by a view before anything was committed: the claim is abandoned, the key reusable.
ANTICIPATED_ERRORS: tuple[type[BaseException], ...] = (GatewayError, APIException, Http404, DjangoPermissionDenied)

ViewMethod = TypeVar("ViewMethod", bound=Callable[..., HttpResponseBase])
Handler = Callable[..., HttpResponseBase]
Args = tuple[Any, ...]
Kwargs = dict[str, Any]


def request_principal(request: Request) -> tuple[Partner, str]:
    """The authenticated partner and mode of ``request`` (see the module docstring)."""
    auth = request.auth
    partner, mode = getattr(auth, "partner", None), getattr(auth, "mode", None)
    if partner is None:
        partner, mode = getattr(request, "partner", None), getattr(request, "mode", None)
    if not isinstance(partner, Partner) or not isinstance(mode, str):
        raise AuthenticationFailed("Authentication required.")
    return partner, mode


def replay_response(record: IdempotencyRecord) -> HttpResponse:
    """The stored response, byte for byte, marked as a replay."""
    assert record.response_status is not None and record.response_body is not None
    response = HttpResponse(bytes(record.response_body), status=record.response_status)
    for name, value in record.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _rendered(view: APIView, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any) -> HttpResponse:
    """Finalize and render now, so the bytes stored are the bytes DRF sends (it won't render twice)."""
    # DRF's stubs say Response; finalize_response accepts any HttpResponseBase (it asserts so)
    response = view.finalize_response(request, cast(Response, response), *args, **kwargs)
    render = getattr(response, "render", None)
    if render is not None:
        render()
    if not isinstance(response, HttpResponse):
        raise TypeError("Idempotent views answer with a complete (non-streaming) response.")
    return response


def _run(
    view: APIView, method: Handler, request: Request, record: IdempotencyRecord, args: Args, kwargs: Kwargs
) -> HttpResponse:
    try:
        response = method(view, request, *args, **kwargs)
    except ANTICIPATED_ERRORS:
        idempotency_abandon(record=record)
        raise
    except Exception as exc:  # noqa: BLE001 - the outcome is unknown: store the 500 so no retry repeats it
        response = view.handle_exception(exc)
    rendered = _rendered(view, request, response, *args, **kwargs)
    idempotency_complete(
        record=record, status=rendered.status_code, headers=dict(rendered.items()), body=rendered.content
    )
    return rendered


def _fingerprint(request: Request) -> str:
    return idempotency_fingerprint(method=request.method or "", path=request.get_full_path(), body=request.body)


def _in_one_transaction(
    view: APIView, method: Handler, request: Request, args: Args, kwargs: Kwargs
) -> HttpResponse | None:
    """Claim, work and stored answer in one transaction; None when the key was already taken."""
    partner, mode = request_principal(request)
    key = idempotency_key_validate(request.headers.get(KEY_HEADER))
    fingerprint = _fingerprint(request)
    try:
        with db_transaction.atomic():
            record = idempotency_claim_here(partner=partner, mode=mode, key=key, fingerprint=fingerprint)
            if record is None:
                return None
            # any exception rolls the claim back with the work: nothing happened, the key stays
            # free; the partner's account is locked (funds check) only at the end, before the commit
            with holds_reserved_last():
                rendered = _rendered(view, request, method(view, request, *args, **kwargs), *args, **kwargs)
                idempotency_complete(
                    record=record, status=rendered.status_code, headers=dict(rendered.items()), body=rendered.content
                )
    except DuplicateReferenceFound as found:  # rolled back: the existing transaction can be read now
        raise found.conflict() from None
    return rendered


def _classic(view: APIView, method: Handler, request: Request, args: Args, kwargs: Kwargs) -> HttpResponseBase:
    partner, mode = request_principal(request)
    fingerprint = _fingerprint(request)
    begin = idempotency_begin(partner=partner, mode=mode, key=request.headers.get(KEY_HEADER), fingerprint=fingerprint)
    if begin.is_replay:
        return replay_response(begin.record)
    return _run(view, method, request, begin.record, args, kwargs)


@overload
def idempotent(method: ViewMethod) -> ViewMethod: ...


@overload
def idempotent(*, one_transaction: bool = False) -> Callable[[ViewMethod], ViewMethod]: ...


def idempotent(
    method: ViewMethod | None = None, *, one_transaction: bool = False
) -> ViewMethod | Callable[[ViewMethod], ViewMethod]:
    """Make a DRF view handler (``post``) idempotent under the request's ``Idempotency-Key``;
    ``@idempotent(one_transaction=True)`` for the accept path (see the module docstring)."""

    def decorate(handler: ViewMethod) -> ViewMethod:
        @functools.wraps(handler)
        def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if one_transaction:
                answered = _in_one_transaction(view, handler, request, args, kwargs)
                if answered is not None:
                    return answered
            # the key is taken (a replay, 409, 422, or an expired row to reclaim): the classic path says which
            return _classic(view, handler, request, args, kwargs)

        wrapper.requires_idempotency_key = True  # type: ignore[attr-defined]  # read by core/api/schema.py
        return cast(ViewMethod, wrapper)

    return decorate if method is None else decorate(method)
