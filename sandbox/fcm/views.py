"""The simulated FCM HTTP v1 endpoint: ``POST /sandbox/fcm/v1/projects/<project>/messages:send``.

It accepts exactly what firebase-admin sends (docs/providers/fcm.md §5): a Bearer access token, the
body ``{"message": {...}, "validate_only"?: bool}``. A delivered message is recorded as a
``SimObject`` of kind ``fcm_message`` (its ``data`` holds the message as received), so tests
read back exactly what reached "FCM". Outcomes come from markers in the target (outcomes.py).
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sandbox.fcm.checks import message_problem, target_of
from sandbox.fcm.outcomes import (
    ERRORS,
    FAIL_ONCE,
    REQUESTS_COUNTER,
    FcmErrorAnswer,
    FcmOutcome,
    attempts_counter,
    failures_counter,
    outcome_for_target,
)
from sandbox.models import SimObject
from sandbox.services import account_for_key, bearer_token, counter_add, hang, simulate_latency

PROVIDER = "fcm"
MESSAGE_KIND = "fcm_message"
UNAUTHENTICATED = FcmErrorAnswer(
    401,
    "UNAUTHENTICATED",
    "Request had invalid authentication credentials. Expected OAuth 2 access token.",
    None,
)


@csrf_exempt
@require_POST
def messages_send(request: HttpRequest, project: str) -> JsonResponse:
    simulate_latency()
    counter_add(PROVIDER, REQUESTS_COUNTER)
    refusal = _auth_refusal(request, project)
    if refusal is not None:
        return _error(refusal)
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return _error(FcmErrorAnswer(400, "INVALID_ARGUMENT", "Invalid JSON payload received.", None))
    message = body.get("message") if isinstance(body, dict) else None
    problem = message_problem(message)
    if problem is not None:
        return _error(FcmErrorAnswer(400, "INVALID_ARGUMENT", problem, "INVALID_ARGUMENT"))
    assert isinstance(message, dict)  # message_problem() checked it
    target_kind, target = target_of(message)
    counter_add(PROVIDER, attempts_counter(target))
    failure = _failure_for(target_kind, target)
    if failure is not None:
        return _error(failure)
    if body.get("validate_only"):
        return JsonResponse({"name": f"projects/{project}/messages/fake_message_id"})
    message_id = _record(request, project, target_kind, target, message)
    if outcome_for_target(target) is FcmOutcome.ANSWER_LOST:
        hang()  # delivered, but the caller's read timeout expires first
    return JsonResponse({"name": f"projects/{project}/messages/{message_id}"})


def _auth_refusal(request: HttpRequest, project: str) -> FcmErrorAnswer | None:
    token = bearer_token(request)
    account = account_for_key(PROVIDER, token) if token else None
    if account is None:
        return UNAUTHENTICATED
    allowed_project = account.extra.get("project_id")
    if allowed_project and allowed_project != project:
        return FcmErrorAnswer(
            403,
            "PERMISSION_DENIED",
            f"Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager"
            f".googleapis.com/projects/{project}' (or it may not exist).",
            None,
        )
    return None


def _failure_for(target_kind: str, target: str) -> FcmErrorAnswer | None:
    outcome = outcome_for_target(target)
    if outcome is FcmOutcome.INVALID_ARGUMENT and target_kind != "token":
        return FcmErrorAnswer(400, "INVALID_ARGUMENT", f"Invalid value at 'message.{target_kind}'", "INVALID_ARGUMENT")
    if outcome in FAIL_ONCE:
        # fails the first time this target is seen, delivered on the next attempt (state in SimCounter)
        return ERRORS[outcome] if counter_add(PROVIDER, failures_counter(target)) == 1 else None
    return ERRORS.get(outcome)


def _record(request: HttpRequest, project: str, target_kind: str, target: str, message: dict[str, Any]) -> str:
    message_id = f"0:{int(time.time() * 1000)}%{secrets.token_hex(8)}"
    SimObject.objects.create(
        provider=PROVIDER,
        kind=MESSAGE_KIND,
        object_id=message_id,
        reference=target[:255],
        status="delivered",
        data={
            "project": project,
            "target_kind": target_kind,
            "target": target,
            "message": message,
            "api_format_version": request.headers.get("X-GOOG-API-FORMAT-VERSION", ""),
            "client": request.headers.get("X-FIREBASE-CLIENT", ""),
        },
    )
    return message_id


def _error(answer: FcmErrorAnswer) -> JsonResponse:
    response = JsonResponse(answer.body(), status=answer.http_status)
    if answer.retry_after:
        response["Retry-After"] = answer.retry_after
    return response
