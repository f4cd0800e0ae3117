"""ISO 20022 for the bank-transfer rail (docs/providers/banking.md §4).

- received batches: ``parse_pain001_xml`` (pain.001.001.03 / .09, streaming, XSD-validated while
  parsed, safe against XXE and entity bombs) and ``parse_pain001_json`` (the same fields as JSON),
  both giving a ``Pain001Message`` or raising one of ``errors``;
- our answers to them: ``render_pain002`` (pain.002.001.03 / .10) from a ``StatusReport``
  (``report_for_message``, ``rejection_report``);
- transfers out: ``render_pacs008`` (pacs.008.001.08) and the other bank's answers,
  ``parse_pacs002`` (pacs.002.001.10 / .03).
"""

from banking.iso20022.errors import (
    ForbiddenXmlConstruct,
    Iso20022Error,
    MalformedMessage,
    MessageRejected,
    MessageTooLarge,
    Problem,
    SchemaViolation,
    UnsupportedMessage,
)
from banking.iso20022.pacs002 import Pacs002Report, PaymentStatus, parse_pacs002
from banking.iso20022.pacs008 import Pacs008Transfer, render_pacs008
from banking.iso20022.pain001_json import parse_pain001_json
from banking.iso20022.pain001_model import (
    DEFAULT_RULES,
    AccountId,
    AccountScheme,
    CreditTransfer,
    Pain001Message,
    Pain001Rules,
    PaymentInfo,
)
from banking.iso20022.pain001_xml import parse_pain001_xml
from banking.iso20022.pain002 import render_pain002
from banking.iso20022.reasons import GroupStatus, ReasonCode, TransactionStatus
from banking.iso20022.safe_xml import DEFAULT_MAX_BYTES
from banking.iso20022.status_report import (
    PaymentInfoStatusReport,
    StatusReason,
    StatusReport,
    TransactionStatusReport,
    derive_status,
    rejection_report,
    report_for_message,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_RULES",
    "AccountId",
    "AccountScheme",
    "CreditTransfer",
    "ForbiddenXmlConstruct",
    "GroupStatus",
    "Iso20022Error",
    "MalformedMessage",
    "MessageRejected",
    "MessageTooLarge",
    "Pacs002Report",
    "Pacs008Transfer",
    "Pain001Message",
    "Pain001Rules",
    "PaymentInfo",
    "PaymentInfoStatusReport",
    "PaymentStatus",
    "Problem",
    "ReasonCode",
    "SchemaViolation",
    "StatusReason",
    "StatusReport",
    "TransactionStatus",
    "TransactionStatusReport",
    "UnsupportedMessage",
    "derive_status",
    "parse_pacs002",
    "parse_pain001_json",
    "parse_pain001_xml",
    "rejection_report",
    "render_pacs008",
    "render_pain002",
    "report_for_message",
]
