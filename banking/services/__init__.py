"""The banking rail's write services, split by sub-domain (STYLE.md §1). Import from here."""

from banking.services.batches import batch_credit_chunk, batch_receive, batch_refresh_status, credit_resolve
from banking.services.callbacks import callback_apply, callback_receive
from banking.services.transfers import transfer_create, transfer_resolve, transfer_send

__all__ = [
    "batch_credit_chunk",
    "batch_receive",
    "batch_refresh_status",
    "callback_apply",
    "callback_receive",
    "credit_resolve",
    "transfer_create",
    "transfer_resolve",
    "transfer_send",
]
