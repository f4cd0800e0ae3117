"""What a received customer credit-transfer batch (pain.001, or its JSON equivalent) holds.

The typed, frozen result (``Pain001Message`` → ``PaymentInfo`` → ``CreditTransfer``) exists
only for a message that passed every check; sequences are tuples so the whole tree is immutable.
The ``Raw*`` records are the same fields as text, as read from XML or JSON, before any check:
both readers produce them and one assembler (pain001_checks.py) checks and types them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from core.money import Money


class AccountScheme(StrEnum):
    """How an account is identified: ``<Id><IBAN>`` or ``<Id><Othr><Id>`` (a RIB, docs/providers/banking.md §4.4)."""

    IBAN = "IBAN"
    OTHER = "OTHR"


@dataclass(frozen=True, slots=True)  # slots: a 100,000-transaction message holds 100,000 of each
class AccountId:
    """A normalised account identification (no spaces, upper case)."""

    scheme: AccountScheme
    identification: str


@dataclass(frozen=True, slots=True)
class CreditTransfer:
    """One ``CdtTrfTxInf``: a credit to one beneficiary."""

    instr_id: str | None
    end_to_end_id: str
    amount: Money
    creditor_name: str
    creditor_account: AccountId
    creditor_agent_bic: str | None
    remittance_information: str | None
    uetr: str | None = None


@dataclass(frozen=True)
class PaymentInfo:
    """One ``PmtInf``: transfers debited from one account on one requested date."""

    pmt_inf_id: str
    nb_of_txs: int | None
    ctrl_sum_minor: int | None
    requested_execution_date: date
    debtor_name: str
    debtor_account: AccountId
    debtor_agent_bic: str | None
    transactions: tuple[CreditTransfer, ...]


@dataclass(frozen=True)
class Pain001Message:
    """A whole, valid batch. ``message_name`` is ``pain.001.001.03``, ``pain.001.001.09`` or ``json``."""

    message_name: str
    msg_id: str
    creation_datetime: datetime
    nb_of_txs: int
    ctrl_sum_minor: int
    initiating_party: str
    payment_infos: tuple[PaymentInfo, ...]

    @property
    def currency(self) -> str:
        return self.payment_infos[0].transactions[0].amount.currency

    @property
    def total(self) -> Money:
        return Money(self.ctrl_sum_minor, self.currency)

    def transactions(self) -> Iterator[tuple[PaymentInfo, CreditTransfer]]:
        for payment_info in self.payment_infos:
            for transfer in payment_info.transactions:
                yield payment_info, transfer


@dataclass(frozen=True)
class Pain001Rules:
    """What a batch must respect beyond its schema. The defaults are the rail's rules; tests
    relax them to read foreign sample files."""

    currencies: frozenset[str] = frozenset({"XOF"})
    waemu_accounts: bool = True
    require_group_ctrl_sum: bool = True


DEFAULT_RULES = Pain001Rules()


# --- raw records: text as read, before any check -------------------------------------------------


@dataclass(frozen=True)
class RawAccount:
    scheme: AccountScheme
    identification: str


@dataclass(frozen=True)
class RawGroupHeader:
    msg_id: str | None
    creation_datetime: str | None
    nb_of_txs: str | None
    ctrl_sum: str | None
    initiating_party: str | None


@dataclass(frozen=True)
class RawPaymentInfo:
    index: int  # 1-based position in the message
    pmt_inf_id: str | None
    nb_of_txs: str | None
    ctrl_sum: str | None
    requested_execution_date: str | None
    debtor_name: str | None
    debtor_account: RawAccount | None
    debtor_agent_bic: str | None


@dataclass(frozen=True)
class RawTransaction:
    payment_index: int  # 1-based
    index: int  # 1-based position inside its payment information
    instr_id: str | None
    end_to_end_id: str | None
    amount: str | None
    currency: str | None
    creditor_name: str | None
    creditor_account: RawAccount | None
    creditor_agent_bic: str | None
    remittance_information: str | None
    uetr: str | None = None


RawRecord = RawGroupHeader | RawPaymentInfo | RawTransaction
