"""Every list and detail page of every model registered in the admin (iterated, so a model added
later is covered): personal data masked for staff without the permission, stored credentials shown
to nobody, every link on a page going to a page that exists (docs/conventions.md §38)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from mobilemoney.models import CashIn
from tests.admin.builders import CASH_IN_MSISDN, IBANS, MSISDNS, SECRETS, ConsoleData, models_without_rows
from tests.admin.conftest import client_for

RAILS = ("ledger", "payments", "mobilemoney", "banking", "notifications")
HREF = re.compile(r'<a\s[^>]*href="([^"]*)"')


def registered() -> list[type[models.Model]]:
    return sorted(admin.site._registry, key=lambda model: model._meta.label)


def full_forms(msisdn_or_iban: str) -> set[str]:
    """A number in full however it is written: E.164, without the plus, the nine national digits."""
    digits = msisdn_or_iban.lstrip("+")
    forms = {msisdn_or_iban, digits}
    if digits.startswith("221") and len(digits) == 12:
        forms.add(digits[3:])
    return forms


PERSONAL = sorted({form for value in (*MSISDNS, *IBANS) for form in full_forms(value)})


def pages(client: Client) -> Iterator[tuple[str, str, int, str]]:
    """(model, url, status, html) of the list and the first row's detail page of every model."""
    missing = models_without_rows(registered())
    assert not missing, f"no row to render for {missing}: add a builder in tests/admin/builders.py"
    for model in registered():
        opts = model._meta
        row = admin.site._registry[model].get_queryset(_request(client)).order_by("pk").first()
        assert row is not None, f"{opts.label}: the admin's queryset shows no row of the data built"
        for url in (
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]),
        ):
            response = client.get(url)
            yield opts.label, url, response.status_code, response.content.decode()


def _request(client: Client):  # type: ignore[no-untyped-def]
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = client.user  # type: ignore[attr-defined]
    return request


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = client_for(user)
    client.user = user  # type: ignore[attr-defined]
    return client


def test_staff_without_the_permission_never_see_a_full_phone_number_or_iban(
    console_data: ConsoleData, operator: Any
) -> None:
    seen = set()
    for label, url, status, html in pages(_client(operator)):
        assert status in (200, 403), (label, url, status)  # a page refused to the role shows nothing
        leaked = [value for value in PERSONAL if value in html]
        assert not leaked, f"{url} shows {leaked} to an operator"
        if status == 200:
            seen.add(label)
    rails = {m._meta.label for m in registered() if m._meta.app_label in RAILS}
    assert rails <= seen, f"operators cannot read {rails - seen}"


def test_nobody_sees_a_stored_credential_and_every_link_leads_somewhere(
    console_data: ConsoleData, admin_user: Any
) -> None:
    links: dict[str, str] = {}
    for _label, url, status, html in pages(_client(admin_user)):
        assert status == 200, (url, status)
        shown = [secret for secret in SECRETS if secret in html]
        assert not shown, f"{url} shows the stored credential(s) {shown}"
        links.update(dict.fromkeys(HREF.findall(html), url))
    dead = []
    for href, page in links.items():
        parts = urlsplit(href.replace("&amp;", "&"))
        if href.startswith("#") or (not parts.path and parts.query):
            continue  # a place on the same page, or the same list filtered
        if parts.netloc and parts.netloc != "testserver":
            continue  # another host's address (a partner's webhook URL): not a page of ours to resolve
        try:
            resolve(parts.path if parts.path.startswith("/") else urlsplit(page).path + parts.path)
        except Resolver404:
            dead.append(f"{href} (on {page})")
    assert not dead, "links to pages that do not exist:\n" + "\n".join(dead)
    assert len(links) > 100


@pytest.mark.parametrize("personal_data", [False, True], ids=["operator", "supervisor"])
def test_the_cash_in_page_masks_the_phone_number_unless_the_reader_may_see_it(
    console_data: ConsoleData, operator: Any, supervisor: Any, personal_data: bool
) -> None:
    cash_in = CashIn.objects.get(transaction=console_data.cash_in)
    client = _client(supervisor if personal_data else operator)
    change = reverse("admin:mobilemoney_cashin_change", args=[cash_in.pk])
    for url in (reverse("admin:mobilemoney_cashin_changelist"), change):
        html = client.get(url).content.decode()
        assert (CASH_IN_MSISDN in html) is personal_data, url
        assert ("22177•••••67" in html) is not personal_data, url
