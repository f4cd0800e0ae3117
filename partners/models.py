"""Who connects to the gateway: partners, their credentials and their provider connections."""

from __future__ import annotations

from django.db import models

from core.ids import new_id


class Mode(models.TextChoices):
    TEST = "test", "Test (sandbox only)"
    LIVE = "live", "Live"


class Scope(models.TextChoices):
    TRANSACTIONS_READ = "transactions.read"
    BALANCES_READ = "balances.read"
    BILLS_PAY = "bills.pay"
    MOBILE_MONEY_CASH_IN = "mobile_money.cash_in"
    MOBILE_MONEY_CHECKOUT = "mobile_money.checkout"
    BANKING_TRANSFERS = "banking.transfers"
    NOTIFICATIONS_PUSH = "notifications.push"
    EVENTS_PUBLISH = "events.publish"


ALL_SCOPES = tuple(Scope.values)


def new_partner_id() -> str:
    return new_id("ptn")


class Partner(models.Model):
    """An organisation connected to the gateway: it calls our API, is called by us, or both."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"

    public_id = models.CharField(max_length=40, unique=True, default=new_partner_id, editable=False)
    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=60, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    scopes = models.JSONField(default=list, blank=True, help_text="granted API scopes")
    ip_allowlist = models.JSONField(default=list, blank=True, help_text="CIDRs; empty = any address")
    rate_limit_per_minute = models.PositiveIntegerField(default=600)
    webhook_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE
