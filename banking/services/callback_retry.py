"""Staff ask for a partner bank's status message to be applied again (the ops console's "apply
again"): one that named transfers we did not find, or one left queued. It goes through the rail's
own ``callback_apply`` (``transfer_settle``'s compare-and-set transitions), so a status applied
twice moves money once and a final transfer never moves."""

from __future__ import annotations

from banking.models import BankCallback, CallbackStatus
from banking.services.callbacks import callback_apply

AGAIN = (CallbackStatus.UNKNOWN_REFERENCE, CallbackStatus.QUEUED)


def callback_apply_again(*, callback_id: int) -> str:
    """Queue the verified message again and apply it; returns its status afterwards. Messages that
    were refused (signature, unreadable, duplicate) are never applied."""
    reopened = BankCallback.objects.filter(pk=callback_id, status__in=AGAIN).update(
        status=CallbackStatus.QUEUED, error=""
    )
    if not reopened:
        return BankCallback.objects.filter(pk=callback_id).values_list("status", flat=True).first() or ""
    return callback_apply(callback_id=callback_id)
