"""The OpenAPI schema and its UIs: staff only, served from our own static files."""

import re
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
