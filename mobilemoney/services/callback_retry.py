"""Staff ask for a provider event that could not be applied to be applied again (the ops console's
"apply again"). It goes through the rail's own ``callback_apply``: the same compare-and-set
transitions, so an event applied twice moves money once and a final transaction never moves."""

from __future__ import annotations

from mobilemoney.models import CallbackStatus, InboundCallback
from mobilemoney.services.callbacks import callback_apply


def callback_apply_again(*, callback_id: int) -> bool:
    """Re-open one flagged event (a verified delivery's child row) and apply it; True when it
    applied this time. Deliveries, refused signatures and applied events are left as they are."""
    reopened = (
        InboundCallback.objects.filter(pk=callback_id, status=CallbackStatus.FLAGGED, delivery__isnull=False)
        .exclude(event_id="")
        .update(status=CallbackStatus.RECEIVED, flag_reason="")
    )
    return bool(reopened) and callback_apply([callback_id]) == 1
