"""The banking rail's write services, split by sub-domain (docs/conventions.md §1). Import from here."""

from banking.services.batches import batch_receive, batch_refresh_status
from banking.services.callbacks import callback_apply, callback_receive
from banking.services.credits import batch_credit_chunk, credit_resolve, credit_settle
from banking.services.polling import unresolved_poll
from banking.services.transfers import transfer_create, transfer_resolve, transfer_send, transfer_settle

__all__ = [
    "batch_credit_chunk",
    "batch_receive",
    "batch_refresh_status",
    "callback_apply",
    "callback_receive",
    "credit_resolve",
    "credit_settle",
    "transfer_create",
    "transfer_resolve",
    "transfer_send",
    "transfer_settle",
    "unresolved_poll",
]
