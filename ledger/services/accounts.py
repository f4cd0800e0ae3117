"""Accounts: one per owner, kind, mode and currency, created on first use.

A test-mode partner account is born funded: its creation and a sandbox top-up of
1,000,000,000 major units (1,000,000,000 XOF) are one DB transaction, posted as a real balanced
posting from the sandbox funding account, so every flow can be tried at once (docs/architecture.md §4).
"""

from __future__ import annotations

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from core.errors import BusinessRuleViolation
from core.money import exponent
from core.short_cache import ShortCache
from ledger.models import Account, AccountKind
from ledger.services.postings import posting_create
from partners.models import Mode, Partner

SANDBOX_TOP_UP_MAJOR = 1_000_000_000
SANDBOX_FUNDING_PROVIDER = "sandbox"
BANK_FUNDING_PROVIDER = "bank"


def _get_or_create(**book: object) -> tuple[Account, bool]:
    """Find the account of ``book`` or create it; a concurrent creator loses on the unique constraint."""
    account = Account.objects.filter(**book).first()
    if account is not None:
        return account, False
    try:
        with db_transaction.atomic():  # a savepoint: the IntegrityError must not poison the caller
            return Account.objects.create(**book), True
    except IntegrityError:
        return Account.objects.get(**book), False


def account_get_or_create_system(*, kind: str, mode: str, currency: str, provider: str = "") -> Account:
    """The bank's own book of ``kind`` (provider float, fees, suspense, external) for mode+currency."""
    if kind == AccountKind.PARTNER:
        raise ValueError("Partner accounts belong to a partner: use account_get_or_create_partner_account.")
    exponent(currency)  # refuses unknown currencies
    account, _ = _get_or_create(kind=kind, partner=None, provider=provider, mode=mode, currency=currency)
    return account


def account_get_or_create_partner_account(*, partner: Partner, mode: str, currency: str) -> Account:
    """The partner's account in ``mode`` and ``currency``; a new test-mode account starts funded."""
    exponent(currency)
    book = {"kind": AccountKind.PARTNER, "partner": partner, "provider": "", "mode": mode, "currency": currency}
    existing = Account.objects.filter(**book).first()  # the accept path's case: one SELECT, no transaction
    if existing is not None:
        return existing
    with db_transaction.atomic():
        account, created = _get_or_create(**book)
        if created and mode == Mode.TEST:
            _sandbox_top_up(account)
    return account


# Which account a partner's acceptances hold money on: its identity never changes once created
# (accounts are never deleted nor moved), so a process keeps it. Only identity fields are read
# from the kept instance (the hold's UPDATE and row name it by id; balances are never read from it).
_partner_accounts: ShortCache[tuple[int, str, str], Account] = ShortCache("CONFIGURATION_CACHE_SECONDS")


def account_partner_for_holds(*, partner: Partner, mode: str, currency: str) -> Account:
    """The partner's account in ``mode`` and ``currency`` for ``transaction_create``'s hold —
    created as ``account_get_or_create_partner_account`` does when missing, and kept by the process
    (``CONFIGURATION_CACHE_SECONDS``: no query on the accept path). Its balances are as read
    then: never show or compare them; ask ``account_get_or_create_partner_account`` for those."""
    return _partner_accounts.fetch(
        (partner.pk, mode, currency),
        lambda: account_get_or_create_partner_account(partner=partner, mode=mode, currency=currency),
    )


def _sandbox_top_up(account: Account) -> None:
    funding = account_get_or_create_system(
        kind=AccountKind.EXTERNAL, provider=SANDBOX_FUNDING_PROVIDER, mode=Mode.TEST, currency=account.currency
    )
    amount_minor = SANDBOX_TOP_UP_MAJOR * 10 ** exponent(account.currency)
    posting_create(lines=[(funding, -amount_minor), (account, amount_minor)], description="sandbox top-up")


def account_fund(*, account: Account, amount_minor: int, description: str) -> None:
    """Credit a partner account with money received outside the gateway (a recorded top-up).

    The counter-entry goes to the bank's external account of the same mode and currency. The
    approval of a live top-up (four-eyes) is the caller's job; this only books it.
    """
    if account.kind != AccountKind.PARTNER or amount_minor <= 0:
        raise ValueError("Only partner accounts are funded, by a positive amount.")
    source = account_get_or_create_system(
        kind=AccountKind.EXTERNAL, provider=BANK_FUNDING_PROVIDER, mode=account.mode, currency=account.currency
    )
    posting_create(lines=[(source, -amount_minor), (account, amount_minor)], description=description)


def account_set_overdraft_limit(*, account: Account, limit_minor: int) -> Account:
    """Change how far below zero a partner account's available balance may go.

    Lowering the limit below what is already used is refused by the database constraint and
    reported as a business rule violation; nothing changes then.
    """
    if account.kind != AccountKind.PARTNER or limit_minor < 0:
        raise ValueError("Only partner accounts have an overdraft limit, and it is not negative.")
    try:
        with db_transaction.atomic():
            Account.objects.filter(pk=account.pk).update(overdraft_limit_minor=limit_minor, updated_at=timezone.now())
    except IntegrityError:
        raise BusinessRuleViolation("The account already uses more than this overdraft limit.") from None
    account.refresh_from_db()
    return account
