"""Business checks of a pain.001 batch, fed record by record while the reader streams.

Every problem is collected (field path + message + ISO reason code), never only the first:
control counts and sums at group and payment-information level, WAEMU IBAN/RIB validity,
currency XOF, amounts written with the currency's exponent (XOF: no decimals at all, so
``"1000.00"`` is refused like ``"1000.5"``), unique EndToEndId and PmtInfId inside the message,
BIC syntax, required names. Sums compare the amounts as written (decimal, major units) with
``CtrlSum`` exactly, which is the ISO definition; a sum is only compared when every amount in
its scope was readable, so one bad amount does not also report a bogus control-sum error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol

from banking.iban import AccountNumberError, parse_account, parse_iban
from banking.iso20022.errors import MessageRejected, Problem
from banking.iso20022.pain001_model import (
    AccountId,
    AccountScheme,
    CreditTransfer,
    Pain001Message,
    Pain001Rules,
    PaymentInfo,
    RawAccount,
    RawGroupHeader,
    RawPaymentInfo,
    RawRecord,
    RawTransaction,
)
from banking.iso20022.reasons import ReasonCode as R
from core.api.fields import text_problem
from core.money import EXPONENTS, MAX_MINOR, Money

BIC_RE = re.compile(r"^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_AMOUNT_RE = re.compile(r"^[0-9]{1,18}(?:\.([0-9]{1,17}))?$")
_COUNT_RE = re.compile(r"^[0-9]{1,15}$")
MAX_ID = 35
MAX_NAME = 140


class Locator(Protocol):
    """Turns a logical field into a path in the input's own terms (XPath-like or JSON)."""

    def group(self, name: str) -> str: ...

    def payment(self, payment_index: int, name: str) -> str: ...

    def transaction(self, payment_index: int, index: int, name: str) -> str: ...


@dataclass
class _OpenPayment:
    raw: RawPaymentInfo
    nb_of_txs: int | None = None
    ctrl_sum: Decimal | None = None
    requested_execution_date: date | None = None
    debtor_account: AccountId | None = None
    header_ok: bool = True
    count: int = 0
    amount_sum: Decimal = Decimal(0)
    amounts_ok: bool = True
    transactions: list[CreditTransfer] = field(default_factory=list)


