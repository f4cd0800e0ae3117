"""Input checks and public JSON of the banking API (amounts as decimal strings, docs/architecture.md §5)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from banking.iban import AccountNumberError, parse_account
from banking.iso20022.pain001_checks import BIC_RE
from banking.models import BankTransfer, TransferBatch, TransferBatchItem
from banking.selectors import BatchProgress
from banking.services.transfers import TransferRequest
from core.api.fields import StrictCharField, StrictRegexField
from core.api.pagination import PageQuerySerializer
from core.money import Money, MoneyError, format_minor
from ledger.serializers import transaction_representation
from ledger.states import Status

END_TO_END_RE = r"^[A-Za-z0-9/\-?:().,'+ ]{1,35}$"  # ISO Max35Text, restricted to the SWIFT set
# The Latin character set of ISO 20022 messages between banks (the SWIFT/EPC basic set): free text
# goes out only in the form the pacs.008 accepts (docs/conventions.md §37), so it is checked here, not in the
# worker — a control character would make the message unwritable after the money was held.
LATIN_TEXT_RE = r"^[A-Za-z0-9/\-?:().,'+ ]*$"
LATIN_TEXT_MESSAGE = "only letters without accents, digits, spaces and / - ? : ( ) . , ' + (ISO 20022 Latin set)"
WAEMU_CURRENCY = "XOF"


class TransferCreateInput(serializers.Serializer):
    """The body of ``POST /banking/transfers``; ``to_request()`` once valid."""

    beneficiary_name = StrictCharField(max_length=140)
    iban = StrictCharField(max_length=42, help_text="the beneficiary's IBAN or RIB (WAEMU)")
    bic = StrictCharField(max_length=11)
    amount = StrictCharField(max_length=24, trim_whitespace=False, help_text='decimal string, e.g. "250000"')
    currency = StrictCharField(max_length=3)
    remittance_information = StrictRegexField(
        LATIN_TEXT_RE,
        max_length=140,
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid": LATIN_TEXT_MESSAGE},
    )
    end_to_end_id = StrictRegexField(END_TO_END_RE, max_length=35)

    def validate_beneficiary_name(self, value: str) -> str:
        if not value.isprintable():
            raise serializers.ValidationError("must not contain control characters")
        return value.strip()

    def validate_iban(self, value: str) -> str:
        try:
            return parse_account(value).value
        except AccountNumberError as exc:
            raise serializers.ValidationError(exc.detail) from None

    def validate_bic(self, value: str) -> str:
        bic = value.strip().upper()
        if not BIC_RE.match(bic):
            raise serializers.ValidationError("must be a BIC of 8 or 11 characters")
        return bic

    def validate_currency(self, value: str) -> str:
        if value != WAEMU_CURRENCY:
            raise serializers.ValidationError("transfers between WAEMU banks are in XOF")
        return value

    def validate_amount(self, value: str) -> Money:
        try:
            return Money.parse(value, WAEMU_CURRENCY)
        except MoneyError as exc:
            raise serializers.ValidationError(exc.detail) from None

    def to_request(self) -> TransferRequest:
        values = self.validated_data
        return TransferRequest(
            beneficiary_name=values["beneficiary_name"],
            iban=values["iban"],
            bic=values["bic"],
            amount=values["amount"],
            remittance_information=values["remittance_information"],
            end_to_end_id=values["end_to_end_id"],
        )


class BatchItemsQuerySerializer(PageQuerySerializer):
    """``?limit=&cursor=&status=`` of the items embedded in ``GET /banking/transfer-batches/{id}``."""

    status = serializers.ChoiceField(choices=Status.choices, required=False, help_text="only items in this status")


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
