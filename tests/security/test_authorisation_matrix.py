"""The authorisation matrix (issue 17, item 2), built from the URLconf so that a new route cannot
escape it: every route belongs to a family with a rule, and every partner API route has a row in
``API_OBJECTS`` (a route without one fails here).

Partner API (``/api/v1/``), every method of every route, over real HTTP:
  anonymous → 401 problem+json; a partner without the route's scope → 403; another partner on an
  object → 404; the owner's key of the other mode on the object → 404 (the objects are the
  contract tour's, tests/contract/tour.py, in test mode: the live key cannot see them; and a
  live transaction is not the test key's).
Admin (``ADMIN_URL``, every generated route): anonymous → redirect to the login page (the login
  page itself and the language switch excepted); a partner's user without staff rights too.
Docs (``/api/schema|docs|redoc``): anonymous and non-staff → the login page.
Callbacks: an unsigned delivery → refused (401), nothing applied.
Metrics: refused outside ``METRICS_ALLOWED_CIDRS``. Health: open. Sandbox: absent in production.
"""

from __future__ import annotations

import ipaddress
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from clients.python.addon_partner_client import AddonPartnerClient
from core.money import Money
from ledger.models import Transaction
from ledger.services import transaction_create
from mobilemoney.models import InboundCallback
from partners.models import ALL_SCOPES, Mode, Partner
from partners.services import api_credential_issue, partner_create, signing_secret_rotate
from tests.contract.tour import PREFIX, Tour, api_routes, start, walk
from tests.core.test_settings import production_env, run_manage

# Partner API routes → the tour parameter naming the partner's object in the path (None: no object).
API_OBJECTS: dict[str, str | None] = {
    "/me": None,
    "/balances": None,
    "/statements": None,
    "/transactions": None,
    "/transactions/{public_id}": "public_id",
    "/bills/billers": None,
    "/bills/lookups": None,
    "/bills/quotes": None,
    "/bills/payments": None,
    "/bills/payments/{payment_id}": "payment_id",
    "/mobile-money/cash-ins": None,
    "/mobile-money/cash-ins/{public_id}": "public_id",
    "/mobile-money/cash-in-batches": None,
    "/mobile-money/cash-in-batches/{public_id}": "public_id",
    "/mobile-money/cash-in-batches/{public_id}/items": "public_id",
    "/mobile-money/cash-in-batches/{public_id}/retry": "public_id",
    "/mobile-money/checkout-sessions": None,
    "/mobile-money/checkout-sessions/{public_id}": "public_id",
    "/mobile-money/checkout-sessions/{public_id}/expire": "public_id",
    "/mobile-money/checkout-sessions/{public_id}/refund": "public_id",
    "/banking/transfer-batches": None,
    "/banking/transfer-batches/{batch_id}": "batch_id",
    "/banking/transfer-batches/{batch_id}/status-report": "batch_id",
    "/banking/transfers": None,
    "/banking/transfers/{transfer_id}": "transfer_id",
    "/notifications/push": None,
    "/notifications/push/{public_id}": "public_id",
    "/events/test": None,
    "/test-helpers/checkout-sessions/{public_id}/pay": "public_id",
}
SCOPE_FREE = {"/me"}  # who am I: any valid key; every other route needs its rail's scope
# Valid bodies where {} is not, so that only the object decides the answer.
BODIES = {"/test-helpers/checkout-sessions/{public_id}/pay": {"payer_msisdn": "+221770005555"}}
# Test helpers exist for test keys only: a live key is refused before any object is looked up.
EXCEPTIONS = {("live key of the owner", "/test-helpers/checkout-sessions/{public_id}/pay"): 403}
CALLBACK_ROUTES = {"callbacks/wave", "callbacks/orange-money", "callbacks/partner-bank"}
# /callbacks/<provider code> of the providers added as data: tests/providers/ sends it unsigned callbacks
PROVIDER_CALLBACK_ROUTE = "callbacks/(?P<provider>[a-z][a-z0-9_]{1,19})"
OPEN_ROUTES = {"health/live", "health/ready", "i18n/setlang/"}
DOCS_ROUTES = {"api/schema/", "api/docs/", "api/redoc/", "api/redoc/redoc.standalone.js"}
# Admin routes an anonymous visitor may reach: the login page, and the sign-out (POST only).
ADMIN_PUBLIC = {"login", "logout"}
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def all_routes() -> Iterator[tuple[str, URLPattern]]:
    def walk_patterns(patterns: list[Any], prefix: str) -> Iterator[tuple[str, URLPattern]]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^").rstrip("$").replace("/?", "")
            if isinstance(pattern, URLResolver):
                yield from walk_patterns(pattern.url_patterns, route)
            else:
                yield route, pattern

    yield from walk_patterns(get_resolver().url_patterns, "")


