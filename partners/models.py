"""Who connects to the gateway: partners, their credentials and their provider connections."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from core.crypto import EncryptedJSONField, EncryptedTextField
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


class ApiCredential(models.Model):
    """An API key of a partner in one mode, kept only as the SHA-256 of the key and its first characters."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="api_credentials")
    mode = models.CharField(max_length=4, choices=Mode.choices)
    key_prefix = models.CharField(max_length=24, help_text="the first characters of the key, for display")
    key_hash = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256 of the key, hex")
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(mode="test", key_prefix__startswith="ak_test_")
                    | Q(mode="live", key_prefix__startswith="ak_live_")
                ),
                name="apicredential_prefix_matches_mode",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.mode})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class SigningSecret(models.Model):
    """A request-signing secret of a partner in one mode, encrypted at rest; two may be active during rotation."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        REVOKED = "revoked"

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="signing_secrets")
    mode = models.CharField(max_length=4, choices=Mode.choices)
    secret = EncryptedTextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    # Active secrets occupy slot 1 or 2; the partial unique constraint below is how the
    # database itself refuses a third active secret.
    slot = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "mode", "slot"],
                condition=Q(status="active"),
                name="signingsecret_two_active_slots",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="active", slot__isnull=False, slot__in=[1, 2], revoked_at__isnull=True)
                    | Q(status="revoked", slot__isnull=True, revoked_at__isnull=False)
                ),
                name="signingsecret_status_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"signing secret #{self.pk} of {self.partner_id} ({self.mode}, {self.status})"


# A provider code: lower-case letters, digits and underscores, e.g. wave_ci (it ends up in URLs,
# metric labels and 20-character columns of the rails).
PROVIDER_CODE_RE = r"^[a-z][a-z0-9_]{1,19}$"


def new_provider_connection_id() -> str:
    return new_id("pcn")


class ProviderConnection(models.Model):
    """How the gateway calls one provider partner in one mode: connector, URL, encrypted credentials, limits."""

    public_id = models.CharField(max_length=40, unique=True, default=new_provider_connection_id, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="provider_connections")
    mode = models.CharField(max_length=4, choices=Mode.choices)
    connector = models.CharField(max_length=60, help_text="registered connector name, e.g. wave")
    base_url = models.URLField(max_length=500)
    credentials = EncryptedJSONField(default=dict, help_text="encrypted at rest")
    connect_timeout_seconds = models.FloatField(default=5.0)
    read_timeout_seconds = models.FloatField(default=30.0)
    limits = models.JSONField(default=dict, blank=True, help_text="connector-specific limits (amounts, rates)")
    is_enabled = models.BooleanField(default=True)
    # A provider is data (docs/adding-a-provider.md): its code is what the partner API, the
    # transactions, the metrics, the reports and /callbacks/<code> name it by. Empty: the
    # connector's name (the built-in providers, wave and orange_money, are their connectors).
    provider_code = models.CharField(
        max_length=20,
        blank=True,
        default="",
        validators=[RegexValidator(PROVIDER_CODE_RE)],
        help_text="the provider's code in the API, e.g. wave_ci (empty: the connector's name)",
    )
    currency = models.CharField(max_length=3, default="XOF", help_text="the currency the provider moves")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["partner__name", "mode", "connector"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "mode", "connector"], name="providerconnection_unique"),
            # one connection per provider code and mode: the code alone finds it
            models.UniqueConstraint(
                fields=["provider_code", "mode"],
                condition=~Q(provider_code=""),
                name="providerconnection_provider_code_unique",
            ),
            models.CheckConstraint(
                condition=Q(connect_timeout_seconds__gt=0, read_timeout_seconds__gt=0),
                name="providerconnection_timeouts_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connector} ({self.mode}) for {self.partner_id}"

    @property
    def provider(self) -> str:
        """The provider's code (``provider_code``, else the connector's name)."""
        return self.provider_code or self.connector


class Rail(models.TextChoices):
    """The money-moving rails a partner's limits are set per (docs/partner-api.md §9)."""

    BILLS = "bills", "Bills"
    MOBILE_MONEY = "mobile_money", "Mobile money"
    BANKING = "banking", "Banking"


class PartnerLimit(models.Model):
    """The most a partner may move on one rail, in one mode and currency: per transaction and per day."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="limits")
    mode = models.CharField(max_length=4, choices=Mode.choices)
    rail = models.CharField(max_length=16, choices=Rail.choices)
    currency = models.CharField(max_length=3, default="XOF")
    max_per_transaction_minor = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="largest amount of one transaction (empty: no limit)"
    )
    max_per_day_minor = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="total accepted per calendar day (empty: no limit)"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["partner__name", "mode", "rail", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "mode", "rail", "currency"], name="partnerlimit_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.rail} limits of {self.partner_id} ({self.mode}, {self.currency})"


class PartnerDailyUsage(models.Model):
    """The amount accepted for a partner on one rail, mode and currency on one day (the daily limit's counter)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=4, choices=Mode.choices)
    rail = models.CharField(max_length=16, choices=Rail.choices)
    currency = models.CharField(max_length=3)
    day = models.DateField()
    used_minor = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "mode", "rail", "currency", "day"], name="partnerdailyusage_unique"
            ),
            models.CheckConstraint(condition=Q(used_minor__gte=0), name="partnerdailyusage_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.rail} usage of {self.partner_id} on {self.day} ({self.mode})"
