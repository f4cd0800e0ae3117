"""Input checks and public JSON of the banking API (amounts as decimal strings, DESIGN.md §5)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from banking.iban import AccountNumberError, parse_account
from banking.iso20022.pain001_checks import BIC_RE
from banking.models import BankTransfer, TransferBatch, TransferBatchItem
from banking.selectors import BatchProgress
from banking.services.transfers import TransferRequest
from core.api.errors import flatten_validation_errors
from core.errors import FieldError, ValidationFailed
from core.money import Money, MoneyError, format_minor
from ledger.serializers import transaction_representation

END_TO_END_RE = r"^[A-Za-z0-9/\-?:().,'+ ]{1,35}$"  # ISO Max35Text, restricted to the SWIFT set


class TransferCreateInput(serializers.Serializer):
    beneficiary_name = serializers.CharField(max_length=140)
    iban = serializers.CharField(max_length=42)
    bic = serializers.CharField(max_length=11)
    amount = serializers.CharField(max_length=24, trim_whitespace=False)
    currency = serializers.CharField(max_length=3)
    remittance_information = serializers.CharField(max_length=140, required=False, allow_blank=True, default="")
    end_to_end_id = serializers.RegexField(END_TO_END_RE, max_length=35)


def transfer_request_from(data: Any) -> TransferRequest:
    """A ``TransferRequest`` or ``ValidationFailed`` listing every field in error."""
    serializer = TransferCreateInput(data=data)
    if not serializer.is_valid():
        raise ValidationFailed("The transfer is not valid.", errors=flatten_validation_errors(serializer.errors))
    values = serializer.validated_data
    errors: list[FieldError] = []
    account = amount = None
    try:
        account = parse_account(values["iban"])
    except AccountNumberError as exc:
        errors.append(FieldError("iban", exc.detail))
    bic = values["bic"].strip().upper()
    if not BIC_RE.match(bic):
        errors.append(FieldError("bic", "must be a BIC of 8 or 11 characters"))
    if values["currency"] != "XOF":
        errors.append(FieldError("currency", "transfers between WAEMU banks are in XOF"))
    else:
        try:
            amount = Money.parse(values["amount"], "XOF")
        except MoneyError as exc:
            errors.append(FieldError("amount", exc.detail))
    if errors or account is None or amount is None:
        raise ValidationFailed("The transfer is not valid.", errors=errors)
    return TransferRequest(
        beneficiary_name=values["beneficiary_name"].strip(),
        iban=account.value,
        bic=bic,
        amount=amount,
        remittance_information=values["remittance_information"],
        end_to_end_id=values["end_to_end_id"],
    )


def transfer_representation(transfer: BankTransfer) -> dict[str, Any]:
    txn = transfer.transaction
    return {
        "id": txn.public_id,
        "object": "bank_transfer",
        "status": txn.status,
        "settlement": transfer.settlement,
        "beneficiary_name": transfer.beneficiary_name,
        "iban": transfer.iban,
        "bic": transfer.bic,
        "amount": format_minor(txn.amount_minor, txn.currency),
        "currency": txn.currency,
        "remittance_information": transfer.remittance_information,
        "end_to_end_id": transfer.end_to_end_id,
        "reason_code": transfer.reason_code or None,
        "transaction": transaction_representation(txn),
    }


def batch_representation(batch: TransferBatch, progress: BatchProgress) -> dict[str, Any]:
    return {
        "id": batch.public_id,
        "object": "transfer_batch",
        "status": batch.status,
        "msg_id": batch.msg_id,
        "message_name": batch.message_name,
        "initiating_party": batch.initiating_party,
        "nb_of_txs": batch.nb_of_txs,
        "ctrl_sum": format_minor(batch.ctrl_sum_minor, batch.currency),
        "currency": batch.currency,
        "progress": {
            "total": progress.total,
            "pending": progress.pending,
            "succeeded": progress.succeeded,
            "failed": progress.failed,
            "credited": format_minor(progress.credited_minor, batch.currency),
            "rejected": format_minor(progress.rejected_minor, batch.currency),
        },
        "created_at": batch.created_at.isoformat(),
        "completed_at": batch.completed_at.isoformat() if batch.completed_at else None,
    }


def item_representation(item: TransferBatchItem) -> dict[str, Any]:
    txn = item.transaction
    return {
        "position": item.position,
        "pmt_inf_id": item.pmt_inf_id,
        "instr_id": item.instr_id or None,
        "end_to_end_id": item.end_to_end_id,
        "creditor_name": item.creditor_name,
        "creditor_account": item.creditor_account,
        "amount": format_minor(txn.amount_minor, txn.currency),
        "status": txn.status,
        "reason_code": item.reason_code or None,
        "transaction_id": txn.public_id,
    }
