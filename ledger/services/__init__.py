"""The ledger's write services (STYLE.md §8), split by sub-domain. Import from here."""

from ledger.services.accounts import (
    account_fund,
    account_get_or_create_partner_account,
    account_get_or_create_system,
    account_set_overdraft_limit,
)
from ledger.services.holds import hold_capture, hold_place, hold_release, holds_place_bulk
from ledger.services.idempotency import (
    Begin,
    idempotency_abandon,
    idempotency_begin,
    idempotency_complete,
    idempotency_fingerprint,
    idempotency_purge_expired,
)
from ledger.services.outbox import outbox_record
from ledger.services.postings import UnbalancedPosting, accounts_lock, posting_create, posting_reverse
from ledger.services.transactions import (
    transaction_create,
    transaction_flag_for_review,
    transaction_payload,
    transaction_transition,
)

__all__ = [
    "Begin",
    "UnbalancedPosting",
    "account_fund",
    "account_get_or_create_partner_account",
    "account_get_or_create_system",
    "account_set_overdraft_limit",
    "accounts_lock",
    "hold_capture",
    "hold_place",
    "hold_release",
    "holds_place_bulk",
    "idempotency_abandon",
    "idempotency_begin",
    "idempotency_complete",
    "idempotency_fingerprint",
    "idempotency_purge_expired",
    "outbox_record",
    "posting_create",
    "posting_reverse",
    "transaction_create",
    "transaction_flag_for_review",
    "transaction_payload",
    "transaction_transition",
]
