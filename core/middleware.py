"""Request ids (docs/architecture.md §3 step 1): accepted when well formed, made otherwise, echoed back."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.logging import partner_var, request_id_var, transaction_var

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits, and - _ . : up to 128 characters: enough for UUIDs and tracing ids,
# nothing that could break a log line or a header.
_WELL_FORMED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")


def new_request_id() -> str:
    return "req_" + uuid.uuid4().hex


def accept_request_id(candidate: str | None) -> str:
    if candidate and _WELL_FORMED.match(candidate):
        return candidate
    return new_request_id()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accept_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        tokens = (request_id_var.set(request_id), partner_var.set(None), transaction_var.set(None))
        try:
            response = self.get_response(request)
        finally:
            transaction_var.reset(tokens[2])
            partner_var.reset(tokens[1])
            request_id_var.reset(tokens[0])
        response[REQUEST_ID_HEADER] = request_id
        return response
