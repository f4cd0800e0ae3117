"""Simulated banks' view of accounts: which account numbers are closed, blocked, unknown…

The outcome is chosen by the 12-digit account number inside the IBAN or RIB (BBAN = bank 5 +
branch 5 + account 12 + key 2), never by the IBAN's last digits, which are the RIB key:

| account number ends with | outcome |
|---|---|
| ``0001`` | rejected ``AC01`` (no such account) |
| ``0004`` | rejected ``AC04`` (account closed) |
| ``0006`` | rejected ``AC06`` (account blocked) |
| ``9901`` | rejected ``AC06`` (docs/architecture.md §6: rejected, blocked account) |
| ``9902`` | the answer hangs past the read timeout, but the operation IS carried out |
| ``9903`` | first attempt per reference answers 503 (nothing done); the retry succeeds |
| ``9904`` | rejected ``AM04`` (insufficient funds) |
| ``9905`` | succeeds; a bank that sends callbacks sends the final one late and twice |
| anything else | succeeds |

An account number that is not a well-formed WAEMU IBAN/RIB (or fails its MOD-97 check) is
unknown to the bank: ``AC01``. The sandbox imports nothing of ours but core, so this file reads
IBANs on its own, as the outside world would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sandbox.services import Outcome, outcome_for

_BBAN_RE = re.compile(r"^[A-Z][A-Z0-9][0-9]{22}$")

_MARKERS = {"0001": "AC01", "0004": "AC04", "0006": "AC06"}
_OUTCOME_REASONS = {Outcome.REJECTED: "AC06", Outcome.INSUFFICIENT_FLOAT: "AM04"}


@dataclass(frozen=True)
class AccountDecision:
    account_number: str  # the 12 digits ("" when unreadable)
    outcome: Outcome  # how the simulator behaves (docs/architecture.md §6)
    reason_code: str | None  # set when the operation is refused


def _bban(account: str) -> str | None:
    text = "".join(account.split()).upper()
    if len(text) == 28 and text[:2].isalpha() and text[2:4].isdigit():
        rotated = text[4:] + text[:4]
        if int("".join(str(int(ch, 36)) for ch in rotated)) % 97 != 1:
            return None
        text = text[4:]
    return text if _BBAN_RE.match(text) else None


def decide(account: str) -> AccountDecision:
    bban = _bban(account)
    if bban is None:
        return AccountDecision("", Outcome.REJECTED, "AC01")
    number = bban[10:22]
    marker = _MARKERS.get(number[-4:])
    if marker:
        return AccountDecision(number, Outcome.REJECTED, marker)
    outcome = outcome_for(number)
    return AccountDecision(number, outcome, _OUTCOME_REASONS.get(outcome))
