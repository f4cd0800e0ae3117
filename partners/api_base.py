"""The base of every partner API view: authentication, scopes and the rate limit in place.

    class CashInCreateApi(PartnerApiView):
        required_scopes = ["mobile_money.cash_in"]

        def post(self, request):
            auth = self.partner_auth  # partner, mode, scopes, credential
            ...

The global REST_FRAMEWORK defaults stay empty on purpose: only views built on this class
speak to partners.
"""

from __future__ import annotations

from typing import ClassVar

from rest_framework.views import APIView

from partners.auth import PartnerApiKeyAuthentication, PartnerAuth, partner_auth_of
from partners.models import Partner
from partners.permissions import HasScope, ScopeRequirement
from partners.throttling import PartnerRateThrottle


class PartnerApiView(APIView):
    """An APIView for partners: API key + signature, ``required_scopes``, per-partner rate limit."""

    authentication_classes = [PartnerApiKeyAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [PartnerRateThrottle]
    required_scopes: ClassVar[ScopeRequirement | None] = None

    @property
    def partner_auth(self) -> PartnerAuth:
        return partner_auth_of(self.request)

    @property
    def partner(self) -> Partner:
        return self.partner_auth.partner

    @property
    def mode(self) -> str:
        return self.partner_auth.mode
