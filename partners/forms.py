"""Console forms of onboarding: validation only; the admin saves through partners.services."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from core.errors import GatewayError
from partners.models import Mode, Partner, ProviderConnection, Rail, Scope
from partners.registry import connector_names
from partners.selectors import partner_has_live_access
from partners.services import clean_ip_allowlist
from partners.webhooks import validate_webhook_url


class PartnerForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, required=False, widget=forms.CheckboxSelectMultiple)
    ip_allowlist = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="one CIDR or address per line; empty: any address",
    )

    class Meta:
        model = Partner
        fields = ["name", "code", "contact_name", "contact_email", "contact_phone", "webhook_url", "scopes"]
        fields += ["ip_allowlist", "rate_limit_per_minute"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["ip_allowlist"] = "\n".join(self.instance.ip_allowlist or [])

    def clean_ip_allowlist(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["ip_allowlist"].splitlines() if line.strip()]
        return _gateway_checked(clean_ip_allowlist, lines)

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"].strip()
        if url:
            live = self.instance.pk is not None and partner_has_live_access(partner=self.instance)
            _gateway_checked(validate_webhook_url, url, Mode.LIVE if live else Mode.TEST)
        return url


def _gateway_checked(check: Any, *args: Any) -> Any:
    """Run a service check; its refusal becomes the form field's error."""
    try:
        return check(*args)
    except GatewayError as exc:
        raise forms.ValidationError(exc.detail) from None


class ProviderConnectionForm(forms.ModelForm):
    """Credentials are write-only: never rendered back, only "•••• set" or "not set"."""

    connector = forms.ChoiceField(choices=())
    credentials_json = forms.CharField(
        label="credentials",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text="a JSON object; stored encrypted and never shown. Leave empty to keep what is stored.",
    )

    class Meta:
        model = ProviderConnection
        fields = ["partner", "mode", "connector", "base_url", "connect_timeout_seconds", "read_timeout_seconds"]
        fields += ["limits", "is_enabled", "provider_code", "currency"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["connector"].choices = [(name, name) for name in connector_names()]  # type: ignore[attr-defined]
        stored = self.instance.pk is not None and ProviderConnection.objects.filter(pk=self.instance.pk).exists()
        status = "•••• set" if stored and self.instance.credentials else "not set"
        self.fields["credentials_json"].help_text = f"{status}. {self.fields['credentials_json'].help_text}"
        self.initial["credentials_json"] = ""  # never rendered back
        self.fields["currency"].required = False  # XOF unless said (partners/providers.py)

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"] or "XOF").upper()

    def clean_credentials_json(self) -> dict[str, Any] | None:
        raw = self.cleaned_data["credentials_json"].strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError("not valid JSON") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("must be a JSON object of credential names and values")
        return value


class LimitForm(forms.Form):
    mode = forms.ChoiceField(choices=Mode.choices)
    rail = forms.ChoiceField(choices=Rail.choices)
    currency = forms.CharField(max_length=3, initial="XOF")
    max_per_transaction = forms.CharField(required=False, help_text="major units; empty: no limit")
    max_per_day = forms.CharField(required=False, help_text="major units; empty: no limit")


class CredentialsForm(forms.Form):
    mode = forms.ChoiceField(choices=Mode.choices, initial=Mode.TEST)
    nonce = forms.CharField(widget=forms.HiddenInput)
