"""What a customer payment status report (pain.002) says about a received batch.

The batch service fills a ``StatusReport`` (group, payment-information and per-transaction
status with ISO reason codes) and ``render_pain002`` writes it. Group and payment-information
statuses may be left ``None``: they are then derived from the transactions (``derive_status``).
``rejection_report`` builds the report of a batch refused by the business checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from banking.iso20022.errors import MessageRejected
from banking.iso20022.pain001_model import Pain001Message
from banking.iso20022.reasons import GroupStatus, ReasonCode, TransactionStatus

_REASON_RE = re.compile(r"^[A-Z0-9]{1,4}$")

# How far an accepted transaction has gone; a group is only as far as its slowest member.
_PROGRESS = [
    TransactionStatus.ACCEPTED_TECHNICAL,
    TransactionStatus.ACCEPTED_WITH_CHANGE,
    TransactionStatus.ACCEPTED,
    TransactionStatus.ACCEPTED_SETTLEMENT_IN_PROCESS,
    TransactionStatus.ACCEPTED_SETTLEMENT_COMPLETED,
]


@dataclass(frozen=True)
class StatusReason:
    """An ISO external status reason (``AC04``…) and optional free text (split into 105-char lines)."""

    code: str
    additional_information: str = ""

    def __post_init__(self) -> None:
        if not _REASON_RE.match(self.code):
            raise ValueError(f"a status reason code has 1 to 4 capitals or digits, got {self.code!r}")


@dataclass(frozen=True)
class TransactionStatusReport:
    end_to_end_id: str
    status: TransactionStatus
    instr_id: str | None = None
    reasons: tuple[StatusReason, ...] = ()
    acceptance_datetime: datetime | None = None
    account_servicer_reference: str | None = None  # e.g. the core-banking posting reference
    amount_minor: int | None = None  # the original instructed amount, echoed in OrgnlTxRef


@dataclass(frozen=True)
class PaymentInfoStatusReport:
    pmt_inf_id: str
    transactions: tuple[TransactionStatusReport, ...] = ()
    status: GroupStatus | None = None  # None: derived from the transactions
    reasons: tuple[StatusReason, ...] = ()
    original_nb_of_txs: int | None = None
    original_ctrl_sum_minor: int | None = None


@dataclass(frozen=True)
class StatusReport:
    msg_id: str
    creation_datetime: datetime
    original_msg_id: str
    original_message_name: str  # pain.001.001.03 / pain.001.001.09 (a JSON batch: pain.001.001.09)
    currency: str = "XOF"
    original_creation_datetime: datetime | None = None
    original_nb_of_txs: int | None = None
    original_ctrl_sum_minor: int | None = None
    group_status: GroupStatus | None = None  # None: derived from every transaction
    group_reasons: tuple[StatusReason, ...] = ()
    payment_infos: tuple[PaymentInfoStatusReport, ...] = ()
    initiating_party_name: str | None = None  # the bank producing the report
    debtor_agent_bic: str | None = None

    def transactions(self) -> Iterable[TransactionStatusReport]:
        for payment_info in self.payment_infos:
            yield from payment_info.transactions


def derive_status(statuses: Iterable[TransactionStatus]) -> GroupStatus:
    """Group status of transactions: all rejected → RJCT; some rejected → PART; any pending →
    PDNG; otherwise the least advanced accepted status (ACTC < ACWC < ACCP < ACSP < ACSC)."""
    seen = set(statuses)
    if not seen:
        raise ValueError("a group status needs at least one transaction status")
    if seen == {TransactionStatus.REJECTED}:
        return GroupStatus.REJECTED
    if TransactionStatus.REJECTED in seen:
        return GroupStatus.PARTIALLY_ACCEPTED
    if TransactionStatus.PENDING in seen:
        return GroupStatus.PENDING
    return GroupStatus(min(seen, key=_PROGRESS.index).value)


def report_for_message(
    message: Pain001Message,
    outcomes: dict[str, TransactionStatusReport],
    *,
    msg_id: str,
    created_at: datetime,
    initiating_party_name: str | None = None,
) -> StatusReport:
    """A report on a parsed batch; ``outcomes`` maps each EndToEndId to its status (a
    transaction without an outcome is reported ``PDNG``)."""
    payment_infos = []
    for payment_info in message.payment_infos:
        reports = tuple(
            outcomes.get(transfer.end_to_end_id)
            or TransactionStatusReport(
                end_to_end_id=transfer.end_to_end_id,
                status=TransactionStatus.PENDING,
                instr_id=transfer.instr_id,
                amount_minor=transfer.amount.minor,
            )
            for transfer in payment_info.transactions
        )
        payment_infos.append(
            PaymentInfoStatusReport(
                pmt_inf_id=payment_info.pmt_inf_id,
                transactions=reports,
                original_nb_of_txs=len(payment_info.transactions),
                original_ctrl_sum_minor=sum(t.amount.minor for t in payment_info.transactions),
            )
        )
    return StatusReport(
        msg_id=msg_id,
        creation_datetime=created_at,
        original_msg_id=message.msg_id,
        original_message_name=_answered_name(message.message_name),
        currency=message.currency,
        original_creation_datetime=message.creation_datetime,
        original_nb_of_txs=message.nb_of_txs,
        original_ctrl_sum_minor=message.ctrl_sum_minor,
        payment_infos=tuple(payment_infos),
        initiating_party_name=initiating_party_name,
    )


def rejection_report(
    rejected: MessageRejected, *, msg_id: str, created_at: datetime, initiating_party_name: str | None = None
) -> StatusReport:
    """The whole batch refused (``GrpSts`` RJCT): group-level problems as group reasons, the
    others as rejected transactions of their payment information, each with its reason code."""
    group_reasons: list[StatusReason] = []
    by_payment: dict[str, dict[str, list[StatusReason]]] = {}
    payment_reasons: dict[str, list[StatusReason]] = {}
    payment_ids: dict[str, None] = {}  # in the order the problems name them
    for problem in rejected.problems:
        if problem.pmt_inf_id:
            payment_ids.setdefault(problem.pmt_inf_id)
        reason = StatusReason(problem.reason_code.value, f"{problem.field}: {problem.message}")
        if problem.pmt_inf_id and problem.end_to_end_id:
            by_payment.setdefault(problem.pmt_inf_id, {}).setdefault(problem.end_to_end_id, []).append(reason)
        elif problem.pmt_inf_id:
            payment_reasons.setdefault(problem.pmt_inf_id, []).append(reason)
        else:
            group_reasons.append(reason)
    return StatusReport(
        msg_id=msg_id,
        creation_datetime=created_at,
        original_msg_id=rejected.msg_id or "UNKNOWN",
        original_message_name=_answered_name(rejected.message_name),
        group_status=GroupStatus.REJECTED,
        group_reasons=tuple(group_reasons) or (StatusReason(ReasonCode.NOT_SPECIFIED.value, rejected.detail),),
        payment_infos=tuple(
            PaymentInfoStatusReport(
                pmt_inf_id=pmt_inf_id,
                status=GroupStatus.REJECTED,
                reasons=tuple(payment_reasons.get(pmt_inf_id, ())),
                transactions=tuple(
                    TransactionStatusReport(end_to_end_id, TransactionStatus.REJECTED, reasons=tuple(reasons))
                    for end_to_end_id, reasons in by_payment.get(pmt_inf_id, {}).items()
                ),
            )
            for pmt_inf_id in payment_ids
        ),
        initiating_party_name=initiating_party_name,
    )


def _answered_name(message_name: str) -> str:
    # A JSON batch is answered as the pain.001 version it mirrors.
    return message_name if message_name.startswith("pain.001") else "pain.001.001.09"
