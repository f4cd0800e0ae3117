"""The money effect of a status change, applied inside the transition's DB transaction.

| new status                   | outgoing kinds (hold placed)          | incoming kinds (no hold)          |
|------------------------------|---------------------------------------|-----------------------------------|
| succeeded                    | capture the hold                      | credit the partner                |
| failed, cancelled, expired   | release the hold                      | nothing                           |
| reversed                     | post the exact opposite of every entry of the transaction (fee included) |
"""

from __future__ import annotations

from ledger import states
from ledger.models import INCOMING_KINDS, AccountKind, Hold, Transaction
from ledger.services.accounts import account_get_or_create_partner_account, account_get_or_create_system
from ledger.services.holds import hold_capture, hold_release
from ledger.services.postings import Line, post_lines, posting_reverse


def credit_incoming(*, transaction: Transaction) -> None:
    """Money received through a provider: float -amount, partner +(amount - fee), fees +fee."""
    book = {"mode": transaction.mode, "currency": transaction.currency}
    float_account = account_get_or_create_system(kind=AccountKind.PROVIDER_FLOAT, provider=transaction.provider, **book)
    partner_account = account_get_or_create_partner_account(partner=transaction.partner, **book)
    net_minor = transaction.amount_minor - transaction.fee_minor
    lines: list[Line] = [(float_account, -transaction.amount_minor)]
    if net_minor:
        lines.append((partner_account, net_minor))
    if transaction.fee_minor:
        lines.append((account_get_or_create_system(kind=AccountKind.FEES, **book), transaction.fee_minor))
    post_lines(lines=lines, description=f"credit {transaction.public_id}", transaction=transaction)


def transaction_settle(*, transaction: Transaction, to_status: str) -> None:
    """Apply the money effect of ``transaction`` entering ``to_status`` (see the table above)."""
    if to_status == states.Status.REVERSED:
        posting_reverse(transaction=transaction, description=f"reversal of {transaction.public_id}")
        return
    if to_status != states.Status.SUCCEEDED and to_status not in states.RELEASES_HOLD:
        return
    has_hold = Hold.objects.filter(transaction=transaction).exists()
    if to_status == states.Status.SUCCEEDED:
        if has_hold:
            hold_capture(transaction=transaction)
        elif transaction.kind in INCOMING_KINDS:
            credit_incoming(transaction=transaction)
    elif has_hold:
        hold_release(transaction=transaction)