class Pain001Assembler:
    """Feed it the raw records in document order, then ``finish()`` for the typed message or
    ``MessageRejected`` listing every problem."""

    def __init__(self, *, message_name: str, rules: Pain001Rules, locator: Locator) -> None:
        self.message_name = message_name
        self.rules = rules
        self.locator = locator
        self.problems: list[Problem] = []
        self._header: RawGroupHeader | None = None
        self._payments: list[PaymentInfo] = []
        self._open: _OpenPayment | None = None
        self._end_to_end_ids: dict[str, str] = {}
        self._pmt_inf_ids: set[str] = set()
        self._currencies: set[str] = set()
        self._count = 0
        self._amount_sum = Decimal(0)
        self._amounts_ok = True
        self._sum_minor = 0
        self._context: tuple[str | None, str | None] = (None, None)  # (PmtInfId, EndToEndId) of new problems
        self._msg_id: str | None = None
        self._created: datetime | None = None
        self._nb_of_txs: int | None = None
        self._ctrl_sum: Decimal | None = None

    # --- small typed readers that record a problem and return None on failure ------------------

    def _problem(self, where: str, message: str, reason: R) -> None:
        pmt_inf_id, end_to_end_id = self._context
        self.problems.append(Problem(where, message, reason, pmt_inf_id=pmt_inf_id, end_to_end_id=end_to_end_id))

    def _text(self, value: str | None, where: str, *, max_len: int, reason: R = R.INVALID_FILE_FORMAT) -> str | None:
        text = (value or "").strip()
        if not text:
            self._problem(where, "This field is required.", reason)
            return None
        if len(text) > max_len:
            self._problem(where, f"At most {max_len} characters; got {len(text)}.", reason)
            return None
        problem = text_problem(text, line_breaks=False)  # one line of the pain.002 and pacs messages
        if problem is not None:
            self._problem(where, problem, reason)
            return None
        return text

    def _count_of(self, value: str | None, where: str) -> int | None:
        if value is None:
            return None
        if not _COUNT_RE.match(value.strip()):
            self._problem(where, f"{value!r} is not a number of transactions.", R.INVALID_NUMBER_OF_TRANSACTIONS)
            return None
        return int(value)

    def _decimal(self, value: str | None, where: str) -> Decimal | None:
        if value is None:
            return None
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = Decimal(-1)
        if not number.is_finite() or number < 0 or not _AMOUNT_RE.match(value.strip()):
            self._problem(where, f"{value!r} is not a decimal sum.", R.INVALID_CONTROL_SUM)
            return None
        return number

    def _bic(self, value: str | None, where: str) -> str | None:
        if value is None or not value.strip():
            return None
        bic = value.strip().upper()
        if not BIC_RE.match(bic):
            self._problem(
                where, f"{value!r} is not a BIC (8 or 11 characters, e.g. CBAOSNDA).", R.BANK_IDENTIFIER_INCORRECT
            )
            return None
        return bic

    def _account(self, raw: RawAccount | None, where: str) -> AccountId | None:
        if raw is None or not raw.identification.strip():
            self._problem(where, "An account (IBAN or RIB) is required.", R.INCORRECT_ACCOUNT_NUMBER)
            return None
        identification = "".join(raw.identification.split()).upper()
        if self.rules.waemu_accounts:
            try:
                if raw.scheme is AccountScheme.IBAN:
                    parse_iban(identification)
                else:
                    parse_account(identification)
            except AccountNumberError as exc:
                self._problem(where, f"{identification}: {exc.detail}", R.INCORRECT_ACCOUNT_NUMBER)
                return None
        return AccountId(raw.scheme, identification)

    def _date(self, value: str | None, where: str) -> date | None:
        try:
            return date.fromisoformat((value or "").strip()[:10])
        except ValueError:
            self._problem(where, f"{value!r} is not a date (YYYY-MM-DD).", R.INVALID_DATE)
            return None

    def _datetime(self, value: str | None, where: str) -> datetime | None:
        try:
            moment = datetime.fromisoformat((value or "").strip())
        except ValueError:
            self._problem(where, f"{value!r} is not an ISO 8601 date-time.", R.INVALID_DATE)
            return None
        # Senegal keeps UTC+0 all year: a time without offset is read as UTC.
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def _amount(self, raw: RawTransaction, where: str, currency_where: str) -> Money | None:
        text, currency = (raw.amount or "").strip(), (raw.currency or "").strip()
        if currency not in self.rules.currencies or currency not in EXPONENTS:
            accepted = ", ".join(sorted(self.rules.currencies))
            self._problem(
                currency_where,
                f"Currency {currency or '(none)'} is not accepted; this rail moves {accepted}.",
                R.INVALID_CURRENCY,
            )
            return None
        match = _AMOUNT_RE.match(text)
        if match is None:
            self._problem(where, f"{text!r} is not a decimal amount in {currency}.", R.INVALID_AMOUNT)
            return None
        places, fraction = EXPONENTS[currency], match.group(1) or ""
        if len(fraction) > places:
            rule = (
                "has no minor unit: write it without decimals" if places == 0 else f"allows {places} decimals at most"
            )
            self._problem(where, f"{currency} {rule} ({text!r}).", R.INVALID_AMOUNT)
            return None
        minor = int(Decimal(text).scaleb(places))
        if minor == 0:
            self._problem(where, "The amount must be greater than zero.", R.ZERO_AMOUNT)
            return None
        if minor > MAX_MINOR:
            self._problem(where, f"The amount {text} {currency} is above the allowed maximum.", R.NOT_ALLOWED_AMOUNT)
            return None
        return Money(minor, currency)

    # --- records -----------------------------------------------------------------------------------

    def feed(self, record: RawRecord) -> None:
        if isinstance(record, RawGroupHeader):
            self._feed_header(record)
        elif isinstance(record, RawPaymentInfo):
            self._close_payment()
            self._open_payment(record)
        else:
            self._feed_transaction(record)

    def _feed_header(self, header: RawGroupHeader) -> None:
        where = self.locator.group
        self._header = header
        self._msg_id = self._text(header.msg_id, where("msg_id"), max_len=MAX_ID)
        self._created = self._datetime(header.creation_datetime, where("creation_datetime"))
        if header.nb_of_txs is None:
            self._problem(where("nb_of_txs"), "This field is required.", R.INVALID_NUMBER_OF_TRANSACTIONS)
        self._nb_of_txs = self._count_of(header.nb_of_txs, where("nb_of_txs"))
        if header.ctrl_sum is None and self.rules.require_group_ctrl_sum:
            message = "CtrlSum is required: it protects against truncated batches."
            self._problem(where("ctrl_sum"), message, R.INVALID_CONTROL_SUM)
        self._ctrl_sum = self._decimal(header.ctrl_sum, where("ctrl_sum"))

    def _open_payment(self, raw: RawPaymentInfo) -> None:
        def where(name: str) -> str:
            return self.locator.payment(raw.index, name)

        self._context = (raw.pmt_inf_id, None)
        before = len(self.problems)
        payment = _OpenPayment(raw=raw)
        pmt_inf_id = self._text(raw.pmt_inf_id, where("pmt_inf_id"), max_len=MAX_ID)
        if pmt_inf_id is not None:
            if pmt_inf_id in self._pmt_inf_ids:
                self._problem(
                    where("pmt_inf_id"), f"PmtInfId {pmt_inf_id!r} is used twice in this message.", R.DUPLICATE
                )
            self._pmt_inf_ids.add(pmt_inf_id)
        payment.nb_of_txs = self._count_of(raw.nb_of_txs, where("nb_of_txs"))
        payment.ctrl_sum = self._decimal(raw.ctrl_sum, where("ctrl_sum"))
        payment.requested_execution_date = self._date(raw.requested_execution_date, where("requested_execution_date"))
        self._text(raw.debtor_name, where("debtor_name"), max_len=MAX_NAME)
        payment.debtor_account = self._account(raw.debtor_account, where("debtor_account"))
        self._bic(raw.debtor_agent_bic, where("debtor_agent_bic"))
        payment.header_ok = len(self.problems) == before
        self._open = payment

    def _feed_transaction(self, raw: RawTransaction) -> None:
        payment = self._open
        if payment is None:
            raise RuntimeError("a transaction arrived before its payment information")

        def where(name: str) -> str:
            return self.locator.transaction(raw.payment_index, raw.index, name)

        self._context = (payment.raw.pmt_inf_id, raw.end_to_end_id)
        before = len(self.problems)
        payment.count += 1
        self._count += 1
        end_to_end_id = self._text(raw.end_to_end_id, where("end_to_end_id"), max_len=MAX_ID)
        if end_to_end_id is not None:
            self._check_unique(end_to_end_id, where("end_to_end_id"))
        if raw.instr_id is not None:
            self._text(raw.instr_id, where("instr_id"), max_len=MAX_ID)
        amount = self._amount(raw, where("amount"), where("currency"))
        if amount is None:
            payment.amounts_ok = self._amounts_ok = False
        else:
            written = Decimal((raw.amount or "").strip())
            payment.amount_sum += written
            self._amount_sum += written
            self._sum_minor += amount.minor
            self._currencies.add(amount.currency)
        name = self._text(raw.creditor_name, where("creditor_name"), max_len=MAX_NAME, reason=R.MISSING_CREDITOR_NAME)
        account = self._account(raw.creditor_account, where("creditor_account"))
        bic = self._bic(raw.creditor_agent_bic, where("creditor_agent_bic"))
        self._context = (payment.raw.pmt_inf_id, None)
        if len(self.problems) > before or not (amount and account and name and end_to_end_id):
            return
        transfer = CreditTransfer(
            instr_id=(raw.instr_id or "").strip() or None,
            end_to_end_id=end_to_end_id,
            amount=amount,
            creditor_name=name,
            creditor_account=account,
            creditor_agent_bic=bic,
            remittance_information=(raw.remittance_information or "").strip() or None,
            uetr=raw.uetr,
        )
        payment.transactions.append(transfer)

    def _check_unique(self, end_to_end_id: str, where: str) -> None:
        first = self._end_to_end_ids.get(end_to_end_id)
        if first is not None:
            self._problem(where, f"EndToEndId {end_to_end_id!r} is already used at {first}.", R.DUPLICATE)
        else:
            self._end_to_end_ids[end_to_end_id] = where

    def _close_payment(self) -> None:
        payment, self._open = self._open, None
        if payment is None:
            return
        raw = payment.raw
        if payment.nb_of_txs is not None and payment.nb_of_txs != payment.count:
            message = f"NbOfTxs is {payment.nb_of_txs} but the payment information holds {payment.count} transactions."
            self._problem(self.locator.payment(raw.index, "nb_of_txs"), message, R.INVALID_NUMBER_OF_TRANSACTIONS)
        if payment.ctrl_sum is not None and payment.amounts_ok and payment.ctrl_sum != payment.amount_sum:
            message = f"CtrlSum is {payment.ctrl_sum} but the transactions add up to {payment.amount_sum}."
            self._problem(self.locator.payment(raw.index, "ctrl_sum"), message, R.INVALID_CONTROL_SUM)
        self._context = (None, None)
        if not payment.header_ok or not payment.transactions or self.problems:
            return  # the message is rejected anyway: stop building
        assert payment.requested_execution_date is not None and payment.debtor_account is not None
        self._payments.append(
            PaymentInfo(
                pmt_inf_id=(raw.pmt_inf_id or "").strip(),
                nb_of_txs=payment.nb_of_txs,
                ctrl_sum_minor=_minor(payment.ctrl_sum, payment.transactions[0].amount.currency),
                requested_execution_date=payment.requested_execution_date,
                debtor_name=(raw.debtor_name or "").strip(),
                debtor_account=payment.debtor_account,
                debtor_agent_bic=(raw.debtor_agent_bic or "").strip().upper() or None,
                transactions=tuple(payment.transactions),
            )
        )

    def finish(self) -> Pain001Message:
        """The typed message, or ``MessageRejected`` with every problem found."""
        self._close_payment()
        if self._header is None:
            raise RuntimeError("the reader produced no group header")
        where = self.locator.group
        if self._count == 0:
            self._problem(where("payment_infos"), "The message holds no transaction.", R.INVALID_FILE_FORMAT)
        if self._nb_of_txs is not None and self._nb_of_txs != self._count:
            message = f"NbOfTxs is {self._nb_of_txs} but the message holds {self._count} transactions."
            self._problem(where("nb_of_txs"), message, R.INVALID_NUMBER_OF_TRANSACTIONS)
        if self._ctrl_sum is not None and self._amounts_ok and self._ctrl_sum != self._amount_sum:
            message = f"CtrlSum is {self._ctrl_sum} but the transactions add up to {self._amount_sum}."
            self._problem(where("ctrl_sum"), message, R.INVALID_CONTROL_SUM)
        if len(self._currencies) > 1:
            mixed = ", ".join(sorted(self._currencies))
            self._problem(
                where("ctrl_sum"), f"The message mixes currencies ({mixed}); one per message.", R.INVALID_CURRENCY
            )
        if self.problems:
            raise MessageRejected(self.problems, message_name=self.message_name, msg_id=self._msg_id)
        assert self._msg_id is not None and self._created is not None and self._nb_of_txs is not None
        return Pain001Message(
            message_name=self.message_name,
            msg_id=self._msg_id,
            creation_datetime=self._created,
            nb_of_txs=self._nb_of_txs,
            ctrl_sum_minor=self._sum_minor,
            initiating_party=(self._header.initiating_party or "").strip(),
            payment_infos=tuple(self._payments),
        )


def _minor(value: Decimal | None, currency: str) -> int | None:
    if value is None:
        return None
    return int(value.scaleb(EXPONENTS[currency]))
