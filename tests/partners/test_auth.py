"""The partner API authentication matrix, over real HTTP (live_server) with the Python client."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from clients.python.addon_partner_client import AddonPartnerClient
from partners.models import ApiCredential, Mode
from partners.selectors import signing_secret_list_active
from partners.services import (
    api_credential_issue,
    api_credential_revoke,
    partner_reactivate,
    partner_suspend,
    partner_update,
    signing_secret_revoke,
    signing_secret_revoke_previous,
    signing_secret_rotate,
)
from tests.partners.conftest import WHOAMI, client_for

pytestmark = [pytest.mark.urls("tests.partners.urls"), pytest.mark.django_db(transaction=True)]

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "errors", "request_id"}


def assert_problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status == status, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    assert set(response.body) >= PROBLEM_KEYS
    assert (response.body["status"], response.body["code"]) == (status, code)
    assert response.body["request_id"] == response.headers["X-Request-ID"]
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return response.body


def raw_request(url: str, *, method: str = "GET", body: bytes | None = None, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    """A request exactly as given (no client-side signing), answered as (status, problem body)."""
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


@pytest.fixture
def partner(make_partner):  # type: ignore[no-untyped-def]
    return make_partner(name="Acme Pay", scopes=["transactions.read", "balances.read"])


@pytest.fixture
def api(live_server, partner) -> AddonPartnerClient:  # type: ignore[no-untyped-def]
    return client_for(live_server, partner)


# --- success paths ---------------------------------------------------------------------------


def test_get_needs_no_signature_and_exposes_the_auth_context(live_server, partner) -> None:  # type: ignore[no-untyped-def]
    status, body = raw_request(live_server.url + WHOAMI, headers={"Authorization": f"Bearer {partner.api_key}"})
    assert status == 200
    assert body == {
        "partner": partner.partner.public_id,
        "user": partner.partner.public_id,
        "mode": "test",
        "scopes": ["balances.read", "transactions.read"],
        "credential": partner.credential.key_prefix,
        "log_partner": partner.partner.public_id,
    }
    assert partner.credential.key_prefix.startswith("ak_test_")
    partner.credential.refresh_from_db()
    assert partner.credential.last_used_at is not None


def test_signed_post_reaches_the_view_with_its_body_parsed(api) -> None:  # type: ignore[no-untyped-def]
    response = api.post(WHOAMI + "?page=2&q=a%20b", json={"amount": "1500", "note": "é"})
    assert response.status == 201, response.body
    assert response.body["received"] == {"amount": "1500", "note": "é"}


def test_signed_delete_with_an_empty_body(api) -> None:  # type: ignore[no-untyped-def]
    assert api.request("DELETE", WHOAMI).status == 204


def test_live_key_gives_live_mode(live_server, make_partner) -> None:  # type: ignore[no-untyped-def]
    created = make_partner(mode=Mode.LIVE, scopes=["transactions.read"])
    response = client_for(live_server, created).post(WHOAMI, json={})
    assert response.status == 201
    assert response.body["mode"] == "live"
    assert response.body["credential"].startswith("ak_live_")


def test_test_secret_does_not_sign_for_the_live_key(live_server, partner) -> None:  # type: ignore[no-untyped-def]
    live_key = api_credential_issue(partner=partner.partner, mode=Mode.LIVE).api_key
    signing_secret_rotate(partner=partner.partner, mode=Mode.LIVE)
    client = AddonPartnerClient(live_server.url, live_key, partner.signing_secret)
    assert_problem(client.post(WHOAMI, json={}), 401, "invalid_signature")


# --- 401 ---------------------------------------------------------------------------------------


def test_no_key(live_server) -> None:  # type: ignore[no-untyped-def]
    status, body = raw_request(live_server.url + WHOAMI, headers={})
    assert (status, body["code"]) == (401, "authentication_required")


def test_unknown_key(live_server, partner) -> None:  # type: ignore[no-untyped-def]
    client = AddonPartnerClient(live_server.url, "ak_test_" + "x" * 43, partner.signing_secret)
    assert_problem(client.get(WHOAMI), 401, "invalid_api_key")


def test_not_a_bearer_header(live_server, partner) -> None:  # type: ignore[no-untyped-def]
    status, body = raw_request(live_server.url + WHOAMI, headers={"Authorization": f"Basic {partner.api_key}"})
    assert (status, body["code"]) == (401, "invalid_api_key")


def test_revoked_key(api, partner) -> None:  # type: ignore[no-untyped-def]
    assert api.get(WHOAMI).status == 200
    api_credential_revoke(credential=partner.credential)
    assert_problem(api.get(WHOAMI), 401, "invalid_api_key")
    assert_problem(api.post(WHOAMI, json={}), 401, "invalid_api_key")


def test_missing_signature_on_a_change(live_server, partner) -> None:  # type: ignore[no-untyped-def]
    status, body = raw_request(
        live_server.url + WHOAMI,
        method="POST",
        body=b"{}",
        headers={"Authorization": f"Bearer {partner.api_key}", "Content-Type": "application/json"},
    )
    assert (status, body["code"]) == (401, "invalid_signature")


@pytest.mark.parametrize(
    "header",
    ["t=abc,v1=" + "0" * 64, "v1=" + "0" * 64, "t=1", "t=1,v1=XYZ", "t=1,v1=" + "0" * 64 + ",v2=00", "garbage"],
)
def test_malformed_signature_header(live_server, partner, header: str) -> None:  # type: ignore[no-untyped-def]
    status, body = raw_request(
        live_server.url + WHOAMI,
        method="POST",
        body=b"{}",
        headers={"Authorization": f"Bearer {partner.api_key}", "X-Signature": header},
    )
    assert (status, body["code"]) == (401, "invalid_signature")


def test_wrong_signature(live_server, partner) -> None:  # type: ignore[no-untyped-def]
    client = client_for(live_server, partner, secret="ss_test_not-the-partner-secret")
    assert_problem(client.post(WHOAMI, json={"a": 1}), 401, "invalid_signature")


def test_tampered_body(live_server, api) -> None:  # type: ignore[no-untyped-def]
    url = live_server.url + WHOAMI
    headers = api.auth_headers("POST", url, b'{"amount":"1500"}')
    status, body = raw_request(
        url, method="POST", body=b'{"amount":"9500"}', headers={**headers, "Content-Type": "application/json"}
    )
    assert (status, body["code"]) == (401, "invalid_signature")


def test_tampered_query_string(live_server, api) -> None:  # type: ignore[no-untyped-def]
    headers = api.auth_headers("POST", live_server.url + WHOAMI + "?limit=1", b"{}")
    status, body = raw_request(
        live_server.url + WHOAMI + "?limit=100",
        method="POST",
        body=b"{}",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert (status, body["code"]) == (401, "invalid_signature")


def test_signature_301_seconds_old(api) -> None:  # type: ignore[no-untyped-def]
    response = api.request("POST", WHOAMI, json={}, t=int(time.time()) - 301)
    assert_problem(response, 401, "signature_expired")


def test_signature_301_seconds_in_the_future(api) -> None:  # type: ignore[no-untyped-def]
    response = api.request("POST", WHOAMI, json={}, t=int(time.time()) + 301)
    assert_problem(response, 401, "signature_expired")


def test_signature_inside_the_window_is_accepted(api) -> None:  # type: ignore[no-untyped-def]
    assert api.request("POST", WHOAMI, json={"n": 1}, t=int(time.time()) - 290).status == 201
    assert api.request("POST", WHOAMI, json={"n": 2}, t=int(time.time()) + 290).status == 201


def test_exact_replay_is_refused(api) -> None:  # type: ignore[no-untyped-def]
    t = int(time.time())
    assert api.request("POST", WHOAMI, json={"n": 1}, t=t).status == 201
    assert_problem(api.request("POST", WHOAMI, json={"n": 1}, t=t), 401, "signature_replayed")
    # the same body signed at another second is a new request
    assert api.request("POST", WHOAMI, json={"n": 1}, t=t - 1).status == 201


# --- 403 ---------------------------------------------------------------------------------------


def test_missing_scope(api) -> None:  # type: ignore[no-untyped-def]
    body = assert_problem(api.post("/t/partner/bills", json={}), 403, "scope_missing")
    assert "bills.pay" in body["detail"]


def test_granted_scope(live_server, make_partner) -> None:  # type: ignore[no-untyped-def]
    created = make_partner(scopes=["bills.pay"])
    assert client_for(live_server, created).post("/t/partner/bills", json={}).status == 201


def test_address_outside_the_allowlist(api, partner) -> None:  # type: ignore[no-untyped-def]
    partner_update(partner=partner.partner, ip_allowlist=["203.0.113.0/24", "2001:db8::/32"])
    assert_problem(api.get(WHOAMI), 403, "ip_not_allowed")
    assert_problem(api.post(WHOAMI, json={}), 403, "ip_not_allowed")
    partner_update(partner=partner.partner, ip_allowlist=["203.0.113.0/24", "127.0.0.0/8"])
    assert api.get(WHOAMI).status == 200


def test_suspended_partner(api, partner) -> None:  # type: ignore[no-untyped-def]
    partner_suspend(partner=partner.partner)
    assert_problem(api.get(WHOAMI), 403, "partner_suspended")
    partner_reactivate(partner=partner.partner)
    assert api.get(WHOAMI).status == 200


# --- signing secret rotation -------------------------------------------------------------------


def test_both_secrets_work_during_rotation_and_the_old_one_stops_after(live_server, partner) -> None:  # type: ignore[no-untyped-def]
    old, new = partner.signing_secret, signing_secret_rotate(partner=partner.partner, mode=Mode.TEST).secret
    assert client_for(live_server, partner, secret=old).post(WHOAMI, json={"s": "old"}).status == 201
    assert client_for(live_server, partner, secret=new).post(WHOAMI, json={"s": "new"}).status == 201

    assert signing_secret_revoke_previous(partner=partner.partner, mode=Mode.TEST) == 1
    refused = client_for(live_server, partner, secret=old).post(WHOAMI, json={"s": "old again"})
    assert_problem(refused, 401, "invalid_signature")
    assert client_for(live_server, partner, secret=new).post(WHOAMI, json={"s": "new again"}).status == 201


def test_revoking_one_secret_refuses_it_at_once(live_server, partner) -> None:  # type: ignore[no-untyped-def]
    new = signing_secret_rotate(partner=partner.partner, mode=Mode.TEST)
    signing_secret_revoke(signing_secret=new.signing_secret)
    assert_problem(client_for(live_server, partner, secret=new.secret).post(WHOAMI, json={}), 401, "invalid_signature")
    assert client_for(live_server, partner).post(WHOAMI, json={}).status == 201
    active = list(signing_secret_list_active(partner=partner.partner, mode=Mode.TEST))
    assert len(active) == 1
    assert active[0].secret == partner.signing_secret


def test_a_view_without_declared_scopes_is_a_500_not_an_open_door(api) -> None:  # type: ignore[no-untyped-def]
    assert_problem(api.get("/t/partner/undeclared"), 500, "internal_error")


def test_last_used_at_is_written_at_most_once_a_minute(api, partner) -> None:  # type: ignore[no-untyped-def]
    api.get(WHOAMI)
    first = ApiCredential.objects.get(pk=partner.credential.pk).last_used_at
    api.get(WHOAMI)
    assert ApiCredential.objects.get(pk=partner.credential.pk).last_used_at == first


# --- raw bodies other than JSON ------------------------------------------------------------------

MULTIPART = (
    b"--BOUNDARY\r\n"
    b'Content-Disposition: form-data; name="label"\r\n\r\n'
    b"march payroll\r\n"
    b"--BOUNDARY\r\n"
    b'Content-Disposition: form-data; name="file"; filename="items.csv"\r\n'
    b"Content-Type: text/csv\r\n\r\n"
    b"msisdn,amount\n+221771234567,1500\n\r\n"
    b"--BOUNDARY--\r\n"
)


def test_signed_multipart_upload_is_verified_then_parsed(live_server, make_partner) -> None:  # type: ignore[no-untyped-def]
    created = make_partner(scopes=["mobile_money.cash_in"])
    response = client_for(live_server, created).post(
        "/t/partner/upload", data=MULTIPART, headers={"Content-Type": "multipart/form-data; boundary=BOUNDARY"}
    )
    assert response.status == 200, response.body
    assert response.body == {
        "name": "items.csv",
        "content": "msisdn,amount\n+221771234567,1500\n",
        "label": "march payroll",
    }
    tampered = MULTIPART.replace(b"1500", b"9500")
    url = live_server.url + "/t/partner/upload"
    headers = client_for(live_server, created).auth_headers("POST", url, MULTIPART)
    status, body = raw_request(
        url,
        method="POST",
        body=tampered,
        headers={**headers, "Content-Type": "multipart/form-data; boundary=BOUNDARY"},
    )
    assert (status, body["code"]) == (401, "invalid_signature")


def test_a_body_over_the_upload_limit_is_413(api, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(WHOAMI, json={"padding": "x" * 2000})
    assert_problem(response, 413, "payload_too_large")
