"""The ledger's write services (docs/conventions.md §8), split by sub-domain. Import from here."""

from ledger.services.accounts import (
    account_fund,
    account_get_or_create_partner_account,
    account_get_or_create_system,
    account_partner_for_holds,
    account_set_overdraft_limit,
)
from ledger.services.bulk import NewTransaction, transactions_create_bulk
from ledger.services.holds import hold_capture, hold_place, hold_release
from ledger.services.idempotency import (
    Begin,
    idempotency_abandon,
    idempotency_begin,
    idempotency_complete,
    idempotency_fingerprint,
    idempotency_purge_expired,
)
from ledger.services.outbox import outbox_record
from ledger.services.outcomes import Applied, outcome_apply, transaction_claim
from ledger.services.outcomes_bulk import bulk_applicable, outcomes_apply_bulk, transactions_claim_bulk
from ledger.services.postings import UnbalancedPosting, accounts_lock, posting_create, posting_reverse
from ledger.services.provider_calls import calls_about, provider_calls_purge
from ledger.services.review import (
    item_guard,
    transaction_flag_for_review,
    transaction_review_close,
    transaction_set_aside,
)
from ledger.services.transactions import (
    transaction_create,
    transaction_payload,
    transaction_transition,
)

__all__ = [
    "Applied",
    "Begin",
    "NewTransaction",
    "UnbalancedPosting",
    "account_fund",
    "account_get_or_create_partner_account",
    "account_get_or_create_system",
    "account_partner_for_holds",
    "account_set_overdraft_limit",
    "accounts_lock",
    "bulk_applicable",
    "calls_about",
    "hold_capture",
    "hold_place",
    "hold_release",
    "idempotency_abandon",
    "idempotency_begin",
    "idempotency_complete",
    "idempotency_fingerprint",
    "idempotency_purge_expired",
    "item_guard",
    "outbox_record",
    "outcome_apply",
    "outcomes_apply_bulk",
    "posting_create",
    "posting_reverse",
    "provider_calls_purge",
    "transaction_claim",
    "transaction_create",
    "transaction_flag_for_review",
    "transaction_payload",
    "transaction_review_close",
    "transaction_set_aside",
    "transaction_transition",
    "transactions_claim_bulk",
    "transactions_create_bulk",
]
