"""A real browser for the console's tests: Debian's Chromium driven by Playwright's sync API.

- ``browser``: one headless Chromium per test process (per xdist worker), launched from the
  system's ``chromium`` (``scripts/install-tools.sh`` installs it); Playwright never downloads a
  browser of its own. A missing Chromium fails the test: a skip would hide a missing service
  (docs/conventions.md §29).
- ``page``: a fresh context per test whose base URL is pytest-django's ``live_server`` (so the
  test's database is transactional), every request URL recorded in ``requested_urls``, and a
  screenshot saved on teardown to ``reports/screenshots/<test name>.png``.
- ``admin_login(page, username, password)``: signs in through the admin's login form.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "reports" / "screenshots"
TIMEOUT_MS = 15_000
# Schemes that never leave the machine: inline data, blobs made by the page, the blank page.
LOCAL_SCHEMES = {"data", "blob", "about"}


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("no chromium on PATH: run scripts/install-tools.sh (make setup does)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop running in this thread while it is started, and
    # Django's async-unsafe guard would then refuse every ORM call of the test (and of the
    # live_server fixture). The guard is Django's standard switch for this case; it is set only
    # while the browser lives, in this test process.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=args)
        yield launched
        launched.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def requested_urls() -> list[str]:
    """Every URL the test's page asked for, in order (documents, scripts, styles, fetches…)."""
    return []


@pytest.fixture
def page(browser: Browser, live_server, requested_urls: list[str], request: pytest.FixtureRequest) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    opened.on("request", lambda sent: requested_urls.append(sent.url))
    try:
        yield opened
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        opened.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        context.close()


def foreign_requests(urls: list[str], base_url: str) -> list[str]:
    """The URLs among ``urls`` that went to another host than ``base_url``'s."""
    home = urlsplit(base_url).netloc
    return [url for url in urls if urlsplit(url).scheme not in LOCAL_SCHEMES and urlsplit(url).netloc != home]


def admin_login(page: Page, username: str, password: str) -> None:
    """Sign in through the admin's own login form; fails if the form answers with an error."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("#login-form [type=submit]")
    errors = page.locator(".errornote")
    if errors.count():
        pytest.fail(f"admin login refused for {username!r}: {errors.first.inner_text()}", pytrace=False)
