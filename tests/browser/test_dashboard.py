"""The console in a real browser (tests/browser/conftest.py): sign-in, and nothing fetched elsewhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import admin_login, foreign_requests

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_signs_in_and_the_console_fetches_nothing_from_another_host(
    page: Page,
    live_server,
    requested_urls: list[str],
    staff_user,  # type: ignore[no-untyped-def]
) -> None:
    admin_login(page, "staff", "correct-horse-battery")

    assert page.url == f"{live_server.url}/admin/"
    assert page.locator("#user-tools").inner_text().upper().count("STAFF") == 1
    assert requested_urls, "the page recorded no request"
    assert foreign_requests(requested_urls, live_server.url) == []
