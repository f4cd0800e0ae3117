"""The transactional outbox: events written with the state change they describe."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.ids import new_id
from partners.models import Mode, Partner


def new_event_id() -> str:
    return new_id("evt")


class OutboxEvent(models.Model):
    """A domain event to publish at least once (Kafka, partner webhook, push rules)."""

    public_id = models.CharField(max_length=40, unique=True, default=new_event_id, editable=False)
    type = models.CharField(max_length=80, help_text="e.g. transaction.succeeded")
    aggregate_type = models.CharField(max_length=40, help_text="e.g. transaction, checkout_session")
    aggregate_id = models.CharField(max_length=40, help_text="public id of the aggregate")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="outbox_events")
    mode = models.CharField(max_length=4, choices=Mode.choices)
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [
            # the relay reads the unpublished tail in order; published rows stay out of this index
            models.Index(fields=["id"], condition=Q(published_at__isnull=True), name="ledger_outbox_unpublished"),
            models.Index(fields=["aggregate_type", "aggregate_id"], name="ledger_outbox_aggregate"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.type}"
