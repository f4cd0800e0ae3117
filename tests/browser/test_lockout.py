"""In a real browser: five wrong passwords lock a user name out, and a supervisor enrols a second
factor from the QR code page (docs/staff-security.md §2). Screenshots land in reports/screenshots/."""

from __future__ import annotations

from base64 import b32encode

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page

from backoffice.models import AuditRecord
from backoffice.services import staff_user_create
from tests.backoffice.conftest import totp_code
from tests.browser.conftest import SCREENSHOTS, admin_login, foreign_requests

pytestmark = pytest.mark.django_db(transaction=True)


def submit_login(page: Page, username: str, password: str) -> int:
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation() as navigation:
        page.click("#login-form [type=submit]")
    response = navigation.value
    assert response is not None
    return response.status


def test_five_wrong_passwords_then_the_right_one_is_refused(page: Page) -> None:
    staff = staff_user_create(username="awa", email="awa@bank.example", role="operator")
    for _ in range(4):
        assert submit_login(page, "awa", "wrong-password-1") == 200
        assert page.locator(".errornote").count() == 1
    assert submit_login(page, "awa", "wrong-password-1") == 429
    assert submit_login(page, "awa", staff.password) == 429
    assert "(5)" in page.locator("#lockout-message").inner_text()  # the failure limit, in any language
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "lockout_page.png"), full_page=True)
    page.goto("/admin/")
    assert page.url.endswith("/admin/login/?next=/admin/")  # not signed in
    assert AuditRecord.objects.filter(action="auth.locked_out", target="user:awa").exists()
    assert not AuditRecord.objects.filter(action="auth.login").exists()


def test_a_supervisor_enrols_from_the_qr_code_page(page: Page, requested_urls: list[str], live_server) -> None:  # type: ignore[no-untyped-def]
    staff = staff_user_create(username="sup", email="sup@bank.example", role="supervisor")
    admin_login(page, "sup", staff.password)
    assert "/admin/otp/enrol/" in page.url
    assert page.locator(".otp-qr svg").count() == 1
    device = TOTPDevice.objects.get(user=staff.user, confirmed=False)
    assert page.locator(".otp-key").inner_text() == b32encode(device.bin_key).decode()  # for manual entry
    page.fill("#id_token", totp_code(device))
    with page.expect_navigation():
        page.click("#otp-form [type=submit]")
    assert page.url.endswith("/admin/")
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert foreign_requests(requested_urls, live_server.url) == []
