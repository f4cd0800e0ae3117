"""The mobile-money rail's own records: cash-ins, checkout sessions, batches, inbound callbacks."""

from mobilemoney.models.batches import BatchChunk, CashInBatch
from mobilemoney.models.callbacks import CallbackStatus, InboundCallback
from mobilemoney.models.cash_ins import CashIn
from mobilemoney.models.checkout import CheckoutSession

__all__ = ["BatchChunk", "CallbackStatus", "CashIn", "CashInBatch", "CheckoutSession", "InboundCallback"]
