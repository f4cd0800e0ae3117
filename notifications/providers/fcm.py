"""Firebase Cloud Messaging through the real firebase-admin SDK (docs/providers/fcm.md).

Tokens go through ``messaging.send_each_for_multicast`` (one HTTP/1.1 request per token, in
parallel threads), a topic or a condition through ``messaging.send``. Each provider connection
gets its own named firebase-admin app (``fcm_app``); in test mode that app talks to the
sandbox FCM. Per-target SDK exceptions become ``TargetResult`` codes (``fcm_errors``).

Every SDK send call is one provider-call record (``core.provider_calls.provider_call``, operation
``send``) when the caller opened a call scope (``partners.registry.connector_session``): the SDK
does not go through ``core.http``, so the connector records its calls itself. A call's outcome
is ``fcm_errors.call_error`` of its results (a timeout: unknown).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

import firebase_admin
from firebase_admin import exceptions, messaging

from core.errors import FieldError, ProviderError, ProviderRejected, ValidationFailed
from core.metrics import provider_call_seconds
from core.provider_calls import provider_call
from notifications.providers.base import PushMessage, PushProvider, PushTargets, TargetResult
from notifications.providers.fcm_app import messaging_app, parallel_requests
from notifications.providers.fcm_encoding import message_parts, multicast_message
from notifications.providers.fcm_errors import call_error, error_result
from notifications.validation import ensure_valid_push
from partners.registry import ConnectorSettings, register

logger = logging.getLogger("notifications.fcm")


@register("fcm")
class FcmConnector(PushProvider):
    """Push through Firebase Cloud Messaging (HTTP v1) for one provider connection."""

    name = "fcm"

    def __init__(self, settings: ConnectorSettings) -> None:
        self.settings = settings

    def send(self, message: PushMessage, targets: PushTargets, *, dry_run: bool = False) -> list[TargetResult]:
        """See ``PushProvider.send``. Validates, then sends; SDK ``ValueError`` → ``ValidationFailed``."""
        ensure_valid_push(message, targets)
        app = messaging_app(self.settings)
        started = time.perf_counter()
        results: list[TargetResult] = []
        try:
            if targets.tokens:
                results = self._send_to_tokens(app, message, list(targets.tokens), dry_run=dry_run)
            else:
                results = [self._send_to_topic_or_condition(app, message, targets, dry_run=dry_run)]
        finally:
            self._observe(results, time.perf_counter() - started, kind=targets.kind)
        return results

    def _send_to_tokens(
        self, app: firebase_admin.App, message: PushMessage, tokens: list[str], *, dry_run: bool
    ) -> list[TargetResult]:
        # The SDK starts one thread per token; chunks bound the threads (and sockets) per send.
        chunk_size = parallel_requests(self.settings)
        results: list[TargetResult] = []
        for start in range(0, len(tokens), chunk_size):
            chunk = tokens[start : start + chunk_size]
            results += _recorded(lambda chunk=chunk: _multicast(app, message, chunk, dry_run=dry_run))  # type: ignore[misc]
        return results

    def _send_to_topic_or_condition(
        self, app: firebase_admin.App, message: PushMessage, targets: PushTargets, *, dry_run: bool
    ) -> TargetResult:
        label = targets.labels[0]

        def send() -> Attempt:
            try:
                sdk_message = messaging.Message(
                    topic=targets.topic, condition=targets.condition, **message_parts(message)
                )
                message_id = messaging.send(sdk_message, dry_run=dry_run, app=app)
            except ValueError as exc:  # the SDK refused to encode: nothing was sent
                raise ProviderRejected(str(exc), provider_code="sdk_refused") from exc
            except exceptions.FirebaseError as exc:
                return [error_result(label, exc, is_token=False)], [exc]
            return [TargetResult(target=label, message_id=message_id, error_code=None)], [None]

        return _recorded(send)[0]

    def _observe(self, results: list[TargetResult], elapsed: float, *, kind: str) -> None:
        delivered = sum(result.is_delivered for result in results)
        outcome = "ok" if results and delivered == len(results) else ("partial" if delivered else "failed")
        provider_call_seconds.labels("fcm", "send", outcome).observe(elapsed)
        errors = Counter(str(result.error_code) for result in results if result.error_code)
        # counts only: device tokens identify people's phones and are not logged
        logger.info(
            "fcm send delivered %d of %d (%s) in %.0f ms",
            delivered,
            len(results),
            kind,
            elapsed * 1000,
            extra={
                "provider": "fcm",
                "outcome": outcome,
                "errors": dict(errors),
                "connection": self.settings.connection_id,
            },
        )


Attempt = tuple[list[TargetResult], list[exceptions.FirebaseError | None]]


def _multicast(app: firebase_admin.App, message: PushMessage, tokens: list[str], *, dry_run: bool) -> Attempt:
    try:
        batch = messaging.send_each_for_multicast(multicast_message(message, tokens), dry_run=dry_run, app=app)
    except ValueError as exc:  # the SDK refused to encode: nothing was sent
        raise ProviderRejected(str(exc), provider_code="sdk_refused") from exc
    except exceptions.FirebaseError as exc:  # the thread pool itself failed
        return [error_result(token, exc, is_token=True) for token in tokens], [exc] * len(tokens)
    results: list[TargetResult] = []
    errors: list[exceptions.FirebaseError | None] = []
    for token, response in zip(tokens, batch.responses, strict=True):
        if response.success:
            results.append(TargetResult(target=token, message_id=response.message_id, error_code=None))
            errors.append(None)
        else:
            results.append(error_result(token, response.exception, is_token=True))
            errors.append(response.exception)
    return results, errors


def _recorded(send: Callable[[], Attempt]) -> list[TargetResult]:
    """Run one SDK send call as one recorded provider call; answer its per-target results.

    The call's failure is raised inside the record so the record gets its outcome, then
    swallowed: per-target errors are results (``PushProvider.send``). An SDK refusal to encode
    becomes ``ValidationFailed`` (nothing was sent).
    """
    results: list[TargetResult] = []
    try:
        with provider_call(operation="send"):
            results, errors = send()
            failure = call_error(results, errors)
            if failure is not None:
                raise failure
    except ProviderRejected as exc:
        if exc.provider_code == "sdk_refused":
            refusal = [FieldError("message", exc.message)]
            raise ValidationFailed("The push notification is invalid.", errors=refusal) from exc
    except ProviderError:
        pass  # recorded with its outcome; the results say what happened to each target
    return results
