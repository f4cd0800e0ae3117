"""The JSON equivalent of a pain.001 batch: the same fields, the same checks, the same result.

Shape (snake_case names of the ISO elements; amounts and sums are decimal strings, never
numbers — docs/architecture.md §5; accounts are IBAN or RIB strings)::

    {"msg_id": "BATCH-20261101-0001", "creation_datetime": "2026-11-01T09:00:00Z",
     "nb_of_txs": 2, "ctrl_sum": "150000", "initiating_party": "ACME SARL",
     "payment_infos": [{
        "pmt_inf_id": "PMT-0001", "nb_of_txs": 2, "ctrl_sum": "150000",
        "requested_execution_date": "2026-11-02", "debtor_name": "ACME SARL",
        "debtor_account": "SN08SN0100152000048500003035", "debtor_agent_bic": "CBAOSNDA",
        "transactions": [{"instr_id": "I-1", "end_to_end_id": "E2E-PAYROLL-0001",
            "amount": "100000", "currency": "XOF", "creditor_name": "Awa Sow",
            "creditor_account": "SN08…", "creditor_agent_bic": "CBAOSNDA",
            "remittance_information": "Salaire 10/2026"}, …]}]}

Two stages, like XML: the structure (types, required and unknown keys — the JSON counterpart of
the XSD) is checked first and *all* its errors are reported together (``SchemaViolation``);
then the records go through the same business checks as XML (``MessageRejected``). Field paths
are JSON paths, 0-based: ``payment_infos[0].transactions[3].amount``. Duplicate keys are refused
(``MalformedMessage``): an object saying ``"amount"`` twice is ambiguous.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from banking.iso20022.errors import MalformedMessage, MessageTooLarge, SchemaViolation
from banking.iso20022.pain001_checks import Pain001Assembler
from banking.iso20022.pain001_model import (
    DEFAULT_RULES,
    AccountScheme,
    Pain001Message,
    Pain001Rules,
    RawAccount,
    RawGroupHeader,
    RawPaymentInfo,
    RawRecord,
    RawTransaction,
)
from banking.iso20022.safe_xml import DEFAULT_MAX_BYTES
from core.api.fields import text_problem
from core.api.parsers import json_problems
from core.errors import FieldError

_IBAN_SHAPE_RE = re.compile(r"^[A-Z]{2}[0-9]{2}")
MAX_REMITTANCE = 140
# Free text the business checks do not measure (ids and names are: pain001_checks), bounded as the XSD bounds them.
MAX_TEXT = {"initiating_party": 140, "remittance_information": MAX_REMITTANCE}

# key → (required, kind): "str" a string, "count" an int or digit string, "list" a non-empty array
GROUP_FIELDS = {
    "msg_id": (True, "str"),
    "creation_datetime": (True, "str"),
    "nb_of_txs": (True, "count"),
    "ctrl_sum": (True, "str"),
    "initiating_party": (False, "str"),
    "payment_infos": (True, "list"),
}
PAYMENT_FIELDS = {
    "pmt_inf_id": (True, "str"),
    "nb_of_txs": (False, "count"),
    "ctrl_sum": (False, "str"),
    "requested_execution_date": (True, "str"),
    "debtor_name": (True, "str"),
    "debtor_account": (True, "str"),
    "debtor_agent_bic": (False, "str"),
    "transactions": (True, "list"),
}
TRANSACTION_FIELDS = {
    "instr_id": (False, "str"),
    "end_to_end_id": (True, "str"),
    "amount": (True, "str"),
    "currency": (True, "str"),
    "creditor_name": (True, "str"),
    "creditor_account": (True, "str"),
    "creditor_agent_bic": (False, "str"),
    "remittance_information": (False, "str"),
}


class JsonLocator:
    """JSON paths, 0-based: ``payment_infos[1].transactions[0].amount``."""

    def group(self, name: str) -> str:
        return name

    def payment(self, payment_index: int, name: str) -> str:
        return f"payment_infos[{payment_index - 1}].{name}"

    def transaction(self, payment_index: int, index: int, name: str) -> str:
        return f"payment_infos[{payment_index - 1}].transactions[{index - 1}].{name}"


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedMessage(f"The JSON object repeats the key {key!r}.")
        result[key] = value
    return result


def load_json(body: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Decode a JSON body after checking its size; duplicate keys and deep nesting refused."""
    size = len(body.encode() if isinstance(body, str) else body)
    if size > max_bytes:
        raise MessageTooLarge(f"The message is larger than the {max_bytes:,}-byte limit; it was not parsed.")
    try:
        document = json.loads(body, object_pairs_hook=_refuse_duplicate_keys)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, MalformedMessage):
            raise
        raise MalformedMessage(f"The message is not valid JSON: {exc}") from None
    problems = json_problems(document)  # the partner API's JSON rules: NUL, lone surrogates, depth
    if problems:
        raise SchemaViolation(f"The batch holds what no message can carry ({len(problems)} errors).", errors=problems)
    return document


