"""Four-eyes in a real browser: an operator asks to force-resolve an ``unknown`` cash-in to
``succeeded``; the operator cannot approve it; a supervisor (with a TOTP second factor) approves;
the transaction is ``succeeded``, its hold captured once, and its staff event names both people."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from ledger.models import Hold, LedgerEntry, TransactionEvent
from ledger.selectors import ledger_check
from partners.services import partner_create
from tests.approvals.conftest import unknown_cash_in
from tests.browser.conftest import admin_login

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a-long-enough-password-1"


def member(django_user_model, username: str, role: str):  # type: ignore[no-untyped-def]
    user = django_user_model.objects.create_user(username=username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_operator_asks_supervisor_approves_and_the_timeline_names_both(page, django_user_model) -> None:  # type: ignore[no-untyped-def]
    member(django_user_model, "awa", "operator")
    supervisor = member(django_user_model, "moussa", "supervisor")
    device = TOTPDevice.objects.create(user=supervisor, name="phone", confirmed=True)
    txn = unknown_cash_in(partner_create(name="Live Pay", mode="live", scopes=["transactions.read"]))
    captured_before = LedgerEntry.objects.filter(posting__transaction=txn).count()

    admin_login(page, "awa", PASSWORD)
    page.goto(f"/admin/approvals/approvalrequest/add/?action=force_resolve&target={txn.public_id}")
    page.fill("#id_reason", "unknown for two days")
    page.select_option("#id_outcome", "succeeded")
    page.fill("#id_evidence", "Wave statement line 42")
    with page.expect_navigation():
        page.click("input[name=_ask]")
    request_url = page.url
    assert page.locator("#waiting").count() == 1 and page.locator("#decision-form").count() == 0
    page.context.clear_cookies()

    admin_login(page, "moussa", PASSWORD)
    assert page.locator("#otp-form").count() == 1  # a supervisor gives a second factor
    page.fill("#otp-form input[name=token]", f"{totp(device.bin_key):06d}")
    with page.expect_navigation():
        page.click("#otp-form input[type=submit]")
    page.goto(request_url)
    page.fill("#decision-form textarea", "statement checked")
    with page.expect_navigation():
        page.click("#decision-form input[value=approve]")

    txn.refresh_from_db()
    assert txn.status == "succeeded" and Hold.objects.get(transaction=txn).status == "captured"
    assert LedgerEntry.objects.filter(posting__transaction=txn).count() > captured_before
    event = TransactionEvent.objects.get(transaction=txn, to_status="succeeded")
    assert (event.cause, event.actor["maker"], event.actor["checker"]) == ("staff", "awa", "moussa")
    assert ledger_check().is_ok
