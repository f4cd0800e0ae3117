"""The console's site (backoffice/site.py): the names on every page, no dead link, French first.

The partner API keeps answering in English whatever the caller's language (backoffice/language.py).
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from backoffice.site import GatewaySite

pytestmark = pytest.mark.django_db

BANK = "Banque de l'Essai"


@pytest.fixture(autouse=True)
def bank_name(settings) -> str:  # type: ignore[no-untyped-def]
    settings.BANK_NAME = BANK
    return BANK


def console_pages() -> list[str]:
    """The index, the password change, and the list and add page of every model of the console."""
    pages = [reverse("admin:index"), reverse("admin:password_change")]
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model_admin.has_add_permission(_superuser_request()):
            pages.append(reverse("admin:{}_{}_add".format(*info)))
    return pages


def _superuser_request() -> HttpRequest:
    request = RequestFactory().get("/")
    request.user = User(is_staff=True, is_superuser=True, is_active=True)
    return request


def names_shown(html: str) -> bool:
    escaped = BANK.replace("'", "&#x27;")
    return "Addon Partner" in html and escaped in html


def test_the_default_admin_site_is_the_gateways() -> None:
    assert isinstance(admin.site._wrapped, GatewaySite)  # type: ignore[attr-defined]
    assert admin.site.site_url is None  # no "View site" link: the gateway has no public page


def test_every_page_of_the_console_names_the_gateway_and_the_bank(staff_client: Client) -> None:
    login = Client().get(reverse("admin:login"))
    assert login.status_code == 200 and names_shown(login.content.decode())

    pages = console_pages()
    assert len(pages) > 10
    for page in pages:
        response = staff_client.get(page)
        assert response.status_code == 200, (page, response.status_code)
        html = response.content.decode()
        assert names_shown(html), page
        # no "View site" (Django's link to site_url), in either language
        assert "View site" not in html and "Voir le site" not in html, page
        assert not re.search(r'href="/"', html), page


def test_the_console_speaks_french_by_default_and_english_after_the_switch(staff_client: Client) -> None:
    french = staff_client.get(reverse("admin:index"))
    html = french.content.decode()
    assert french["Content-Language"] == "fr"
    assert '<html lang="fr"' in html and "Tableau de bord" in html and "Déconnexion" in html
    assert 'action="/i18n/setlang/"' in html  # the switch is in the header

    switched = staff_client.post("/i18n/setlang/", {"language": "en", "next": reverse("admin:index")})
    assert switched.status_code == 302 and switched["Location"] == reverse("admin:index")

    english = staff_client.get(reverse("admin:index"))
    html = english.content.decode()
    assert english["Content-Language"] == "en"
    assert '<html lang="en"' in html and "Dashboard" in html and "Log out" in html
    assert "Tableau de bord" not in html

    staff_client.post("/i18n/setlang/", {"language": "fr", "next": reverse("admin:index")})
    assert "Tableau de bord" in staff_client.get(reverse("admin:index")).content.decode()


def test_a_language_the_console_does_not_speak_falls_back_to_french(staff_client: Client) -> None:
    staff_client.cookies["django_language"] = "de"
    assert staff_client.get(reverse("admin:index"))["Content-Language"] == "fr"


def test_the_partner_api_stays_english_after_a_french_console_page(staff_client: Client) -> None:
    # the same thread has just rendered a French page; the API's problem+json must not follow it
    assert staff_client.get(reverse("admin:index"))["Content-Language"] == "fr"
    assert translation.get_language() == "en-us"  # put back after the console's answer
    client = Client()
    client.cookies["django_language"] = "fr"
    answer = client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")

    assert answer.status_code == 401
    assert answer["Content-Type"].startswith("application/problem+json")
    assert answer.json()["title"] == "Authentication failed"
    assert answer.json()["detail"] == "Send your API key as 'Authorization: Bearer <key>'."
    missing = client.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="fr")
    assert missing.status_code == 404 and "Content-Language" not in missing


def test_the_dashboard_page_runs_no_inline_script(staff_client: Client) -> None:
    html = staff_client.get(reverse("admin:index")).content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts
    for attributes, body in scripts:
        assert "src=" in attributes or 'type="application/json"' in attributes, attributes
        assert "src=" not in attributes or not body.strip()
    assert 'id="dashboard-data"' in html
    assert "/static/backoffice/vendor/chart.umd.min.js" in html and "/static/backoffice/dashboard.js" in html


def test_every_link_of_the_first_page_leads_to_a_page_that_answers(staff_client: Client) -> None:
    html = staff_client.get(reverse("admin:index")).content.decode()
    links = sorted({link for link in re.findall(r'href="([^"#]+)"', html) if not link.startswith("/static/")})
    assert len(links) > 10
    for link in links:
        assert link.startswith(("/", "?")), link  # nothing on another host
        target = reverse("admin:index") + link if link.startswith("?") else link
        assert staff_client.get(target).status_code == 200, link
