"""OpenAPI documentation of the banking API (the views render with ``banking.serializers``'
functions; these serializers only describe that JSON — the house pattern of ledger/serializers.py)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from banking.models import BatchStatus, Settlement
from ledger.serializers import TransactionSerializer
from ledger.states import Status

STATUS_REPORT_RESPONSE = OpenApiResponse(
    response=OpenApiTypes.STR, description="the batch's pain.002.001.10 customer payment status report (XML)"
)


class BatchTransactionInput(serializers.Serializer):
    instr_id = serializers.CharField(required=False)
    end_to_end_id = serializers.CharField()
    amount = serializers.CharField(help_text='decimal string in major units, e.g. "100000"')
    currency = serializers.CharField()
    creditor_name = serializers.CharField()
    creditor_account = serializers.CharField(help_text="IBAN or RIB")
    creditor_agent_bic = serializers.CharField(required=False)
    remittance_information = serializers.CharField(required=False)


class BatchPaymentInfoInput(serializers.Serializer):
    pmt_inf_id = serializers.CharField()
    nb_of_txs = serializers.IntegerField(required=False)
    ctrl_sum = serializers.CharField(required=False)
    requested_execution_date = serializers.DateField()
    debtor_name = serializers.CharField()
    debtor_account = serializers.CharField()
    debtor_agent_bic = serializers.CharField(required=False)
    transactions = BatchTransactionInput(many=True)


class TransferBatchJsonInput(serializers.Serializer):
    """The JSON equivalent of a pain.001 (banking/iso20022/pain001_json.py)."""

    msg_id = serializers.CharField()
    creation_datetime = serializers.DateTimeField()
    nb_of_txs = serializers.IntegerField()
    ctrl_sum = serializers.CharField()
    initiating_party = serializers.CharField(required=False)
    payment_infos = BatchPaymentInfoInput(many=True)


class BatchProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    credited = serializers.CharField()
    rejected = serializers.CharField()


class TransferBatchSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField(default="transfer_batch")
    # A CharField, not a ChoiceField: a second "status" enum would collide with the transaction's.
    status = serializers.CharField(help_text=" | ".join(BatchStatus.values))
    msg_id = serializers.CharField()
    message_name = serializers.CharField()
    initiating_party = serializers.CharField()
    nb_of_txs = serializers.IntegerField()
    ctrl_sum = serializers.CharField()
    currency = serializers.CharField()
    progress = BatchProgressSerializer()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class TransferBatchItemSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    pmt_inf_id = serializers.CharField()
    instr_id = serializers.CharField(allow_null=True)
    end_to_end_id = serializers.CharField()
    creditor_name = serializers.CharField()
    creditor_account = serializers.CharField()
    amount = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    reason_code = serializers.CharField(allow_null=True, help_text="ISO 20022 ExternalStatusReason1Code")
    transaction_id = serializers.CharField()


class TransferBatchDetailSerializer(TransferBatchSerializer):
    items = TransferBatchItemSerializer(many=True, help_text="one page of the items, in message order")
    has_more = serializers.BooleanField()
    next_cursor = serializers.CharField(allow_null=True, help_text="pass as ?cursor= for the next page of items")


class BankTransferSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField(default="bank_transfer")
    status = serializers.ChoiceField(choices=Status.choices)
    settlement = serializers.ChoiceField(choices=Settlement.choices)
    beneficiary_name = serializers.CharField()
    iban = serializers.CharField()
    bic = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    remittance_information = serializers.CharField()
    end_to_end_id = serializers.CharField()
    reason_code = serializers.CharField(allow_null=True)
    transaction = TransactionSerializer()
