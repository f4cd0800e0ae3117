"""The four-eyes request form: one form for every action, its fields turned into the action's
``requested`` values (approvals/actions.py validates them)."""

from __future__ import annotations

from typing import Any

from django import forms

from approvals.models import Action
from partners.models import Mode, Rail, Scope

ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    Action.FORCE_RESOLVE: ("outcome", "evidence", "provider_reference"),
    Action.REVERSE: (),
    Action.TOP_UP: ("mode", "currency", "amount"),
    Action.OVERDRAFT: ("mode", "currency", "limit"),
    Action.PARTNER_SCOPES: ("scopes",),
    Action.PARTNER_LIMITS: ("mode", "rail", "currency", "max_per_transaction", "max_per_day"),
    Action.ROTATE_SECRET: ("mode", "step"),
    Action.REVOKE_KEY: (),
    Action.ADJUSTMENT: (),
}


class ApprovalRequestForm(forms.Form):
    action = forms.ChoiceField(choices=Action.choices)
    target = forms.CharField(max_length=100, help_text="transaction id (txn_…), partner code, or API credential id")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="why you ask: the checker reads it")
    outcome = forms.ChoiceField(
        choices=[("", "—"), ("succeeded", "succeeded"), ("failed", "failed")],
        required=False,
        help_text="force_resolve",
    )
    evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="force_resolve: what proves the outcome (statement line, provider's answer)",
    )
    provider_reference = forms.CharField(max_length=100, required=False, help_text="force_resolve, optional")
    mode = forms.ChoiceField(choices=Mode.choices, initial=Mode.LIVE, required=False)
    currency = forms.CharField(max_length=3, initial="XOF", required=False)
    amount = forms.CharField(required=False, help_text="top_up: in major units, e.g. 250000")
    limit = forms.CharField(required=False, help_text="overdraft: the new limit in major units (0: none)")
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, required=False, widget=forms.CheckboxSelectMultiple, help_text="partner_scopes"
    )
    rail = forms.ChoiceField(choices=[("", "—"), *Rail.choices], required=False, help_text="partner_limits")
    max_per_transaction = forms.CharField(required=False, help_text="partner_limits: empty for no limit")
    max_per_day = forms.CharField(required=False, help_text="partner_limits: empty for no limit")
    step = forms.ChoiceField(
        choices=[("rotate", "rotate: add a new secret"), ("finish", "finish: revoke the previous ones")],
        required=False,
        help_text="rotate_secret",
    )

    def requested(self) -> dict[str, Any]:
        """The values the chosen action reads, from the cleaned form."""
        data = self.cleaned_data
        return {name: data.get(name) for name in ACTION_FIELDS[data["action"]]}


class DecisionForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
