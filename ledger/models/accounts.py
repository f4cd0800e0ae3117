"""Double-entry books: accounts with balance columns, postings, append-only entries, holds."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.ids import new_id
from ledger.models.transactions import Transaction
from partners.models import Mode, Partner


def new_account_id() -> str:
    return new_id("acc")


class AccountKind(models.TextChoices):
    PARTNER = "partner", "Partner account"
    PROVIDER_FLOAT = "provider_float", "Provider float (clearing with a provider)"
    FEES = "fees", "Fees earned"
    SUSPENSE = "suspense", "Suspense (to be investigated)"
    EXTERNAL = "external", "External (money entering or leaving the books: top-ups, sandbox funding)"


class Account(models.Model):
    """A book of one owner (a partner, or the bank itself) in one mode and one currency.

    ``balance_minor`` always equals the sum of the account's entries; ``held_minor`` is the sum
    of its placed holds. Available = balance - held. A partner account's available balance
    never goes below ``-overdraft_limit_minor`` (a database constraint). The bank's own books
    (float, fees, suspense, external) are contra accounts and may carry any sign: money paid out
    through a provider accumulates on its float, a top-up is the external account's debit.
    """

    Kind = AccountKind

    public_id = models.CharField(max_length=40, unique=True, default=new_account_id, editable=False)
    kind = models.CharField(max_length=16, choices=AccountKind.choices)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts")
    provider = models.CharField(max_length=40, blank=True, default="", help_text="for provider float accounts")
    mode = models.CharField(max_length=4, choices=Mode.choices)
    currency = models.CharField(max_length=3)
    balance_minor = models.BigIntegerField(_("balance"), default=0)
    held_minor = models.BigIntegerField(_("held"), default=0)
    overdraft_limit_minor = models.BigIntegerField(_("overdraft limit"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "partner", "provider", "mode", "currency"],
                nulls_distinct=False,  # one fees account per mode+currency, though it has no partner
                name="ledger_account_unique_book",
            ),
            models.CheckConstraint(condition=Q(held_minor__gte=0), name="ledger_account_held_not_negative"),
            models.CheckConstraint(
                condition=Q(overdraft_limit_minor__gte=0), name="ledger_account_overdraft_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(kind=AccountKind.PARTNER)
                | Q(balance_minor__gte=F("held_minor") - F("overdraft_limit_minor")),
                name="ledger_account_available_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(kind=AccountKind.PARTNER, partner__isnull=False)
                | (~Q(kind=AccountKind.PARTNER) & Q(partner__isnull=True)),
                name="ledger_account_owner_matches_kind",
            ),
            models.CheckConstraint(condition=Q(kind__in=AccountKind.values), name="ledger_account_kind_known"),
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="ledger_account_mode_known"),
        ]

    def __str__(self) -> str:
        owner = self.partner.code if self.partner_id and self.partner else (self.provider or "bank")
        return f"{self.kind}:{owner}:{self.mode}:{self.currency}"

    @property
    def available_minor(self) -> int:
        return self.balance_minor - self.held_minor


class Posting(models.Model):
    """A journal header: one balanced set of entries written together (Σ = 0 per currency)."""

    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="postings"
    )
    description = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("posting")
        verbose_name_plural = _("postings")

    def __str__(self) -> str:
        return f"posting {self.pk}: {self.description}"


class LedgerEntry(models.Model):
    """One signed line of a posting on one account (append-only; the database refuses edits)."""

    posting = models.ForeignKey(Posting, on_delete=models.PROTECT, related_name="entries")
    # No index of its own: ledger_entry_account_id (account, id) serves every query by account.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", db_index=False)
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    amount_minor = models.BigIntegerField(_("amount"))
    currency = models.CharField(max_length=3)
    balance_after_minor = models.BigIntegerField(_("balance after"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(condition=~Q(amount_minor=0), name="ledger_entry_amount_not_zero"),
        ]
        indexes = [models.Index(fields=["account", "id"], name="ledger_entry_account_id")]

    def __str__(self) -> str:
        return f"{self.amount_minor:+d} {self.currency} → {self.balance_after_minor}"


class HoldStatus(models.TextChoices):
    PLACED = "placed"
    CAPTURED = "captured"
    RELEASED = "released"


class Hold(models.Model):
    """Money of a partner account reserved for one transaction until it is captured or released."""

    Status = HoldStatus

    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="hold")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    amount_minor = models.BigIntegerField(_("amount"))
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=HoldStatus.choices, default=HoldStatus.PLACED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="ledger_hold_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=HoldStatus.values), name="ledger_hold_status_known"),
        ]
        indexes = [models.Index(fields=["account"], condition=Q(status=HoldStatus.PLACED), name="ledger_hold_placed")]

    def __str__(self) -> str:
        return f"hold {self.amount_minor} {self.currency} ({self.status})"
