"""Transfers to other banks' customers: hold, send through the partner bank, settle or release.

``transfer_create`` holds the amount on the partner's account and records the transfer in one
short DB transaction; ``transfer_send`` (a task) sends the pacs.008 under the transaction's
public id; the partner bank's pacs.002 (callback, or ``transfer_resolve`` polling) ends it:
settled → ``succeeded`` (hold captured), rejected → ``failed`` (hold released). Every answer
becomes an ``Outcome`` applied by ``transfer_settle``, through the ledger's ``outcome_apply``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction as db_transaction
from django.db.models import F

from banking.iso20022.reasons import ReasonCode
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
from banking.services.common import PARTNER_BANK, PARTNER_BANK_CODE, banking_policy, claim, flag_if_overdue
from core.errors import ErrorCode, NotFound, ProviderError, ServiceUnavailable
from core.money import Money
from core.outcomes import Outcome, OutcomeKind
from core.tasks import enqueue_on_commit
from ledger.models import Transaction
from ledger.services import (
    Applied,
    account_partner_for_holds,
    calls_about,
    item_guard,
    outcome_apply,
    transaction_create,
)
from ledger.states import Cause, Status
from partners.limits import limit_allowance
from partners.models import Partner, Rail
from partners.registry import connector_session_for
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
    account = account_partner_for_holds(partner=partner, mode=mode, currency=request.amount.currency)
    amount = request.amount
    allowance = limit_allowance(
        partner=partner, mode=mode, rail=Rail.BANKING, currency=amount.currency, amounts=[amount.minor]
    )
    with db_transaction.atomic():
        allowance.consume()  # 422 limit_exceeded over the partner's daily limit (partners/limits.py)
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
        enqueue_on_commit("banking.send_transfer", txn.pk)
    return txn


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


def transfer_outcome(status: TransferState, reason_code: str | None, provider_reference: str | None) -> Outcome:
    """The partner bank's word as an ``Outcome``: settled, rejected (ISO reason kept), or not final."""
    if status is TransferState.SETTLED:
        return Outcome.succeeded(provider_reference)
    if status is TransferState.REJECTED:
        reason = (reason_code or ReasonCode.NOT_SPECIFIED.value)[:4]
        return Outcome.rejected(
            error_code_for_reason(reason_code),
            f"the beneficiary's bank rejected the transfer ({reason})",
            provider_code=reason,
            provider_reference=provider_reference,
            reason_code=reason,
        )
    return Outcome.pending(provider_reference)


def transfer_send(*, transaction_id: int) -> None:
    """Claim the transfer (pending → processing) and send it under the transaction's public id.

    Never sends a transfer the bank acknowledged (its status comes by callback or query); an
    unavailable bank leaves it ``processing`` with a status query due (the poller re-sends it
    under the same reference, which the bank de-duplicates). Data the connector cannot encode
    sets the transfer aside for review instead of failing the same way on every run.
    """
    transfer = BankTransfer.objects.select_related("transaction", "transaction__partner").get(
        transaction_id=transaction_id
    )
    txn = transfer.transaction
    with item_guard(work="banking.send_transfer", transaction=txn, item=f"transfer {transfer.pk}"):
        if txn.status == Status.PENDING:
            if not claim(txn):
                return
        elif txn.status not in (Status.PROCESSING, Status.UNKNOWN) or transfer.is_submitted:
            return
        _submit(transfer, cause=Cause.WORKER)


def _submit(transfer: BankTransfer, *, cause: Cause) -> None:
    """One send of the pacs.008 (recorded as a provider call), then its outcome applied."""
    txn = transfer.transaction
    order = _order(transfer)
    BankTransfer.objects.filter(pk=transfer.pk).update(send_attempts=F("send_attempts") + 1)
    transfer.send_attempts += 1
    with connector_session_for(provider_code=PARTNER_BANK_CODE, mode=txn.mode) as connector, calls_about(txn):
        bank: InterbankConnector = connector
        try:
            result = bank.send_transfer(order)
        except ProviderError as exc:
            outcome = Outcome.from_error(exc)
        else:
            BankTransfer.objects.filter(pk=transfer.pk).update(is_submitted=True)
            transfer.is_submitted = True
            outcome = transfer_outcome(result.status, result.reason_code, result.provider_reference)
    transfer_settle(transfer=transfer, outcome=outcome, cause=cause)


def transfer_settle(*, transfer: BankTransfer, outcome: Outcome, cause: Cause) -> Applied:
    """Apply an outcome to the transfer (the ledger's ``outcome_apply``) and keep what the rail
    adds: the ISO reason of a rejection, and the next status query while it is not settled."""
    txn = transfer.transaction
    policy = banking_policy(txn.mode)
    exhausted = outcome.kind is OutcomeKind.UNAVAILABLE and policy.is_exhausted(transfer.send_attempts)
    applied = outcome_apply(
        transaction=txn,
        outcome=outcome,
        cause=cause,
        needs_review=exhausted,
        review_reason=f"partner bank unavailable after {transfer.send_attempts} sends",
    )
    fields = ["next_poll_at"]
    if applied.status == Status.FAILED and "reason_code" in outcome.detail:
        transfer.reason_code = outcome.detail["reason_code"]
        fields.append("reason_code")
    transfer.next_poll_at = None if applied.is_settled else policy.next_at(transfer.poll_attempts)
    transfer.save(update_fields=fields)
    return applied


def transfer_resolve(*, transfer: BankTransfer) -> None:
    """One status query (poller) for a transfer not settled yet: its answer applied, NOT_FOUND →
    sent again under the same reference; flagged for review past the policy's review age."""
    txn = transfer.transaction
    BankTransfer.objects.filter(pk=transfer.pk).update(poll_attempts=F("poll_attempts") + 1)
    transfer.poll_attempts += 1
    with connector_session_for(provider_code=PARTNER_BANK_CODE, mode=txn.mode) as connector, calls_about(txn):
        bank: InterbankConnector = connector
        try:
            status = bank.transfer_status(txn.public_id)
        except ProviderError:  # a query that failed taught us nothing: ask again later
            status = TransferStatus(reference=txn.public_id, status=TransferState.PENDING)
    if status.status is TransferState.NOT_FOUND:
        BankTransfer.objects.filter(pk=transfer.pk).update(is_submitted=False)
        transfer.is_submitted = False
        _submit(transfer, cause=Cause.POLLER)
    else:
        outcome = transfer_outcome(status.status, status.reason_code, status.provider_reference)
        transfer_settle(transfer=transfer, outcome=outcome, cause=Cause.POLLER)
    flag_if_overdue(txn)
