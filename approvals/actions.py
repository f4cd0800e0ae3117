"""What each four-eyes action checks when it is asked for, and does when it is executed.

``prepare`` validates a request before it is recorded and says what the target looks like now
(the request's current value); ``execute`` runs when a checker approved it, validating everything
again first (the world may have moved since the request was made) and calling the owning app's
service: ``outcome_apply`` for force-resolution (docs/architecture.md §11), the rail's refund for a
reversal, the ledger's account services for money, the partners' services for live partners.
Anything no longer valid raises a ``GatewayError``: the execution then changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from approvals.models import Action, ApprovalRequest
from core.errors import BusinessRuleViolation, ErrorCode, FieldError, NotFound, ValidationFailed
from core.money import Money
from core.outcomes import Outcome
from ledger.models import Account, Kind, Transaction
from ledger.services import (
    account_fund,
    account_get_or_create_partner_account,
    account_set_overdraft_limit,
    outcome_apply,
    transaction_review_close,
)
from ledger.states import Cause, Status
from mobilemoney.models import CheckoutSession
from mobilemoney.services.refunds import checkout_refund_request
from partners.models import ALL_SCOPES, ApiCredential, Mode, Partner, Rail
from partners.selectors import partner_get, signing_secret_list_active
from partners.services import (
    api_credential_revoke,
    partner_limit_set,
    partner_limits_describe,
    partner_update,
    signing_secret_revoke_previous,
    signing_secret_rotate,
)


@dataclass(frozen=True)
class Prepared:
    """A validated request: its normalised target, what the target is now, what is asked."""

    target: str
    current: dict[str, Any]
    requested: dict[str, Any]


@dataclass(frozen=True)
class Executed:
    """What an execution did; ``secret`` (a new signing secret) is shown once to the maker."""

    result: dict[str, Any]
    secret: str | None = None


def invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{name}: {message}", errors=[FieldError(name, message)])


def _text(requested: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = str(requested.get(name) or "").strip()
    if required and not value:
        raise invalid(name, "is required")
    return value


def _choice(requested: Mapping[str, Any], name: str, choices: list[str], default: str | None = None) -> str:
    value = str(requested.get(name) or default or "")
    if value not in choices:
        raise invalid(name, f"must be one of {', '.join(choices)}")
    return value


def _money(requested: Mapping[str, Any], name: str, currency: str, *, allow_zero: bool = False) -> Money:
    value = requested.get(name)
    if value in (None, ""):
        raise invalid(name, "is required")
    return Money.parse(str(value), currency, allow_zero=allow_zero)


def _optional_money(requested: Mapping[str, Any], name: str, currency: str) -> Money | None:
    return None if requested.get(name) in (None, "") else _money(requested, name, currency)


def _decimal(money: Money | None) -> str | None:
    return None if money is None else money.to_decimal_string()


# --- transactions ------------------------------------------------------------------------------------


def _transaction(target: str) -> Transaction:
    transaction = Transaction.objects.select_related("partner").filter(public_id=target.strip()).first()
    if transaction is None:
        raise NotFound(f"No transaction {target.strip()!r}.")
    return transaction


def _transaction_now(transaction: Transaction) -> dict[str, Any]:
    return {
        "status": transaction.status,
        "kind": transaction.kind,
        "partner": transaction.partner.code,
        "mode": transaction.mode,
        "amount": Money(transaction.amount_minor, transaction.currency).to_decimal_string(),
        "currency": transaction.currency,
        "needs_review": transaction.needs_review,
    }


def _check_resolvable(transaction: Transaction) -> None:
    in_flight = transaction.status in (Status.PENDING, Status.PROCESSING)
    if transaction.status != Status.UNKNOWN and not (transaction.needs_review and in_flight):
        raise BusinessRuleViolation(
            f"{transaction.public_id} is {transaction.status}: only an unknown transaction, or one in flight "
            "that needs review, can be force-resolved.",
            code=ErrorCode.ILLEGAL_TRANSITION,
        )


def force_resolve_prepare(target: str, requested: Mapping[str, Any]) -> Prepared:
    transaction = _transaction(target)
    _check_resolvable(transaction)
    asked = {
        "outcome": _choice(requested, "outcome", [Status.SUCCEEDED, Status.FAILED]),
        "evidence": _text(requested, "evidence"),
        "provider_reference": _text(requested, "provider_reference", required=False),
    }
    return Prepared(transaction.public_id, _transaction_now(transaction), asked)


def force_resolve_execute(request: ApprovalRequest, actor: dict[str, Any]) -> Executed:
    """Apply the staff's outcome through ``outcome_apply``: the hold is captured or released once,
    and the transaction's events record the staff event with both names (``actor``)."""
    transaction = _transaction(request.target)
    _check_resolvable(transaction)
    asked = request.requested_value
    evidence = str(asked["evidence"])
    if asked["outcome"] == Status.SUCCEEDED:
        outcome = Outcome.succeeded(asked.get("provider_reference") or None)
    else:
        outcome = Outcome.rejected(ErrorCode.PROVIDER_REJECTED, f"resolved as failed by staff: {evidence}"[:300])
    applied = outcome_apply(
        transaction=transaction,
        outcome=outcome,
        cause=Cause.STAFF,
        actor=actor,
        detail={"evidence": evidence, "approval_request": request.pk},
    )
    if not applied.moved:
        raise BusinessRuleViolation(f"{transaction.public_id} is {applied.status} now: nothing was applied.")
    # resolved: it leaves the queue of transactions to resolve (the reason stays on its page)
    transaction_review_close(transaction_pk=transaction.pk, note=f"resolved by staff (request {request.pk})")
    return Executed({"status": applied.status, "transaction": transaction.public_id})