def _structure_errors(obj: Any, fields: Mapping[str, tuple[bool, str]], path: str) -> list[FieldError]:
    prefix = f"{path}." if path else ""
    if not isinstance(obj, Mapping):
        return [FieldError(path or "$", "Must be an object.")]
    errors = [FieldError(f"{prefix}{key}", "Unknown field.") for key in obj if key not in fields]
    for key, (required, kind) in fields.items():
        value, where = obj.get(key), f"{prefix}{key}"
        if value is None:
            if required:
                errors.append(FieldError(where, "This field is required."))
        elif kind == "str" and not isinstance(value, str):
            hint = ' Amounts are decimal strings such as "1500".' if key in ("amount", "ctrl_sum") else ""
            errors.append(FieldError(where, f"Must be a string.{hint}"))
        elif kind == "count" and (isinstance(value, bool) or not isinstance(value, int | str)):
            errors.append(FieldError(where, "Must be a whole number."))
        elif kind == "list" and (not isinstance(value, list) or not value):
            errors.append(FieldError(where, "Must be a non-empty array."))
        elif kind == "str" and text_problem(value, line_breaks=False) is not None:
            errors.append(FieldError(where, str(text_problem(value, line_breaks=False))))
        elif key in MAX_TEXT and len(value) > MAX_TEXT[key]:
            errors.append(FieldError(where, f"At most {MAX_TEXT[key]} characters (ISO 20022 Max140Text)."))
    return errors


def structure_errors(document: Any) -> list[FieldError]:
    """Every structural error of a JSON batch (the JSON counterpart of XSD validation)."""
    errors = _structure_errors(document, GROUP_FIELDS, "")
    if errors and not isinstance(document, Mapping):
        return errors
    for i, payment in enumerate(_list(document.get("payment_infos"))):
        where = f"payment_infos[{i}]"
        errors += _structure_errors(payment, PAYMENT_FIELDS, where)
        if isinstance(payment, Mapping):
            for j, transaction in enumerate(_list(payment.get("transactions"))):
                errors += _structure_errors(transaction, TRANSACTION_FIELDS, f"{where}.transactions[{j}]")
    return errors


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return None if value is None else str(value)


def _account(value: str | None) -> RawAccount | None:
    if value is None:
        return None
    text = "".join(value.split()).upper()
    is_iban = bool(_IBAN_SHAPE_RE.match(text)) and len(text) != 24
    return RawAccount(AccountScheme.IBAN if is_iban else AccountScheme.OTHER, text)


def _records(document: Mapping[str, Any]) -> Iterator[RawRecord]:
    yield RawGroupHeader(
        msg_id=_str(document, "msg_id"),
        creation_datetime=_str(document, "creation_datetime"),
        nb_of_txs=_str(document, "nb_of_txs"),
        ctrl_sum=_str(document, "ctrl_sum"),
        initiating_party=_str(document, "initiating_party"),
    )
    for i, payment in enumerate(document["payment_infos"], start=1):
        yield RawPaymentInfo(
            index=i,
            pmt_inf_id=_str(payment, "pmt_inf_id"),
            nb_of_txs=_str(payment, "nb_of_txs"),
            ctrl_sum=_str(payment, "ctrl_sum"),
            requested_execution_date=_str(payment, "requested_execution_date"),
            debtor_name=_str(payment, "debtor_name"),
            debtor_account=_account(_str(payment, "debtor_account")),
            debtor_agent_bic=_str(payment, "debtor_agent_bic"),
        )
        for j, transaction in enumerate(payment["transactions"], start=1):
            yield RawTransaction(
                payment_index=i,
                index=j,
                instr_id=_str(transaction, "instr_id"),
                end_to_end_id=_str(transaction, "end_to_end_id"),
                amount=_str(transaction, "amount"),
                currency=_str(transaction, "currency"),
                creditor_name=_str(transaction, "creditor_name"),
                creditor_account=_account(_str(transaction, "creditor_account")),
                creditor_agent_bic=_str(transaction, "creditor_agent_bic"),
                remittance_information=_str(transaction, "remittance_information"),
            )


def parse_pain001_json(
    body: bytes | str | Mapping[str, Any],
    *,
    rules: Pain001Rules = DEFAULT_RULES,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Pain001Message:
    """Read and check a JSON batch; the result is the same ``Pain001Message`` as for XML
    (``message_name == "json"``). Raises ``MessageTooLarge``, ``MalformedMessage``,
    ``SchemaViolation`` (all structural errors) or ``MessageRejected`` (all business problems)."""
    document = body if isinstance(body, Mapping) else load_json(body, max_bytes=max_bytes)
    errors = structure_errors(document)
    if errors:
        raise SchemaViolation(f"The batch does not match the JSON batch format ({len(errors)} errors).", errors=errors)
    assembler = Pain001Assembler(message_name="json", rules=rules, locator=JsonLocator())
    for record in _records(document):
        assembler.feed(record)
    return assembler.finish()
