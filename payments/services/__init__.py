"""The bills services (docs/conventions.md §8), split by sub-domain. Import from here (the modules of this
package import each other directly, never through this package)."""

from payments.services.catalog import biller_list, customer_lookup
from payments.services.execution import (
    Step,
    bill_payment_execute,
    bill_payment_resolve,
    bill_payment_retry_delay,
    bill_payments_due_for_poll,
    bill_payments_resolve,
    bill_payments_stuck_pending,
)
from payments.services.payments import bill_payment_create
from payments.services.quotes import quote_create

__all__ = [
    "Step",
    "bill_payment_create",
    "bill_payment_execute",
    "bill_payment_resolve",
    "bill_payment_retry_delay",
    "bill_payments_due_for_poll",
    "bill_payments_resolve",
    "bill_payments_stuck_pending",
    "biller_list",
    "customer_lookup",
    "quote_create",
]