def _refundable_session(transaction: Transaction) -> CheckoutSession:
    """The rail's reversal path. Only paid checkout collections have one (the provider's refund,
    docs/providers/); cash-in payouts, bill payments and bank transfers cannot be taken back."""
    if transaction.status != Status.SUCCEEDED:
        raise BusinessRuleViolation(
            f"{transaction.public_id} is {transaction.status}: only a succeeded one is reversed."
        )
    session = CheckoutSession.objects.filter(transaction=transaction).first()
    if transaction.kind != Kind.COLLECTION or session is None:
        raise BusinessRuleViolation(
            f"A {transaction.kind} cannot be reversed: its rail has no reversal or refund at the provider "
            "(only paid checkout collections are refunded). Settle it with the partner outside the gateway."
        )
    if session.refund_transaction_id is not None:
        raise BusinessRuleViolation(f"{transaction.public_id} was refunded already.")
    return session


def reverse_prepare(target: str, requested: Mapping[str, Any]) -> Prepared:
    transaction = _transaction(target)
    _refundable_session(transaction)
    return Prepared(transaction.public_id, _transaction_now(transaction), {"via": "checkout refund"})


def reverse_execute(request: ApprovalRequest, actor: dict[str, Any]) -> Executed:
    session = checkout_refund_request(_refundable_session(_transaction(request.target)))
    refund = session.refund_transaction
    return Executed({"refund_transaction": refund.public_id if refund else None})


# --- partner accounts -------------------------------------------------------------------------------


def _partner(target: str) -> Partner:
    return partner_get(identifier=target.strip())


def _book(requested: Mapping[str, Any]) -> tuple[str, str]:
    mode = _choice(requested, "mode", Mode.values, default=Mode.LIVE)
    currency = _text(requested, "currency", required=False).upper() or "XOF"
    Money.zero(currency)  # refuses an unknown currency
    return mode, currency


