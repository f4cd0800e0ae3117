"""pain.002 customer payment status report writer (pain.002.001.03 and pain.002.001.10).

Writes the group status (``OrgnlGrpInfAndSts/GrpSts``), each payment information's status
(``OrgnlPmtInfAndSts/PmtInfSts``) and each transaction's status (``TxInfAndSts/TxSts``) with
their reasons (``StsRsnInf/Rsn/Cd`` + ``AddtlInf``), plus the counts per status
(``NbOfTxsPerSts``) a bank's reconciliation reads. Every document is validated against the
official XSD before it is returned (``GeneratedMessageInvalid`` otherwise — a bug, never sent).

The two versions differ, for what we write, only in ``BIC`` (v03) / ``BICFI`` (v10) and in the
status code lists: v03 has closed enumerations (``PART`` exists for groups, not transactions).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from lxml import etree

from banking.iso20022.reasons import GroupStatus, TransactionStatus
from banking.iso20022.status_report import (
    PaymentInfoStatusReport,
    StatusReason,
    StatusReport,
    TransactionStatusReport,
    derive_status,
)
from banking.iso20022.xml_build import clip, document, iso_datetime, serialise, sub, xml_safe
from core.money import format_minor

PAIN002_VERSIONS = ("pain.002.001.03", "pain.002.001.10")
MAX_ADDITIONAL_INFO = 105


def render_pain002(report: StatusReport, *, message_name: str = "pain.002.001.03") -> bytes:
    """The report as pain.002 XML bytes (UTF-8), schema-valid."""
    if message_name not in PAIN002_VERSIONS:
        raise ValueError(f"pain.002 versions written: {', '.join(PAIN002_VERSIONS)}")
    root, body, _ns = document(message_name, "CstmrPmtStsRpt")
    _group_header(body, report, bic_tag="BICFI" if message_name.endswith(".10") else "BIC")
    _original_group(body, report)
    for payment_info in report.payment_infos:
        _payment_info(body, payment_info, report.currency)
    return serialise(root, message_name)


def _group_header(body: etree._Element, report: StatusReport, *, bic_tag: str) -> None:
    header = sub(body, "GrpHdr")
    sub(header, "MsgId", xml_safe(report.msg_id))
    sub(header, "CreDtTm", iso_datetime(report.creation_datetime))
    if report.initiating_party_name:
        sub(header, "InitgPty/Nm", clip(xml_safe(report.initiating_party_name), 140))
    if report.debtor_agent_bic:
        sub(header, f"DbtrAgt/FinInstnId/{bic_tag}", report.debtor_agent_bic)


def _original_group(body: etree._Element, report: StatusReport) -> None:
    group = sub(body, "OrgnlGrpInfAndSts")
    sub(group, "OrgnlMsgId", xml_safe(report.original_msg_id))
    sub(group, "OrgnlMsgNmId", report.original_message_name)
    if report.original_creation_datetime is not None:
        sub(group, "OrgnlCreDtTm", iso_datetime(report.original_creation_datetime))
    if report.original_nb_of_txs is not None:
        sub(group, "OrgnlNbOfTxs", str(report.original_nb_of_txs))
    if report.original_ctrl_sum_minor is not None:
        sub(group, "OrgnlCtrlSum", format_minor(report.original_ctrl_sum_minor, report.currency))
    transactions = list(report.transactions())
    status = report.group_status or derive_status(t.status for t in transactions)
    sub(group, "GrpSts", status.value)
    _reasons(group, report.group_reasons)
    _counts_per_status(group, transactions, report.currency)


def _payment_info(body: etree._Element, payment_info: PaymentInfoStatusReport, currency: str) -> None:
    element = sub(body, "OrgnlPmtInfAndSts")
    sub(element, "OrgnlPmtInfId", xml_safe(payment_info.pmt_inf_id))
    if payment_info.original_nb_of_txs is not None:
        sub(element, "OrgnlNbOfTxs", str(payment_info.original_nb_of_txs))
    if payment_info.original_ctrl_sum_minor is not None:
        sub(element, "OrgnlCtrlSum", format_minor(payment_info.original_ctrl_sum_minor, currency))
    status = payment_info.status
    if status is None and payment_info.transactions:
        status = derive_status(t.status for t in payment_info.transactions)
    if status is not None:
        sub(element, "PmtInfSts", status.value)
    _reasons(element, payment_info.reasons)
    _counts_per_status(element, payment_info.transactions, currency)
    for transaction in payment_info.transactions:
        _transaction(element, transaction, currency)


def _transaction(parent: etree._Element, transaction: TransactionStatusReport, currency: str) -> None:
    element = sub(parent, "TxInfAndSts")
    if transaction.instr_id:
        sub(element, "OrgnlInstrId", xml_safe(transaction.instr_id))
    sub(element, "OrgnlEndToEndId", xml_safe(transaction.end_to_end_id))
    sub(element, "TxSts", transaction.status.value)
    _reasons(element, transaction.reasons)
    if transaction.acceptance_datetime is not None:
        sub(element, "AccptncDtTm", iso_datetime(transaction.acceptance_datetime))
    if transaction.account_servicer_reference:
        sub(element, "AcctSvcrRef", clip(xml_safe(transaction.account_servicer_reference), 35))
    if transaction.amount_minor is not None:
        sub(element, "OrgnlTxRef/Amt/InstdAmt", format_minor(transaction.amount_minor, currency), Ccy=currency)


def _reasons(parent: etree._Element, reasons: Iterable[StatusReason]) -> None:
    for reason in reasons:
        element = sub(parent, "StsRsnInf")
        sub(element, "Rsn/Cd", reason.code)
        text = reason.additional_information
        for start in range(0, min(len(text), 10 * MAX_ADDITIONAL_INFO), MAX_ADDITIONAL_INFO):
            sub(element, "AddtlInf", xml_safe(text[start : start + MAX_ADDITIONAL_INFO]))


def _counts_per_status(parent: etree._Element, transactions: Iterable[TransactionStatusReport], currency: str) -> None:
    counts: Counter[TransactionStatus] = Counter()
    sums: Counter[TransactionStatus] = Counter()
    known_sums: set[TransactionStatus] = set()
    for transaction in transactions:
        counts[transaction.status] += 1
        if transaction.amount_minor is not None:
            sums[transaction.status] += transaction.amount_minor
            known_sums.add(transaction.status)
    for status in sorted(counts, key=lambda item: item.value):
        element = sub(parent, "NbOfTxsPerSts")
        sub(element, "DtldNbOfTxs", str(counts[status]))
        sub(element, "DtldSts", status.value)
        if status in known_sums:
            sub(element, "DtldCtrlSum", format_minor(sums[status], currency))


__all__ = ["PAIN002_VERSIONS", "GroupStatus", "TransactionStatus", "render_pain002"]
