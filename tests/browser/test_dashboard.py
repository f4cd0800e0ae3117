"""The console in a real browser (tests/browser/conftest.py): the dashboard draws the gateway's own
figures with the bundled Chart.js, and nothing is fetched from another host."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.backoffice.test_site_dashboard import known_traffic
from tests.browser.conftest import admin_login, foreign_requests

pytestmark = pytest.mark.django_db(transaction=True)

# The sum of each drawn dataset, as Chart.js holds it.
DATASET_TOTALS = """
(selector) => Array.from(document.querySelectorAll(selector)).map((canvas) => {
  const chart = Chart.getChart(canvas);
  return chart ? chart.data.datasets.map((set) => [set.label, set.data.reduce((a, b) => a + (b || 0), 0)]) : null;
})
"""


def totals(page: Page, chart: str, window: str | None = None) -> list[list[object]]:
    selector = f'canvas[data-chart="{chart}"]' + (f'[data-window="{window}"]' if window else "")
    found = page.evaluate(DATASET_TOTALS, selector)
    assert len(found) == 1 and found[0] is not None, f"{selector} was not drawn"
    return found[0]  # type: ignore[no-any-return]


def test_the_dashboard_draws_the_known_data_set_with_nothing_from_another_host(
    page: Page,
    live_server,  # type: ignore[no-untyped-def]
    requested_urls: list[str],
    staff_user,  # type: ignore[no-untyped-def]
) -> None:
    from partners.models import Partner

    known_traffic(Partner.objects.create(name="Browser Partner", code="browser-partner"))
    admin_login(page, "staff", "correct-horse-battery")
    page.goto("/admin/?mode=test")
    page.wait_for_selector("#dashboard[data-drawn=true]")

    assert page.locator("canvas[data-chart]").count() == 10
    # 24 hours: 7 movements, 37,000 XOF; 30 days: one bank transfer more (tests/backoffice/test_site_dashboard.py)
    assert totals(page, "volume", "24h") == [["Opérations", 7]]
    assert totals(page, "volume", "30d") == [["Opérations", 8]]
    assert totals(page, "amount", "24h") == [["XOF", 37_000]]
    assert totals(page, "amount", "30d") == [["XOF", 57_000]]
    assert totals(page, "over_time", "24h") == [["Factures", 1], ["Mobile money", 6], ["Virements bancaires", 0]]
    success = page.evaluate(
        "() => { const c = Chart.getChart(document.querySelector('canvas[data-chart=success][data-window=\"24h\"]'));"
        " return [c.data.labels, c.data.datasets[0].data]; }"
    )
    assert success == [["niirpay", "orange_money", "wave"], [None, 100, 66.7]]
    assert totals(page, "unknown") == [["Opérations au résultat inconnu", 2]]
    assert page.locator("#batches-in-progress tbody tr").count() == 2

    assert foreign_requests(requested_urls, live_server.url) == []
    assert any(url.endswith("/static/backoffice/vendor/chart.umd.min.js") for url in requested_urls)


def test_staff_switch_the_console_to_english_in_the_header(
    page: Page,
    staff_user,  # type: ignore[no-untyped-def]
) -> None:
    admin_login(page, "staff", "correct-horse-battery")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "Addon Partner" in page.locator("#site-name").inner_text()

    with page.expect_navigation():
        page.click("#language-switch button[value=en]")

    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#content h1").inner_text() == "Dashboard"
    assert page.locator("#language-switch button[value=en]").is_disabled()