def family(route: str) -> str:
    if route.startswith(settings.ADMIN_URL):
        return "admin"
    if route.startswith("api/v1/"):
        return "api"
    if route.startswith("sandbox/"):
        return "sandbox"
    callbacks = {*CALLBACK_ROUTES, PROVIDER_CALLBACK_ROUTE}
    for name, routes in (("callback", callbacks), ("open", OPEN_ROUTES), ("docs", DOCS_ROUTES)):
        if route in routes:
            return name
    if route == "metrics":
        return "metrics"
    return "unclassified"


SAMPLE = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>([^)]*)\)")


def sample_path(route: str) -> str:
    """A concrete path for a route: converters and regex groups filled with a plausible value."""

    def fill(match: re.Match[str]) -> str:
        if match.group(3) is not None:  # a regex group: its first alternative, or a digit
            first = match.group(3).split("|")[0]
            return first if re.fullmatch(r"[\w-]+", first) else "1"
        return "1"

    return "/" + SAMPLE.sub(fill, route).replace("\\", "")


def test_every_route_is_in_the_matrix() -> None:
    routes = list(all_routes())
    unclassified = [route for route, _ in routes if family(route) == "unclassified"]
    assert unclassified == [], "a route with no rule in the authorisation matrix"
    api = {path.removeprefix(PREFIX) for path, _ in api_routes()}
    assert api == set(API_OBJECTS), f"partner API routes without a row: {api ^ set(API_OBJECTS)}"
    assert len(routes) > 200  # the admin's generated routes are walked too


# ---- partner API, over real HTTP -------------------------------------------------------------


def _methods(view: type) -> list[str]:
    return [method.upper() for method in HTTP_METHODS if hasattr(view, method)]


def _problem(answer: Any) -> bool:
    return answer.headers.get("Content-Type", "").startswith("application/problem+json")


@pytest.mark.django_db(transaction=True)
def test_partner_api_matrix(live_server) -> None:  # type: ignore[no-untyped-def]
    tour: Tour = start(live_server.url)
    walk(tour)
    owner = tour.client
    tourist = _partner_of(tour)
    live_key = api_credential_issue(partner=tourist, mode=Mode.LIVE)
    live_secret = signing_secret_rotate(partner=tourist, mode=Mode.LIVE)
    callers = {
        "anonymous": AddonPartnerClient(live_server.url, "", ""),  # sends no credentials (_call)
        "no scope": _client(live_server.url, partner_create(name="Scopeless", mode=Mode.TEST, scopes=[])),
        "another partner": _client(live_server.url, partner_create(name="Nosy", mode=Mode.TEST, scopes=_all())),
        "live key of the owner": AddonPartnerClient(live_server.url, live_key.api_key, live_secret.secret),
    }
    wrong: list[str] = []
    checked = 0
    for path, view in api_routes():
        template = path.removeprefix(PREFIX)
        param = API_OBJECTS[template]
        url = path.format(**tour.params.get(path, {})) if param else path
        for method in _methods(view):
            for caller, client in callers.items():
                expected = EXCEPTIONS.get((caller, template), _expected(caller, template, param))
                if expected is None:
                    continue
                answer = _call(client, method, url, BODIES.get(template, {}), anonymous=caller == "anonymous")
                checked += 1
                if answer.status != expected or not _problem(answer):
                    wrong.append(f"{caller} {method} {url}: {answer.status} (expected {expected} problem+json)")
    assert owner.get(f"{PREFIX}/me").status == 200
    # and the other way round: a live object (a collection, which holds nothing) is not the test key's
    live = transaction_create(
        partner=tourist, mode=Mode.LIVE, kind=Transaction.Kind.COLLECTION, provider="wave", money=Money(500, "XOF")
    )
    live_path = f"{PREFIX}/transactions/{live.public_id}"
    assert callers["live key of the owner"].get(live_path).status == 200  # it exists, in its own mode
    if owner.get(live_path).status != 404:
        wrong.append(f"test key GET {live_path} (a live object): not 404")
    checked += 2
    assert wrong == [], "\n".join(wrong)
    assert checked >= 80, checked


