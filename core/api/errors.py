"""Every API error as ``application/problem+json`` (RFC 9457, docs/architecture.md §5).

``{"type", "title", "status", "detail", "code", "errors": [{"field", "message"}], "request_id"}``
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from core.errors import ErrorCode, FieldError, GatewayError
from core.logging import request_id_var

logger = logging.getLogger("core.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://docs.addon-partner.sn/problems/"

_DRF_CODES: dict[type[drf.APIException], tuple[ErrorCode, str]] = {
    drf.ParseError: (ErrorCode.PARSE_ERROR, "Malformed request body"),
    drf.AuthenticationFailed: (ErrorCode.AUTHENTICATION_REQUIRED, "Authentication failed"),
    drf.NotAuthenticated: (ErrorCode.AUTHENTICATION_REQUIRED, "Authentication required"),
    drf.PermissionDenied: (ErrorCode.PERMISSION_DENIED, "Permission denied"),
    drf.NotFound: (ErrorCode.NOT_FOUND, "Not found"),
    drf.MethodNotAllowed: (ErrorCode.METHOD_NOT_ALLOWED, "Method not allowed"),
    drf.NotAcceptable: (ErrorCode.NOT_ACCEPTABLE, "Not acceptable"),
    drf.UnsupportedMediaType: (ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
    drf.Throttled: (ErrorCode.RATE_LIMITED, "Too many requests"),
    drf.ValidationError: (ErrorCode.VALIDATION_ERROR, "Invalid request"),
}


def problem_body(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": errors or [],
        "request_id": request_id_var.get(),
    }
    if extra:
        body.update(extra)
    return body


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """A plain Django response (for middleware, handlers and non-DRF views)."""
    body = problem_body(status=status, code=code, title=title, detail=detail, errors=errors, extra=extra)
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def flatten_validation_errors(detail: Any, prefix: str = "") -> list[FieldError]:
    """DRF's nested ``{"field": ["msg"]}`` / ``[{"field": [...]}]`` into a flat list of field errors."""
    out: list[FieldError] = []
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = str(key)
            path = name if not prefix else (prefix if name == "non_field_errors" else f"{prefix}.{name}")
            if name == "non_field_errors" and not prefix:
                path = ""
            out.extend(flatten_validation_errors(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(item, Mapping | list) for item in detail):
            out.extend(FieldError(prefix, str(item)) for item in detail)
        else:
            for index, item in enumerate(detail):
                if item:
                    out.extend(flatten_validation_errors(item, f"{prefix}[{index}]" if prefix else f"[{index}]"))
    else:
        out.append(FieldError(prefix, str(detail)))
    return out


def _response(body: dict[str, Any], status: int, headers: Mapping[str, str] | None = None) -> Response:
    response = Response(body, status=status, headers=dict(headers or {}), content_type=PROBLEM_CONTENT_TYPE)
    return response


def problem_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """DRF ``EXCEPTION_HANDLER``: every exception becomes a problem response, never a trace."""
    if isinstance(exc, GatewayError):
        body = problem_body(
            status=exc.status,
            code=str(exc.code),
            title=exc.title,
            detail=exc.detail,
            errors=[e.as_dict() for e in exc.errors],
            extra=exc.extra,
        )
        return _response(body, exc.status, exc.headers)

    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    if isinstance(exc, drf.APIException):
        code, title = ErrorCode.INTERNAL_ERROR, "Error"
        for klass in type(exc).__mro__:
            if klass in _DRF_CODES:
                code, title = _DRF_CODES[klass]
                break
        headers: dict[str, str] = {}
        wait = getattr(exc, "wait", None)
        if isinstance(exc, drf.Throttled) and wait is not None:
            headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if isinstance(exc, drf.ValidationError):
            errors = [e.as_dict() for e in flatten_validation_errors(exc.detail)]
            detail = "; ".join(f"{e['field'] or 'request'}: {e['message']}" for e in errors[:5]) or title
        else:
            errors = []
            detail = str(exc.detail) if isinstance(exc.detail, str) else title
        body = problem_body(status=exc.status_code, code=str(code), title=title, detail=detail, errors=errors)
        return _response(body, exc.status_code, headers)

    request = context.get("request")
    logger.exception(
        "unhandled exception in API view",
        extra={"path": getattr(request, "path", None), "view": type(context.get("view")).__name__},
    )
    return _response(internal_error_body(), 500)


def internal_error_body() -> dict[str, Any]:
    return problem_body(
        status=500,
        code=ErrorCode.INTERNAL_ERROR,
        title="Internal error",
        detail="An unexpected error occurred. Quote the request_id when contacting support.",
    )


# --- Django-level handlers (URLs no view matched, errors outside DRF) -------------------------


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_response(status=404, code=ErrorCode.NOT_FOUND, title="Not found", detail="No such resource.")


def handler500(request: HttpRequest) -> HttpResponse:
    body = internal_error_body()
    return HttpResponse(json.dumps(body), status=500, content_type=PROBLEM_CONTENT_TYPE)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_response(
        status=403, code=ErrorCode.PERMISSION_DENIED, title="Permission denied", detail="Permission denied."
    )


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):  # a plain view (a callback) read a body over the limit
        return payload_too_large_response()
    return problem_response(status=400, code=ErrorCode.VALIDATION_ERROR, title="Bad request", detail="Bad request.")


def payload_too_large_response() -> HttpResponse:
    """413: the body is over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django refuses to read it)."""
    return problem_response(
        status=413,
        code=ErrorCode.PAYLOAD_TOO_LARGE,
        title="Payload too large",
        detail=f"The request body is larger than the {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes accepted.",
    )
