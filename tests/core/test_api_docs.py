"""The OpenAPI schema and its UIs: staff only, served from our own static files; the browser
fetches nothing from another host (no web font, no CDN logo: the Redoc bundle is served with a
local logo, and the pages' Content-Security-Policy allows this origin only)."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client

DOC_URLS = ["/api/docs/", "/api/redoc/", "/api/schema/"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", DOC_URLS)
def test_anonymous_is_sent_to_the_login_page(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
@pytest.mark.parametrize("url", DOC_URLS)
def test_non_staff_user_is_refused(client: Client, django_user_model, url: str) -> None:  # type: ignore[no-untyped-def]
    user = django_user_model.objects.create_user(username="partner-dev", password="irrelevant-password-1")
    client.force_login(user)
    assert client.get(url).status_code == 302


@pytest.mark.django_db
def test_schema_is_openapi_for_staff(staff_client: Client) -> None:
    response = staff_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Addon Partner API"


def asset_urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_ui_loads_only_same_origin_assets(staff_client: Client, url: str) -> None:
    response = staff_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assets = asset_urls(html)
    assert assets, "the page should load its UI bundle"
    # nothing on another host (CDNs, web fonts) anywhere in the page
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost|testserver)", html), re.findall(r"https?://\S+", html)
    for asset in assets:
        parts = urlsplit(asset)
        assert not parts.netloc, asset
        if asset.startswith("/static/"):
            fetched = staff_client.get(asset)
            assert fetched.status_code == 200, asset
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts and all(a.startswith(("/static/", "/api/")) for a in scripts)


@pytest.mark.django_db
def test_swagger_init_script_points_at_our_schema(staff_client: Client) -> None:
    html = staff_client.get("/api/docs/").content.decode()
    init = [a for a in asset_urls(html) if "swagger-ui" not in a and a.endswith(".js")]
    body = html if not init else staff_client.get(init[0]).content.decode()
    assert "/api/schema/" in body


# What a browser would fetch by itself from a script: an image, a style sheet, a font or a script
# named by an absolute URL in code (a plain link a person may click, or an identifier such as a
# JSON Schema $id, is not fetched).
RESOURCE_URL = re.compile(
    r"""(?:\bsrc\s*[:=]\s*|\burl\(\s*|@import\s+|\bfetch\(\s*|stylesheet["'][^>]{0,80}href\s*=\s*)"""
    r"""["'`]?(https?://[^"'`\s)]+)"""
)


def page_scripts(staff_client: Client, url: str) -> dict[str, str]:
    html = staff_client.get(url).content.decode()
    return {
        asset: b"".join(staff_client.get(asset)).decode()  # type: ignore[arg-type]
        for asset in asset_urls(html)
        if asset.endswith(".js") or "script" in asset
    }


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_ui_scripts_name_no_outside_resource(staff_client: Client, url: str) -> None:
    scripts = page_scripts(staff_client, url)
    assert scripts
    for asset, text in scripts.items():
        outside = [u for u in RESOURCE_URL.findall(text) if urlsplit(u).hostname not in ("127.0.0.1", "localhost")]
        assert not outside, f"{asset} would fetch {outside}"


@pytest.mark.django_db
def test_swagger_ui_asks_no_outside_validator(staff_client: Client) -> None:
    """Swagger UI's bundle fetches a validity badge from validator.swagger.io unless told not to."""
    html = staff_client.get("/api/docs/").content.decode()
    scripts = page_scripts(staff_client, "/api/docs/")
    init = html + "".join(text for asset, text in scripts.items() if "swagger-ui" not in asset)
    assert re.search(r'"validatorUrl":\s*null', init), init[:400]


def test_the_resource_check_sees_the_sidecar_redoc_logo() -> None:
    """The sidecar's own bundle names Redocly's logo on a CDN: the check above would catch it."""
    from django.contrib.staticfiles import finders

    from core.api.docs import REDOC_BUNDLE, REDOC_CDN_LOGO

    found = finders.find(REDOC_BUNDLE)
    assert isinstance(found, str)
    assert RESOURCE_URL.findall(Path(found).read_text(encoding="utf-8")) == [REDOC_CDN_LOGO]


@pytest.mark.django_db
def test_redoc_loads_its_bundle_with_a_local_logo(staff_client: Client) -> None:
    html = staff_client.get("/api/redoc/").content.decode()
    assert "/api/redoc/redoc.standalone.js" in asset_urls(html)
    bundle = b"".join(staff_client.get("/api/redoc/redoc.standalone.js")).decode()  # type: ignore[arg-type]
    assert "cdn.redoc.ly" not in bundle and "data:image/svg+xml," in bundle
    assert 'spec-url="/api/schema/"' in html


@pytest.mark.django_db
def test_redoc_bundle_is_staff_only(client: Client) -> None:
    assert client.get("/api/redoc/redoc.standalone.js").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_ui_pages_let_the_browser_fetch_from_this_origin_only(staff_client: Client, url: str) -> None:
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in staff_client.get(url)["Content-Security-Policy"].split(";")
        if directive.strip()
    }
    assert policy["default-src"] == ["'self'"]
    for directive in ("script-src", "style-src", "img-src", "font-src", "connect-src", "worker-src"):
        sources = policy.get(directive, policy["default-src"])
        assert set(sources) <= {"'self'", "'unsafe-inline'", "data:", "blob:"}, (directive, sources)
