"""Transfers to other banks' customers: hold, send through the partner bank, settle or release.

``transfer_create`` holds the amount on the partner's account and records the transfer in one
short DB transaction; ``transfer_send`` (a task) sends the pacs.008 under the transaction's
public id; the partner bank's pacs.002 (callback, or ``transfer_resolve`` polling) ends it:
settled → ``succeeded`` (hold captured), rejected → ``failed`` (hold released).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction as db_transaction
from django.utils import timezone

from banking.models import BankTransfer
from banking.providers.base import (
    InterbankConnector,
    Settlement,
    TransferOrder,
    TransferState,
    TransferStatus,
    error_code_for_reason,
    settlement_for,
)
from banking.services.common import PARTNER_BANK, PARTNER_BANK_CODE, REVIEW_AFTER, connector_for, move, next_poll_after
from core.errors import (
    ErrorCode,
    NotFound,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
    ServiceUnavailable,
)
from core.money import Money
from ledger.models import Transaction
from ledger.services import account_get_or_create_partner_account, transaction_create, transaction_flag_for_review
from partners.models import Partner
from partners.selectors import provider_connection_for_provider


@dataclass(frozen=True)
class TransferRequest:
    """A validated ``POST /banking/transfers`` body."""

    beneficiary_name: str
    iban: str  # normalised IBAN (or RIB)
    bic: str
    amount: Money
    remittance_information: str
    end_to_end_id: str


def transfer_create(*, partner: Partner, mode: str, request: TransferRequest) -> Transaction:
    """Hold the amount and record the transfer (``pending``); sending starts after commit.
    ``InsufficientFunds`` (422) or ``ServiceUnavailable`` (no partner-bank connection): nothing written."""
    try:
        provider_connection_for_provider(provider_code=PARTNER_BANK_CODE, mode=mode)
    except NotFound:
        raise ServiceUnavailable(
            "Transfers to other banks are not available: no partner-bank connection.",
            code=ErrorCode.PROVIDER_NOT_CONFIGURED,
        ) from None
    settlement = settlement_for(request.amount)
    account = account_get_or_create_partner_account(partner=partner, mode=mode, currency=request.amount.currency)
    with db_transaction.atomic():
        txn = transaction_create(
            partner=partner,
            mode=mode,
            kind=Transaction.Kind.BANK_TRANSFER_OUT,
            provider=PARTNER_BANK,
            money=request.amount,
            client_reference=request.end_to_end_id,
            metadata={"settlement": settlement.value},
            hold_account=account,
        )
        BankTransfer.objects.create(
            transaction=txn,
            end_to_end_id=request.end_to_end_id,
            beneficiary_name=request.beneficiary_name,
            iban=request.iban,
            bic=request.bic,
            settlement=settlement.value,
            remittance_information=request.remittance_information,
        )
        db_transaction.on_commit(lambda: _enqueue_send(txn.pk))
    return txn


def _enqueue_send(transaction_pk: int) -> None:
    from banking.tasks import send_transfer

    send_transfer.delay(transaction_pk)


def _order(transfer: BankTransfer) -> TransferOrder:
    txn = transfer.transaction
    return TransferOrder(
        reference=txn.public_id,
        end_to_end_id=transfer.end_to_end_id,
        amount=Money(txn.amount_minor, txn.currency),
        debtor_name=txn.partner.name[:140],
        debtor_account=settings.BANKING_DEBTOR_ACCOUNT,
        debtor_agent_bic=settings.BANKING_DEBTOR_BIC,
        beneficiary_name=transfer.beneficiary_name,
        iban=transfer.iban,
        bic=transfer.bic,
        settlement=Settlement(transfer.settlement),
        remittance_information=transfer.remittance_information,
    )


def transfer_send(*, transaction_id: int, final_attempt: bool = False) -> bool:
    """Send the transfer once claimed (pending → processing) or again after an unavailable bank.
    Returns ``True`` when the task should retry later (the bank was unavailable: nothing
    happened there). Never sends a transfer the bank acknowledged; the bank de-duplicates the
    reference anyway."""
    transfer = BankTransfer.objects.select_related("transaction", "transaction__partner").get(
        transaction_id=transaction_id
    )
    txn = transfer.transaction
    if txn.status == "pending":
        if not move(txn, "processing", cause="worker"):
            return False
    elif txn.status not in ("processing", "unknown") or transfer.is_submitted:
        return False  # final, or acknowledged by the bank: its status comes by callback or query
    connector: InterbankConnector = connector_for(PARTNER_BANK_CODE, txn.mode)
    BankTransfer.objects.filter(pk=transfer.pk).update(send_attempts=transfer.send_attempts + 1)
    try:
        result = connector.send_transfer(_order(transfer))
    except ProviderUnavailable as exc:
        if not final_attempt:
            return True
        _unresolved(transfer, cause="worker", message=f"partner bank unavailable: {exc}", needs_review=True)
        return False
    except ProviderOutcomeUnknown as exc:
        _unresolved(transfer, cause="worker", message=str(exc))
        return False
    except ProviderRejected as exc:
        move(txn, "failed", cause="worker", failure_code=exc.code, failure_message=str(exc))
        return False
    finally:
        getattr(connector, "close", lambda: None)()
    transfer.is_submitted = True
    transfer.save(update_fields=["is_submitted"])
    apply_status(
        transfer, result.status, result.reason_code, cause="worker", provider_reference=result.provider_reference
    )
    return False


def _unresolved(transfer: BankTransfer, *, cause: str, message: str, needs_review: bool = False) -> None:
    changes: dict[str, Any] = {"failure_message": message[:500]}
    if needs_review:
        changes["needs_review"] = True
    if transfer.transaction.status == "processing":
        move(transfer.transaction, "unknown", cause=cause, **changes)
    transfer.next_poll_at = next_poll_after(transfer.poll_attempts)
    transfer.save(update_fields=["next_poll_at"])


def apply_status(
    transfer: BankTransfer,
    state: TransferState,
    reason_code: str | None,
    *,
    cause: str,
    provider_reference: str | None = None,
) -> bool:
    """Apply the bank's word: settled → succeeded, rejected → failed (reason kept), anything
    else → poll later. A final or already-applied transaction is left alone (returns False)."""
    txn = transfer.transaction
    if state is TransferState.SETTLED:
        transfer.next_poll_at = None
        transfer.save(update_fields=["next_poll_at"])
        return move(txn, "succeeded", cause=cause, provider_reference=provider_reference)
    if state is TransferState.REJECTED:
        transfer.reason_code = (reason_code or "MS03")[:4]
        transfer.next_poll_at = None
        transfer.save(update_fields=["reason_code", "next_poll_at"])
        return move(
            txn,
            "failed",
            cause=cause,
            failure_code=error_code_for_reason(reason_code),
            failure_message=f"the beneficiary's bank rejected the transfer ({transfer.reason_code})",
        )
    transfer.next_poll_at = next_poll_after(transfer.poll_attempts)
    transfer.save(update_fields=["next_poll_at"])
    return False


def transfer_resolve(*, transfer: BankTransfer) -> None:
    """One status query (poller) for a transfer not final yet; NOT_FOUND → sent again (same
    reference); past ``REVIEW_AFTER`` flagged for review."""
    txn = transfer.transaction
    connector: InterbankConnector = connector_for(PARTNER_BANK_CODE, txn.mode)
    transfer.poll_attempts += 1
    transfer.save(update_fields=["poll_attempts"])
    try:
        try:
            status = connector.transfer_status(txn.public_id)
        except (ProviderUnavailable, ProviderRejected, ProviderOutcomeUnknown):
            status = TransferStatus(reference=txn.public_id, status=TransferState.PENDING)
    finally:
        getattr(connector, "close", lambda: None)()
    if status.status is TransferState.NOT_FOUND:
        BankTransfer.objects.filter(pk=transfer.pk).update(is_submitted=False)
        transfer_send(transaction_id=txn.pk, final_attempt=True)
    else:
        apply_status(
            transfer, status.status, status.reason_code, cause="poller", provider_reference=status.provider_reference
        )
    if txn.status not in ("succeeded", "failed") and timezone.now() - txn.created_at > REVIEW_AFTER:
        transaction_flag_for_review(transaction_pk=txn.pk)
