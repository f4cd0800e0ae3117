"""The OpenAPI schema describes the partner authentication of PartnerApiView endpoints."""

from __future__ import annotations

from drf_spectacular.generators import SchemaGenerator

from tests.partners import urls


def test_partner_views_declare_the_bearer_scheme() -> None:
    schema = SchemaGenerator(patterns=urls.urlpatterns).get_schema(request=None, public=True)
    scheme = schema["components"]["securitySchemes"]["PartnerApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "X-Signature" in scheme["description"]
    assert schema["paths"]["/t/partner/bills"]["post"]["security"] == [{"PartnerApiKey": []}]
