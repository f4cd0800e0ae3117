"""Why a received ISO 20022 (or equivalent JSON) message was refused.

Every error is a ``core.errors.GatewayError``: the API error handler renders it as
problem+json with the field errors, and ``reason_code`` is the ISO 20022 status reason a
pain.002 rejection report carries for it (``FF01`` for anything that is not a readable, valid
message). Business-rule failures collect *all* problems of the message (``MessageRejected``);
the earlier stages stop at the first fault, because nothing after it can be trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

from banking.iso20022.reasons import ReasonCode
from core.errors import BusinessRuleViolation, ErrorCode, FieldError, ValidationFailed


@dataclass(frozen=True)
class Problem:
    """One business-rule failure: where (``field``, in the input's own path style), what, and
    the ISO reason code a status report gives for it."""

    field: str
    message: str
    reason_code: ReasonCode
    pmt_inf_id: str | None = None
    end_to_end_id: str | None = None

    def as_field_error(self) -> FieldError:
        return FieldError(self.field, self.message)


class Iso20022Error(ValidationFailed):
    """The body is not a readable, schema-valid message of a supported type (400)."""

    code = ErrorCode.PARSE_ERROR
    title = "Invalid payment message"
    reason_code = ReasonCode.INVALID_FILE_FORMAT


class MessageTooLarge(Iso20022Error):
    """Refused before parsing: the body is over the size limit (413)."""

    status = 413
    code = ErrorCode.PAYLOAD_TOO_LARGE
    title = "Payment message too large"


class MalformedMessage(Iso20022Error):
    """Not well-formed XML (or not valid JSON)."""

    title = "Malformed payment message"


class ForbiddenXmlConstruct(Iso20022Error):
    """A DTD, entity declaration or external reference: refused, never resolved."""

    title = "Forbidden XML construct"


class UnsupportedMessage(Iso20022Error):
    """Well-formed, but not one of the message types and versions this parser reads."""

    title = "Unsupported payment message"


class SchemaViolation(Iso20022Error):
    """The message breaks its official XSD; ``errors`` holds the location and the XSD rule."""

    code = ErrorCode.VALIDATION_ERROR
    title = "Payment message does not match its schema"


class MessageRejected(BusinessRuleViolation):
    """Readable and schema-valid, but breaking business rules (422). ``problems`` lists every
    failure found, each with its field path and ISO reason code."""

    title = "Payment message rejected"

    def __init__(self, problems: list[Problem], *, message_name: str = "", msg_id: str | None = None) -> None:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"The message has {count} {noun}; nothing was accepted.",
            errors=[problem.as_field_error() for problem in problems],
        )
        self.problems = tuple(problems)
        self.message_name = message_name  # pain.001.001.03 / .09 / json: what a pain.002 answers
        self.msg_id = msg_id  # the batch's MsgId when it was readable
