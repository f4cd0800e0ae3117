"""What every operation of the partner API shares in the OpenAPI schema, declared once.

``GatewayAutoSchema`` (the project's ``DEFAULT_SCHEMA_CLASS``):
- declares the ``Idempotency-Key`` header on every handler wrapped by ``ledger.idempotency.idempotent``
  (it marks the handler ``requires_idempotency_key``), so no view declares it by hand;
- describes an operation with the view's OWN docstring (or its handler's), never one inherited
  from a base class (the base view's docstring is about our internals, not the operation).
``problem_responses`` (a post-processing hook) adds the ``application/problem+json`` error
answers every operation can give, with one ``Problem`` component (``docs/partner-api.md``); an
error status a view declares itself (``responses={404: OpenApiResponse(description=…)}``, when
it answers one the rules below do not foresee) gets the same ``Problem`` body.
"""

from __future__ import annotations

import inspect
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

IDEMPOTENCY_KEY = "Idempotency-Key"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error, as RFC 9457 problem details with our stable machine code.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable snake_case code, e.g. insufficient_funds"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "request_id": {"type": "string"},
    },
}

ERRORS: dict[str, str] = {
    "400": "The request is malformed or fails validation (`errors` names each field); nothing was done.",
    "401": "Missing or bad credentials or signature.",
    "403": "The key lacks the scope, or the address is outside the partner's allowlist.",
    "404": "No such object for this partner in this mode.",
    "409": "A conflict: the Idempotency-Key is in use by a request still running, the client reference "
    "was used by another money movement, or the object is taken.",
    "413": "The body is larger than the gateway accepts (or a batch has too many items); nothing was done.",
    "415": "The body's Content-Type is not one the operation reads; nothing was done.",
    "422": "A business rule refused it (insufficient funds, a reused Idempotency-Key, …); nothing was done.",
    "429": "Over the partner's rate; retry after `Retry-After` seconds.",
    "503": "A provider or a dependency is unavailable; nothing was done, retry later.",
}


class GatewayAutoSchema(AutoSchema):
    def _handler(self) -> Any:
        return getattr(self.view, self.method.lower(), None)

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        declared = {getattr(p, "name", None) for p in parameters}
        if getattr(self._handler(), "requires_idempotency_key", False) and IDEMPOTENCY_KEY not in declared:
            parameters.append(
                OpenApiParameter(
                    IDEMPOTENCY_KEY,
                    str,
                    OpenApiParameter.HEADER,
                    required=True,
                    description="1 to 255 characters, unique per operation you mean: a retry with the "
                    "same key and body gets the first answer (Idempotent-Replayed: true).",
                )
            )
        return parameters

    def get_description(self) -> str:  # type: ignore[override]
        own = type(self.view).__dict__.get("__doc__")
        handler = self._handler()
        text = own or (getattr(handler, "__doc__", None) if handler is not None else None) or ""
        return inspect.cleandoc(text)


def _error_codes(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    codes = ["400", "401", "403", "429"]
    if "{" in path:
        codes.append("404")
    if method == "post":
        codes += ["413", "422", "503"]
        if "requestBody" in operation:
            codes.append("415")
        header_names = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "header"}
        if IDEMPOTENCY_KEY in header_names:
            codes.append("409")
    return sorted(codes)


def problem_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Post-processing hook: the problem+json error answers of every operation."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in _error_codes(method, path, operation):
                responses.setdefault(code, {"description": ERRORS[code]})
            for code, response in responses.items():
                if code.startswith(("4", "5")) and not response.get("content"):
                    response["content"] = {"application/problem+json": {"schema": reference}}
            operation["responses"] = dict(sorted(responses.items()))
    return result
