"""The partner bank that carries our transfers to other WAEMU banks (docs/providers/banking.md §3).

Wire format: ISO 20022 XML both ways (§4.4 of that page). We ``POST {base}/v1/payments`` a
pacs.008.001.08 (one transaction; MsgId = InstrId = TxId = our reference) and the bank answers
``202`` with a pacs.002.001.10 (``ACSP``: accepted, settlement in process) — or ``200`` with the
existing transfer's pacs.002 when it already holds that reference. The final status comes later,
asynchronously: a signed pacs.002 callback to our callback URL, and ``GET {base}/v1/payments/
{reference}`` (a pacs.002 with the current status, ``404`` when unknown).

Callbacks are signed ``X-Bank-Signature: t=<unix seconds>,v1=<hex>`` with
``v1 = HMAC-SHA256(webhook_secret, "<t>." + raw body)``, accepted within 300 s.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime
from urllib.parse import quote

from banking.iso20022.errors import Iso20022Error
from banking.iso20022.pacs002 import Pacs002Report, PaymentStatus, parse_pacs002
from banking.iso20022.pacs008 import Pacs008Transfer, render_pacs008
from banking.providers.base import (
    CLEARING_SYSTEMS,
    InterbankConnector,
    StatusMessageRejected,
    SubmissionResult,
    TransferOrder,
    TransferState,
    TransferStatus,
)
from banking.providers.camt053 import parse_camt053
from core.errors import ProviderOutcomeUnknown, ProviderUnavailable
from core.http import ProviderHttpClient, ProviderResponse, raise_for_provider_status
from core.provider_records import DayRecord
from core.signing import SignatureHeaderError, parse_signature_header
from partners.registry import ConnectorSettings, register

PROVIDER = "partner_bank"
SIGNATURE_HEADER = "X-Bank-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300

# pacs.002 TxSts (ExternalPaymentTransactionStatus1Code) → our state; anything else is PENDING.
_STATES = {
    "ACSC": TransferState.SETTLED,
    "ACCC": TransferState.SETTLED,
    "ACSP": TransferState.ACCEPTED,
    "ACTC": TransferState.ACCEPTED,
    "ACCP": TransferState.ACCEPTED,
    "ACWC": TransferState.ACCEPTED,
    "ACFC": TransferState.ACCEPTED,
    "PDNG": TransferState.PENDING,
    "RCVD": TransferState.PENDING,
    "RJCT": TransferState.REJECTED,
}


def status_of(code: str | None) -> TransferState:
    return _STATES.get(code or "", TransferState.PENDING)


def sign_status_message(secret: str, body: bytes, t: int) -> str:
    """The ``X-Bank-Signature`` value of ``body`` (used by tests; the bank signs the same way)."""
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def statuses_of(report: Pacs002Report) -> list[TransferStatus]:
    """One ``TransferStatus`` per transaction of a pacs.002; a report with only a group status
    speaks for its original message, whose id is our reference."""
    entries = list(report.transactions)
    if not entries and report.original_msg_id:
        entries = [PaymentStatus(None, report.original_msg_id, None, report.group_status, report.group_reasons)]
    statuses = []
    for entry in entries:
        reference = entry.original_tx_id or entry.original_instr_id or report.original_msg_id
        if not reference:
            continue
        reason = entry.reasons[0] if entry.reasons else None
        state = status_of(entry.status)
        statuses.append(
            TransferStatus(
                reference=reference,
                status=state,
                reason_code=reason.code if reason and state is TransferState.REJECTED else None,
                reason_text=(reason.additional_information or None) if reason else None,
                provider_reference=entry.account_servicer_reference or entry.status_id,
                status_message_id=report.msg_id or None,
            )
        )
    return statuses


@register("partner_bank")
class PartnerBankConnector(InterbankConnector):
    """``credentials``: ``{"api_key": …, "webhook_secret": …}``; ``base_url``: the bank's API root."""

    def __init__(self, settings: ConnectorSettings) -> None:
        api_key = settings.credentials.get("api_key")
        self._webhook_secret = str(settings.credentials.get("webhook_secret") or "")
        if not api_key or not self._webhook_secret:
            raise ValueError("the partner_bank connection needs credentials.api_key and credentials.webhook_secret")
        self._client = ProviderHttpClient(
            provider=PROVIDER,
            base_url=settings.base_url,
            timeouts=settings.timeouts,
            default_headers={"Authorization": f"Bearer {api_key}", "Accept": "application/xml"},
        )

    def send_transfer(self, order: TransferOrder) -> SubmissionResult:
        now = datetime.now(UTC)  # Dakar is UTC+0: today's date is the settlement date
        message = render_pacs008(
            Pacs008Transfer(
                msg_id=order.reference,
                created_at=now,
                instr_id=order.reference,
                end_to_end_id=order.end_to_end_id,
                tx_id=order.reference,
                amount=order.amount,
                settlement_date=now.date(),
                clearing_system=CLEARING_SYSTEMS[order.settlement],
                debtor_name=order.debtor_name,
                debtor_account=order.debtor_account,
                debtor_agent_bic=order.debtor_agent_bic,
                creditor_agent_bic=order.bic,
                creditor_name=order.beneficiary_name,
                creditor_account=order.iban,
                remittance_information=order.remittance_information or None,
            )
        )
        response = self._client.request(
            "POST",
            "v1/payments",
            operation="send_transfer",
            moves_money=True,
            data=message,
            headers={"Content-Type": "application/xml", "Idempotency-Key": order.reference},
        )
        status = self._status_in(response, order.reference, moves_money=True)
        return SubmissionResult(
            reference=order.reference,
            status=status.status,
            reason_code=status.reason_code,
            provider_reference=status.provider_reference,
            is_duplicate=response.status == 200,
        )

    def transfer_status(self, reference: str) -> TransferStatus:
        response = self._client.request(
            "GET", f"v1/payments/{quote(reference, safe='')}", operation="transfer_status", raise_for_status=False
        )
        if response.status == 404:
            return TransferStatus(reference=reference, status=TransferState.NOT_FOUND)
        raise_for_provider_status(response, provider=PROVIDER, operation="transfer_status", moves_money=False)
        return self._status_in(response, reference, moves_money=False)

    def day_record(self, business_date: date) -> DayRecord:
        """The bank's camt.053 statement of the day (docs/providers/banking.md §8); moves no money."""
        path = f"v1/statements/{business_date.isoformat()}"
        response = self._client.request("GET", path, operation="statement")
        return parse_camt053(response.content, provider=PROVIDER, business_date=business_date)

    def parse_status_message(self, raw: bytes) -> list[TransferStatus]:
        return statuses_of(parse_pacs002(raw))

    def verify_status_message(self, raw: bytes, headers: Mapping[str, str]) -> None:
        lowered = {name.lower(): value for name, value in headers.items()}
        try:
            t, signatures = parse_signature_header(lowered.get(SIGNATURE_HEADER.lower()))
        except SignatureHeaderError as exc:
            raise StatusMessageRejected(f"{SIGNATURE_HEADER}: {exc}") from None
        if abs(time.time() - t) > SIGNATURE_TOLERANCE_SECONDS:
            raise StatusMessageRejected("The status message signature is outside the 300 s window.")
        expected = sign_status_message(self._webhook_secret, raw, t).partition(",v1=")[2]
        if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            raise StatusMessageRejected("The status message signature does not match.")

    def close(self) -> None:
        self._client.close()

    def _status_in(self, response: ProviderResponse, reference: str, *, moves_money: bool) -> TransferStatus:
        """The status of ``reference`` in a pacs.002 answer. An unreadable answer to a transfer
        leaves its outcome unknown (it may have been taken); to a query, the bank is unavailable."""
        error = ProviderOutcomeUnknown if moves_money else ProviderUnavailable
        try:
            statuses = self.parse_status_message(response.content)
        except Iso20022Error as exc:
            raise error(
                f"partner_bank answered an unreadable pacs.002: {exc.detail}", http_status=response.status
            ) from exc
        for status in statuses:
            if status.reference == reference:
                return status
        raise error(f"partner_bank's pacs.002 does not mention {reference}", http_status=response.status)
