"""Per-partner limits the API enforces: the largest amount of one transaction and the total
accepted per day, per rail, mode and currency (``PartnerLimit``). Over a limit the rail's create
service answers 422 ``limit_exceeded`` and creates nothing (docs/partner-api.md §6).

Two steps, so the acceptance's own DB transaction stays as short as the ledger made it
(docs/architecture.md §3, step 4)::

    allowance = limit_allowance(partner=…, mode=…, rail=Rail.MOBILE_MONEY, currency="XOF", amounts=[…])
    with db_transaction.atomic():
        allowance.consume()            # no statement at all when the partner has no daily limit
        transaction_create(…)

``limit_allowance`` reads the limit and refuses an amount over the per-transaction limit before
anything is written. ``consume`` adds the amounts to the day's counter with ONE conditional
``UPDATE … WHERE used_minor + total <= max_per_day`` (the pattern of ``ledger.services.holds``):
the row lock serialises racing acceptances, the WHERE clause is the check, and a refusal later in
the caller's transaction rolls the counter back with everything else. Amounts accepted count for
the day even if the transaction fails later: the limit caps what a partner may ask for in a day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from core.errors import BusinessRuleViolation, ErrorCode
from core.money import Money
from core.short_cache import ShortCache
from partners.models import Partner, PartnerDailyUsage, PartnerLimit


def limit_exceeded(message: str, *, kind: str, limit: PartnerLimit, limit_minor: int) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        f"{message}; nothing was created.",
        code=ErrorCode.LIMIT_EXCEEDED,
        extra={
            "limit": kind,
            "rail": limit.rail,
            "limit_amount": Money(limit_minor, limit.currency).to_decimal_string(),
            "currency": limit.currency,
        },
    )


@dataclass(frozen=True)
class Allowance:
    """What ``consume`` must add to the day's counter, and against which limit (none: nothing to do)."""

    limit: PartnerLimit | None
    total_minor: int
    day_key: dict[str, object] | None

    def consume(self) -> None:
        """Count the amounts against the daily limit, inside the caller's DB transaction."""
        if self.limit is None or self.day_key is None or self.limit.max_per_day_minor is None:
            return
        ceiling = self.limit.max_per_day_minor
        changed = PartnerDailyUsage.objects.filter(**self.day_key, used_minor__lte=ceiling - self.total_minor).update(
            used_minor=F("used_minor") + self.total_minor
        )
        if changed != 1:
            raise limit_exceeded(
                f"This would take today's {self.limit.rail} total over your daily limit of "
                f"{Money(ceiling, self.limit.currency).to_decimal_string()} {self.limit.currency}",
                kind="per_day",
                limit=self.limit,
                limit_minor=ceiling,
            )


# read by every acceptance: kept ``CONFIGURATION_CACHE_SECONDS`` per process (core/short_cache.py),
# so a limit set, changed or removed applies on every worker within that time ("no limit" is kept
# too, as a one-element tuple: most partners have none)
_limits: ShortCache[tuple[int, str, str, str], tuple[PartnerLimit | None]] = ShortCache("CONFIGURATION_CACHE_SECONDS")


def limit_get(*, partner: Partner, mode: str, rail: str, currency: str) -> PartnerLimit | None:
    def load() -> tuple[PartnerLimit | None]:
        return (PartnerLimit.objects.filter(partner_id=partner.pk, mode=mode, rail=rail, currency=currency).first(),)

    return _limits.fetch((partner.pk, mode, rail, currency), load)[0]


def limit_allowance(*, partner: Partner, mode: str, rail: str, currency: str, amounts: Sequence[int]) -> Allowance:
    """Check each amount against the per-transaction limit (422 ``limit_exceeded``) and make sure
    the day's counter row exists; ``consume()`` the result inside the acceptance's transaction."""
    limit = limit_get(partner=partner, mode=mode, rail=rail, currency=currency)
    if limit is None:
        return Allowance(limit=None, total_minor=0, day_key=None)
    largest = limit.max_per_transaction_minor
    if largest is not None and any(amount > largest for amount in amounts):
        over = Money(max(amounts), currency).to_decimal_string()
        raise limit_exceeded(
            f"{over} {currency} is over your {rail} limit per transaction of "
            f"{Money(largest, currency).to_decimal_string()} {currency}",
            kind="per_transaction",
            limit=limit,
            limit_minor=largest,
        )
    if limit.max_per_day_minor is None:
        return Allowance(limit=limit, total_minor=0, day_key=None)
    day_key: dict[str, object] = {
        "partner_id": partner.pk,
        "mode": mode,
        "rail": rail,
        "currency": currency,
        "day": timezone.localdate(),
    }
    # INSERT … ON CONFLICT DO NOTHING: racing first requests of the day all find one row.
    PartnerDailyUsage.objects.bulk_create([PartnerDailyUsage(**day_key)], ignore_conflicts=True)
    return Allowance(limit=limit, total_minor=sum(amounts), day_key=day_key)