def _account_now(partner: Partner, mode: str, currency: str) -> dict[str, Any]:
    account = Account.objects.filter(partner=partner, mode=mode, currency=currency).first()
    if account is None:
        return {"account": None}

    def money(minor: int) -> str:
        return Money(minor, currency).to_decimal_string()

    return {
        "balance": money(account.balance_minor),
        "held": money(account.held_minor),
        "overdraft_limit": money(account.overdraft_limit_minor),
        "currency": currency,
    }


def top_up_prepare(target: str, requested: Mapping[str, Any]) -> Prepared:
    partner = _partner(target)
    mode, currency = _book(requested)
    amount = _money(requested, "amount", currency)
    asked = {"mode": mode, "currency": currency, "amount": amount.to_decimal_string()}
    return Prepared(partner.code, _account_now(partner, mode, currency), asked)


def top_up_execute(request: ApprovalRequest, actor: dict[str, Any]) -> Executed:
    partner = _partner(request.target)
    mode, currency = _book(request.requested_value)
    amount = _money(request.requested_value, "amount", currency)
    account = account_get_or_create_partner_account(partner=partner, mode=mode, currency=currency)
    account_fund(account=account, amount_minor=amount.minor, description=f"top-up, four-eyes request #{request.pk}")
    return Executed(_account_now(partner, mode, currency))


def overdraft_prepare(target: str, requested: Mapping[str, Any]) -> Prepared:
    partner = _partner(target)
    mode, currency = _book(requested)
    limit = _money(requested, "limit", currency, allow_zero=True)
    asked = {"mode": mode, "currency": currency, "limit": limit.to_decimal_string()}
    return Prepared(partner.code, _account_now(partner, mode, currency), asked)


def overdraft_execute(request: ApprovalRequest, actor: dict[str, Any]) -> Executed:
    partner = _partner(request.target)
    mode, currency = _book(request.requested_value)
    limit = _money(request.requested_value, "limit", currency, allow_zero=True)
    account = account_get_or_create_partner_account(partner=partner, mode=mode, currency=currency)
    account_set_overdraft_limit(account=account, limit_minor=limit.minor)
    return Executed(_account_now(partner, mode, currency))


# --- live partners ----------------------------------------------------------------------------------


def _scopes(requested: Mapping[str, Any]) -> list[str]:
    raw = requested.get("scopes")
    scopes = raw.split(",") if isinstance(raw, str) else list(raw or [])
    cleaned = sorted({str(scope).strip() for scope in scopes if str(scope).strip()})
    unknown = [scope for scope in cleaned if scope not in ALL_SCOPES]
    if unknown:
        raise invalid("scopes", f"unknown scope(s): {', '.join(unknown)}")
    return cleaned


def partner_scopes_prepare(target: str, requested: Mapping[str, Any]) -> Prepared:
    partner = _partner(target)
    return Prepared(partner.code, {"scopes": sorted(partner.scopes)}, {"scopes": _scopes(requested)})


def partner_scopes_execute(request: ApprovalRequest, actor: dict[str, Any]) -> Executed:
    partner = partner_update(partner=_partner(request.target), scopes=_scopes(request.requested_value))
    return Executed({"scopes": partner.scopes})


def _limits(requested: Mapping[str, Any]) -> dict[str, Any]:
    mode, currency = _book(requested)
    rail = _choice(requested, "rail", Rail.values)
    per_transaction = _optional_money(requested, "max_per_transaction", currency)
    per_day = _optional_money(requested, "max_per_day", currency)
    return {
        "mode": mode,
        "rail": rail,
        "currency": currency,
        "max_per_transaction": _decimal(per_transaction),
        "max_per_day": _decimal(per_day),
    }


def partner_limits_prepare(target: str, requested: Mapping[str, Any]) -> Prepared:
    partner = _partner(target)
    asked = _limits(requested)
    return Prepared(partner.code, partner_limits_describe(partner=partner, mode=asked["mode"]), asked)


