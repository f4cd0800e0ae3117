"""What the batch, transfer and callback services share: provider codes, the rail's policy,
claiming work and the review of what stays unresolved too long.

Outcomes are applied by ``ledger.services.outcome_apply`` only (docs/architecture.md §11); this module
translates nothing the ledger already does.
"""

from __future__ import annotations

from core.policy import RetryPolicy, policy_for
from ledger.models import Transaction
from ledger.services import transaction_claim, transaction_flag_for_review
from ledger.states import Status

# Provider partners (partners.Partner.code) and their connectors (Transaction.provider).
CORE_BANKING_CODE = "core-banking"
PARTNER_BANK_CODE = "partner-bank"
CORE_BANKING = "core_banking"
PARTNER_BANK = "partner_bank"

RAIL = "banking"  # settings.EXECUTION_POLICIES["banking"] (core/policy.py)
# Not settled yet: still asked about by the poller, flagged once past the policy's review age.
UNRESOLVED: tuple[Status, ...] = (Status.PENDING, Status.PROCESSING, Status.UNKNOWN)


def banking_policy(mode: str) -> RetryPolicy:
    """The rail's backoff, attempts and review age for work in ``mode`` (the sandbox's pace in test)."""
    return policy_for(RAIL, mode)


def claim(transaction: Transaction) -> bool:
    """pending → processing; False when another worker (or an earlier run) already claimed it."""
    return transaction_claim(transaction=transaction)


def flag_if_overdue(transaction: Transaction) -> None:
    """Ask staff to look at a movement still unresolved past the review age (it is still polled)."""
    if transaction.status in UNRESOLVED and banking_policy(transaction.mode).is_overdue(transaction.created_at):
        transaction_flag_for_review(
            transaction_pk=transaction.pk,
            only_statuses=UNRESOLVED,
            reason="unresolved past the banking review age",
        )
