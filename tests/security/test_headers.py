"""Security headers on every response (issue 17, item 8), under the production settings: the
values are read from a production-configured process, then applied to this one (the test
client), so a setting dropped from config/settings.py fails here.

Every answer carries nosniff, ``X-Frame-Options: DENY``, a Referrer-Policy, HSTS and a
Content-Security-Policy; the admin's CSP allows scripts from this origin only (its pages carry no
inline script, so they still work) and data: images (its icons); the API docs pages keep their
own policy, which lets their inline init script run. Session and CSRF cookies are Secure and
HttpOnly."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from core.api.docs import CONTENT_SECURITY_POLICY as DOCS_POLICY
from tests.core.test_settings import production_env, run_manage

SECURITY_SETTINGS = [
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_PROXY_SSL_HEADER",
    "X_FRAME_OPTIONS",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CONTENT_SECURITY_POLICY",
    "MIDDLEWARE",
]


@pytest.fixture(scope="module")
def production_security() -> dict[str, Any]:
    names = repr(SECURITY_SETTINGS)
    code = (
        f"import json; from django.conf import settings as s; print(json.dumps({{n: getattr(s, n) for n in {names}}}))"
    )
    result = run_manage(production_env(AUDIT_LOG_KEY="a" * 40), "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    values: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


def assert_common_headers(response: Any) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    hsts = response["Strict-Transport-Security"]
    assert (
        re.fullmatch(r"max-age=(\d+); includeSubDomains; preload", hsts)
        and int(hsts.split("=")[1].split(";")[0]) >= 31536000
    )
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def inline_scripts(html: str) -> list[str]:
    """Scripts the admin's CSP would block: inline code and inline event handlers."""
    found = [
        tag
        for tag in re.findall(r"<script\b[^>]*>", html)
        if "src=" not in tag and 'type="application/json"' not in tag
    ]
    return found + re.findall(r"\son[a-z]+\s*=", html)


@pytest.mark.django_db
def test_every_kind_of_page_carries_the_headers(production_security: dict[str, Any], django_user_model) -> None:  # type: ignore[no-untyped-def]
    staff = django_user_model.objects.create_user(
        username="ops", password="x-irrelevant-1", is_staff=True, is_superuser=True
    )
    with override_settings(**production_security, ALLOWED_HOSTS=["testserver"]):
        anonymous, logged_in = Client(), Client()
        logged_in.force_login(staff)
        login_page = anonymous.get(reverse("admin:login"), secure=True)
        pages = {
            "admin login": login_page,
            "api": anonymous.get("/api/v1/me", secure=True),
            "health": anonymous.get("/health/live", secure=True),
            "docs": logged_in.get("/api/docs/", secure=True),
            "not found": anonymous.get("/nowhere", secure=True),
        }
        for name, response in pages.items():
            assert response.status_code in (200, 401, 404), (name, response.status_code)
            assert_common_headers(response)
        admin_policy = directives(login_page["Content-Security-Policy"])
        assert admin_policy["script-src"] == ["'self'"]
        assert admin_policy["default-src"] == ["'self'"] and admin_policy["object-src"] == ["'none'"]
        assert {"'self'", "data:"} <= set(admin_policy["img-src"])
        assert inline_scripts(login_page.content.decode()) == []  # so the admin works under script-src 'self'
        assert pages["docs"]["Content-Security-Policy"] == DOCS_POLICY  # the docs keep their own policy


@pytest.mark.django_db
def test_the_staff_session_and_csrf_cookies_are_secure_and_http_only(
    production_security: dict[str, Any], django_user_model
) -> None:  # type: ignore[no-untyped-def]
    django_user_model.objects.create_user(username="ops", password="x-irrelevant-1", is_staff=True)
    with override_settings(**production_security, ALLOWED_HOSTS=["testserver"]):
        client = Client()
        page = client.get(reverse("admin:login"), secure=True)
        csrf = page.cookies["csrftoken"]
        assert csrf["secure"] and csrf["httponly"]
        signed_in = client.post(
            reverse("admin:login"),
            {"username": "ops", "password": "x-irrelevant-1", "csrfmiddlewaretoken": csrf.value, "next": "/"},
            secure=True,
        )
        assert signed_in.status_code == 302, signed_in.content[:500]
        session = signed_in.cookies["sessionid"]
        assert session["secure"] and session["httponly"]


def test_the_csp_middleware_is_installed_in_production(production_security: dict[str, Any]) -> None:
    middleware = production_security["MIDDLEWARE"]
    assert "csp.middleware.CSPMiddleware" in middleware
    assert middleware.index("django.middleware.security.SecurityMiddleware") < middleware.index(
        "csp.middleware.CSPMiddleware"
    )