def partner_limits_execute(request: ApprovalRequest, actor: dict[str, Any]) -> Executed:
    partner = _partner(request.target)
    asked = _limits(request.requested_value)
    currency = asked["currency"]
    per_transaction = _optional_money(asked, "max_per_transaction", currency)
    per_day = _optional_money(asked, "max_per_day", currency)
    partner_limit_set(
        partner=partner,
        mode=asked["mode"],
        rail=asked["rail"],
        currency=currency,
        max_per_transaction_minor=per_transaction.minor if per_transaction else None,
        max_per_day_minor=per_day.minor if per_day else None,
    )
    return Executed(partner_limits_describe(partner=partner, mode=asked["mode"]))


def _secrets_now(partner: Partner, mode: str) -> dict[str, Any]:
    return {"mode": mode, "active_secrets": signing_secret_list_active(partner=partner, mode=mode).count()}


def rotate_secret_prepare(target: str, requested: Mapping[str, Any]) -> Prepared:
    partner = _partner(target)
    mode = _choice(requested, "mode", Mode.values, default=Mode.LIVE)
    step = _choice(requested, "step", ["rotate", "finish"], default="rotate")
    return Prepared(partner.code, _secrets_now(partner, mode), {"mode": mode, "step": step})


def rotate_secret_execute(request: ApprovalRequest, actor: dict[str, Any]) -> Executed:
    """``rotate``: a new secret (the previous one stays active: two during a rotation), kept for the
    maker to see once; ``finish``: revoke every active secret but the newest."""
    partner = _partner(request.target)
    mode = _choice(request.requested_value, "mode", Mode.values)
    if request.requested_value.get("step") == "finish":
        revoked = signing_secret_revoke_previous(partner=partner, mode=mode)
        return Executed({**_secrets_now(partner, mode), "revoked": revoked})
    issued = signing_secret_rotate(partner=partner, mode=mode)
    return Executed(_secrets_now(partner, mode), secret=issued.secret)


def _credential(target: str) -> ApiCredential:
    credential = (
        ApiCredential.objects.select_related("partner").filter(pk=int(target)).first() if target.isdigit() else None
    )
    if credential is None:
        raise NotFound(f"No API credential {target!r}.")
    if not credential.is_active:
        raise BusinessRuleViolation(f"The API key {credential.key_prefix}… is revoked already.")
    return credential


def _credential_now(credential: ApiCredential) -> dict[str, Any]:
    return {
        "key_prefix": credential.key_prefix,
        "partner": credential.partner.code,
        "mode": credential.mode,
        "label": credential.label,
        "revoked": not credential.is_active,
    }


def revoke_key_prepare(target: str, requested: Mapping[str, Any]) -> Prepared:
    credential = _credential(target.strip())
    return Prepared(str(credential.pk), _credential_now(credential), {"revoked": True})


def revoke_key_execute(request: ApprovalRequest, actor: dict[str, Any]) -> Executed:
    credential = api_credential_revoke(credential=_credential(request.target))
    return Executed(_credential_now(credential))


@dataclass(frozen=True)
class ActionSpec:
    prepare: Callable[[str, Mapping[str, Any]], Prepared]
    execute: Callable[[ApprovalRequest, dict[str, Any]], Executed]


ACTIONS: dict[str, ActionSpec] = {
    Action.FORCE_RESOLVE: ActionSpec(force_resolve_prepare, force_resolve_execute),
    Action.REVERSE: ActionSpec(reverse_prepare, reverse_execute),
    Action.TOP_UP: ActionSpec(top_up_prepare, top_up_execute),
    Action.OVERDRAFT: ActionSpec(overdraft_prepare, overdraft_execute),
    Action.PARTNER_SCOPES: ActionSpec(partner_scopes_prepare, partner_scopes_execute),
    Action.PARTNER_LIMITS: ActionSpec(partner_limits_prepare, partner_limits_execute),
    Action.ROTATE_SECRET: ActionSpec(rotate_secret_prepare, rotate_secret_execute),
    Action.REVOKE_KEY: ActionSpec(revoke_key_prepare, revoke_key_execute),
}