def _all() -> list[str]:
    return list(ALL_SCOPES)


def _partner_of(tour: Tour) -> Partner:
    return Partner.objects.get(name="Tourist")  # tests/contract/tour.py start()


def _client(base_url: str, created: Any) -> AddonPartnerClient:
    return AddonPartnerClient(base_url, created.api_key, created.signing_secret)


def _expected(caller: str, template: str, param: str | None) -> int | None:
    if caller == "anonymous":
        return 401
    if caller == "no scope":
        return None if template in SCOPE_FREE else 403
    return 404 if param else None  # another partner, or the other mode: the object is not theirs


def _call(client: AddonPartnerClient, method: str, url: str, body: dict[str, str], *, anonymous: bool) -> Any:
    if anonymous:
        request = urllib.request.Request(
            client.base_url + url,
            data=None if method == "GET" else b"{}",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return AddonPartnerClient._response(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return AddonPartnerClient._response(error.code, error.headers, error.read())
    if method == "GET":
        return client.get(url)
    return client.request(method, url, json=body, idempotency_key=f"matrix-{method}-{url}")


# ---- admin, docs, callbacks, metrics, health, sandbox ----------------------------------------


@pytest.mark.django_db
def test_admin_and_docs_routes_send_strangers_to_the_login_page(django_user_model) -> None:  # type: ignore[no-untyped-def]
    partner_user = django_user_model.objects.create_user(username="partner-dev", password="irrelevant-pass-1")
    key = partner_create(name="Keyholder", mode=Mode.TEST, scopes=list(ALL_SCOPES)).api_key
    strangers = {"anonymous": Client(), "non-staff user": Client(), "partner API key": Client()}
    strangers["non-staff user"].force_login(partner_user)
    strangers["partner API key"].defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    wrong: list[str] = []
    checked = 0
    login = "/" + settings.ADMIN_URL + "login/"
    for route, pattern in all_routes():
        kind = family(route)
        if kind not in ("admin", "docs") or (kind == "admin" and pattern.name in ADMIN_PUBLIC):
            continue
        path = sample_path(route)
        for who, client in strangers.items():
            answer = client.get(path)
            checked += 1
            location = answer.get("Location", "")
            if answer.status_code != 302 or not location.startswith(login):
                wrong.append(f"{who} GET {path} ({pattern.name}): {answer.status_code} {location}")
    assert wrong == [], "\n".join(wrong)
    assert checked > 450, checked


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(CALLBACK_ROUTES))
def test_an_unsigned_callback_is_refused(client: Client, route: str) -> None:
    answer = client.post(
        "/" + route, data=json.dumps({"id": "EV_unsigned", "type": "x"}), content_type="application/json"
    )
    assert answer.status_code == 401
    assert not InboundCallback.objects.exclude(status="rejected").exists()


@pytest.mark.django_db
def test_metrics_are_refused_outside_the_allowed_networks(client: Client) -> None:
    with override_settings(METRICS_OPEN=False, METRICS_ALLOWED_NETWORKS=[ipaddress.ip_network("10.9.0.0/16")]):
        assert client.get("/metrics").status_code == 403
        assert client.get("/metrics", REMOTE_ADDR="10.9.1.2").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="10.9.1.2", HTTP_X_FORWARDED_FOR="10.9.1.3").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(OPEN_ROUTES - {"i18n/setlang/"}))
def test_health_is_open(client: Client, route: str) -> None:
    assert client.get("/" + route).status_code == 200


def test_the_sandbox_is_not_routed_in_production() -> None:
    code = (
        "from django.urls import get_resolver; "
        "print(sum(str(p.pattern).startswith('sandbox') for p in get_resolver().url_patterns))"
    )
    result = run_manage(production_env(AUDIT_LOG_KEY="a" * 40), "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "0"
