"""OpenAPI description of the partner authentication (drf-spectacular extension)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PartnerApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "partners.auth.PartnerApiKeyAuthentication"
    name = "PartnerApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "Authorization: Bearer ak_test_… or ak_live_…. Requests that change anything also carry "
                "X-Signature: t=<unix seconds>,v1=<hex>, v1 = HMAC-SHA256(signing secret, "
                '"<t>\\n<METHOD>\\n<path with query>\\n" + raw body). See docs/partner-api.md.'
            ),
        }
