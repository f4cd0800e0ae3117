"""The banking rail in the ops console (docs/conventions.md §33, §38): read-only pages, batches with
their progress, the partner bank's status messages with "apply again" (through the rail's service,
audited). Account numbers are masked unless the reader may see personal data (core/staff.py)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from banking.models import BankCallback, BankTransfer, TransferBatch, TransferBatchItem
from banking.selectors import PROGRESS_STATUSES, batches_with_progress, transfer_rows_about
from banking.services.callback_retry import callback_apply_again
from core import display
from core.admin import ActingAdminMixin, BatchProgressMixin, ConsoleAdmin, TransactionColumnsMixin
from ledger.admin import TimelineEntry, audited_each, timeline_source
from ledger.models import Transaction


@timeline_source
def _banking_rows(transaction: Transaction) -> Iterable[TimelineEntry]:
    transfer, item = transfer_rows_about(transaction.pk)
    if transfer is not None:
        detail = f"{transfer.end_to_end_id} · {transfer.settlement}"
        yield TimelineEntry(transfer.created_at, str(_("Bank transfer")), detail, target=transfer)
    if item is not None:
        detail = f"{item.batch.public_id} #{item.position} · {item.end_to_end_id}"
        yield TimelineEntry(item.batch.created_at, str(_("Batch item")), detail, target=item)


@admin.register(TransferBatch)
class TransferBatchAdmin(BatchProgressMixin, ConsoleAdmin):
    progress_statuses = PROGRESS_STATUSES
    total_field = "nb_of_txs"
    items_changelist = "admin:banking_transferbatchitem_changelist"
    list_display = ("public_id", "partner", "msg_id", "status", "progress", "ctrl_sum_minor", "created_at")
    list_filter = ("status", "mode", "message_name")
    list_select_related = ("partner",)
    search_fields = ("=public_id", "=msg_id")
    fields = ("public_id", "partner", "mode", "msg_id", "message_name", "original_created_at", "initiating_party",
              "status", "progress", "nb_of_txs", "ctrl_sum_minor", "currency", "items_link", "created_at",
              "completed_at")  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[TransferBatch]:
        return batches_with_progress(super().get_queryset(request))


@admin.register(TransferBatchItem)
class TransferBatchItemAdmin(TransactionColumnsMixin, ConsoleAdmin):
    list_display = ("batch", "position", "end_to_end_id", "creditor_account", "amount", "status", "reason_code")
    list_filter = ("reason_code", "transaction__status")
    list_select_related = ("batch", "transaction")
    search_fields = ("=end_to_end_id", "=batch__public_id", "=transaction__public_id", "=creditor_account")
    iban_fields = ("creditor_account",)


@admin.register(BankTransfer)
class BankTransferAdmin(TransactionColumnsMixin, ConsoleAdmin):
    list_display = ("transaction", "end_to_end_id", "iban", "bic", "amount", "status", "is_submitted", "created_at")
    list_filter = ("settlement", "reason_code", "is_submitted", "transaction__status")
    list_select_related = ("transaction",)
    search_fields = ("=transaction__public_id", "=end_to_end_id", "=iban")
    iban_fields = ("iban",)
    fields = ("transaction", "amount", "status", "end_to_end_id", "beneficiary_name", "iban", "bic", "settlement",
              "remittance_information", "reason_code", "send_attempts", "is_submitted", "poll_attempts",
              "next_poll_at", "created_at")  # fmt: skip


@admin.register(BankCallback)
class BankCallbackAdmin(ActingAdminMixin, ConsoleAdmin):
    list_display = ("pk", "provider", "mode", "event_id", "status", "error", "received_at", "applied_at")
    list_filter = ("provider", "status", "mode")
    search_fields = ("=event_id",)
    payload_fields = ("body", "headers")
    actions = ("apply_again",)

    @admin.action(description=_("Apply the selected status messages again"), permissions=("act",))
    def apply_again(self, request: HttpRequest, queryset: QuerySet[BankCallback]) -> None:
        pks = list(queryset.values_list("pk", flat=True))
        statuses = audited_each(
            request, pks, action="callback.apply_again", target="banking.bankcallback",
            run=lambda pk: callback_apply_again(callback_id=pk),
        )  # fmt: skip
        outcomes = [f"#{pk}: {display.label(status)}" for pk, status in zip(pks, statuses, strict=True)]
        self.message_user(request, ", ".join(outcomes), messages.INFO)
