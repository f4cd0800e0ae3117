"""Schema fuzzing of the whole partner API (issue 17, item 1): schemathesis generates requests from
``docs/openapi.yaml`` (bodies, query strings, headers, path ids; valid by the schema and invalid),
sends them signed over real HTTP to the gateway, and checks every answer: never a server error, a
status the operation declares, the content type it declares, a body matching its schema (the
``Problem`` component for every 4xx).

The gateway runs in ``live_server`` with the sandbox providers and librdkafka's mock cluster, so a
valid request goes all the way (a provider answers, Kafka acknowledges). The contract tour first
creates one object of each kind; path ids alternate between those real ids and generated ones.
``FUZZ_EXAMPLES`` examples per operation and generation mode, derandomized (reproducible);
``make fuzz`` runs many more.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clients.python.addon_partner_client import sign
from partners.models import Partner
from tests.contract.tour import Tour, start, walk
from tests.core.test_openapi import COMMITTED

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
REQUEST_TIMEOUT = 30.0


class PartnerSigning(requests.auth.AuthBase):
    """Signs every prepared request as docs/partner-api.md says, over the exact bytes sent, with a
    fresh ``Idempotency-Key`` where the generated request carries one (a reused key would only
    replay the first answer and the fuzzing would stop reaching the code)."""

    def __init__(self, api_key: str, secret: str) -> None:
        self.api_key, self.secret = api_key, secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        target = urlsplit(request.url or "")
        path = target.path + (f"?{target.query}" if target.query else "")
        t = int(time.time())
        request.headers["Authorization"] = f"Bearer {self.api_key}"
        request.headers["X-Signature"] = f"t={t},v1={sign(self.secret, t, request.method or 'GET', path, body)}"
        if "Idempotency-Key" in request.headers:
            request.headers["Idempotency-Key"] = f"fuzz-{uuid.uuid4().hex}"
        return request


@pytest.fixture
def toured(live_server, kafka_settings) -> Tour:  # type: ignore[no-untyped-def]
    tour = start(live_server.url)
    walk(tour)
    # the partner's own rate would answer 429 (documented, but reaching nothing) long before the end
    Partner.objects.filter(name="Tourist").update(rate_limit_per_minute=1_000_000)
    return tour


def name(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


def fuzz_operation(operation: Any, mode: Any, send: Any, real_ids: dict[str, str]) -> int:
    """Run the examples of one operation in one generation mode; the number of requests sent."""
    sent = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=settings.FUZZ_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        nonlocal sent
        if real_ids and sent % 2 == 0 and case.path_parameters:
            case.path_parameters = {**case.path_parameters, **real_ids}
        sent += 1
        send(case)

    run()
    return sent


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_operation_holds_under_generated_requests(toured: Tour, live_server) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_path(str(COMMITTED))
    session = requests.Session()
    session.auth = PartnerSigning(toured.client.api_key, toured.client.signing_secret)
    failures: list[str] = []
    answered: Counter[str] = Counter()

    def send(case: Any) -> None:
        try:
            response = case.call(base_url=live_server.url, session=session, timeout=REQUEST_TIMEOUT)
            answered[f"{response.status_code // 100}xx"] += 1
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup, requests.RequestException) as exc:
            # a failed check (FailureGroup: every check that failed, with a curl line), or no answer
            failures.append(f"{name(case.operation)}: {exc!s:.2000}")

    operations = [result.ok() for result in schema.get_all_operations()]
    sent = {
        (name(operation), mode.value): fuzz_operation(operation, mode, send, toured.params.get(operation.path, {}))
        for operation in operations
        for mode in MODES
    }
    print(f"schema fuzzing: {len(operations)} operations, {sum(sent.values())} requests, {dict(answered)}")
    assert len(operations) >= 28 and all(sent.values()), sent
    assert answered["2xx"] >= len(operations), f"too few requests reached the code: {answered}"
    assert not failures, f"{len(failures)} failing examples:\n\n" + "\n\n".join(failures[:20])
