"""WAEMU bank account numbers: IBAN and RIB (docs/providers/banking.md §1).

A WAEMU account is identified by a 24-character RIB (the BBAN)::

    bank code (5) | branch code (5) | account number (12) | RIB key (2)
    SN010           01520             000485000030          35

and by the IBAN built on it: country (2) + ISO 7064 MOD-97-10 check digits (2) + RIB, 28
characters in all (``SN08SN0100152000048500003035``). Two bank-code styles coexist
(§1 of that page): the current BCEAO codes carry the country (``SN010``), the legacy registry
codes one letter and four digits (``K0100``); both fit ``[A-Z][A-Z0-9]\\d{3}``.

Rules applied here:

- **normalisation**: every whitespace character is removed and letters are upper-cased
  (``"sn08 sn01 0015 …"`` → ``"SN08SN01…"``);
- **IBAN**: ``^(BF|BJ|CI|ML|NE|SN|TG)\\d{2}[A-Z][A-Z0-9]\\d{22}$`` then MOD-97-10 (letters → 10..35,
  the first four characters moved to the end, the number mod 97 must be 1). Senegal (``SN``) is
  the gateway's country; the six other WAEMU states with the same 28-character layout are
  accepted because XOF transfers to them clear through the same regional systems
  (docs/providers/banking.md §5).
  Guinea-Bissau's IBAN has another length and is refused. Library country tables are not used:
  some reject the ``SN01…`` form (docs/providers/banking.md §1);
- **RIB key** (unverified: no BCEAO text gives the algorithm, docs/providers/banking.md §7):
  the French RIB rule the BCEAO RIB inherited. Letters become digits with the French table (A,J→1; B,K,S→2; C,L,T→3;
  D,M,U→4; E,N,V→5; F,O,W→6; G,P,X→7; H,Q,Y→8; I,R,Z→9), then
  ``key = 97 - (int(bank ‖ branch ‖ account ‖ "00") mod 97)``, written on two digits (01..97).
  It gives the key of every published BCEAO example IBAN (BF, BJ, CI, ML, NE, SN, TG — the
  iban.js / ibantools test vectors, see tests/banking/test_iban.py). A RIB is checked with it;
  an IBAN is checked with MOD-97 *and* its embedded RIB key (``check_rib_key=False`` turns the
  second check off), because an IBAN computed by a converter over a mistyped RIB passes MOD-97.

Error messages never reveal the expected check digits or key: a checksum tells a typo apart
from an account, it must not help "fix" a number into another person's account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from core.errors import ErrorCode, ValidationFailed

IBAN_LENGTH = 28
RIB_LENGTH = 24
WAEMU_IBAN_COUNTRIES: frozenset[str] = frozenset({"BF", "BJ", "CI", "ML", "NE", "SN", "TG"})

_BBAN_PATTERN = r"[A-Z][A-Z0-9][0-9]{22}"
_IBAN_RE = re.compile(rf"^(?P<country>[A-Z]{{2}})(?P<check>[0-9]{{2}})(?P<bban>{_BBAN_PATTERN})$")
_RIB_RE = re.compile(rf"^{_BBAN_PATTERN}$")
_IBAN_SHAPE_RE = re.compile(r"^[A-Z]{2}[0-9]{2}")

# French RIB letter table: A..I → 1..9, J..R → 1..9, S..Z → 2..9.
_RIB_LETTERS = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "12345678912345678923456789",
)


class AccountNumberReason(StrEnum):
    """Why an account number was refused (stable, for tests and error mapping)."""

    EMPTY = "empty"
    LENGTH = "length"
    FORMAT = "format"
    COUNTRY = "country"
    CHECKSUM = "checksum"
    RIB_KEY = "rib_key"


class AccountNumberError(ValidationFailed):
    """The text is not a valid WAEMU IBAN or RIB; ``reason`` says which rule failed."""

    code = ErrorCode.VALIDATION_ERROR
    title = "Invalid bank account number"

    def __init__(self, detail: str, *, reason: AccountNumberReason) -> None:
        super().__init__(detail)
        self.reason = reason


class AccountKind(StrEnum):
    IBAN = "iban"
    RIB = "rib"


@dataclass(frozen=True)
class Rib:
    """A WAEMU RIB (BBAN): bank code, branch code, account number and key."""

    bank_code: str
    branch_code: str
    account_number: str
    key: str

    @property
    def value(self) -> str:
        return f"{self.bank_code}{self.branch_code}{self.account_number}{self.key}"

    @property
    def key_is_valid(self) -> bool:
        return rib_key(self.bank_code, self.branch_code, self.account_number) == self.key

    def formatted(self) -> str:
        return f"{self.bank_code} {self.branch_code} {self.account_number} {self.key}"


@dataclass(frozen=True)
class Iban:
    """A valid WAEMU IBAN and the RIB inside it."""

    value: str
    country: str
    check_digits: str
    rib: Rib

    @property
    def bban(self) -> str:
        return self.rib.value

    def formatted(self) -> str:
        return " ".join(self.value[i : i + 4] for i in range(0, len(self.value), 4))


@dataclass(frozen=True)
class BankAccount:
    """An account given as an IBAN or as a RIB; ``rib`` is always set."""

    kind: AccountKind
    rib: Rib
    iban: Iban | None = None

    @property
    def value(self) -> str:
        """The normalised number as given (the IBAN, or the RIB)."""
        return self.iban.value if self.iban is not None else self.rib.value

    @property
    def account_number(self) -> str:
        return self.rib.account_number


def normalise(value: str) -> str:
    """Remove every whitespace character and upper-case the letters."""
    return "".join(value.split()).upper()


def rib_key(bank_code: str, branch_code: str, account_number: str) -> str:
    """The two-digit RIB key of an account (French RIB rule, see the module docstring)."""
    digits = (bank_code + branch_code + account_number).upper().translate(_RIB_LETTERS)
    if not digits.isdigit():
        raise ValueError("RIB parts hold only letters and digits")
    return f"{97 - (int(digits + '00') % 97):02d}"


def _mod97(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text)) % 97


def iban_check_digits(country: str, bban: str) -> str:
    """The ISO 7064 MOD-97-10 check digits of ``country`` + ``bban``."""
    return f"{98 - _mod97(bban + country + '00'):02d}"


def _split_rib(bban: str) -> Rib:
    return Rib(bank_code=bban[:5], branch_code=bban[5:10], account_number=bban[10:22], key=bban[22:24])


def parse_rib(value: str) -> Rib:
    """A valid RIB from text (spaces allowed), or ``AccountNumberError``."""
    text = normalise(value)
    if not text:
        raise AccountNumberError("The RIB is empty.", reason=AccountNumberReason.EMPTY)
    if len(text) != RIB_LENGTH:
        raise AccountNumberError(
            f"A RIB has {RIB_LENGTH} characters (bank 5, branch 5, account 12, key 2); got {len(text)}.",
            reason=AccountNumberReason.LENGTH,
        )
    if not _RIB_RE.match(text):
        raise AccountNumberError(
            "A RIB is a bank code (a letter, a letter or digit, three digits) followed by 19 digits.",
            reason=AccountNumberReason.FORMAT,
        )
    rib = _split_rib(text)
    if not rib.key_is_valid:
        raise AccountNumberError(
            f"The RIB key {rib.key} does not match the bank, branch and account number.",
            reason=AccountNumberReason.RIB_KEY,
        )
    return rib


def parse_iban(value: str, *, countries: frozenset[str] = WAEMU_IBAN_COUNTRIES, check_rib_key: bool = True) -> Iban:
    """A valid WAEMU IBAN from text (spaces allowed), or ``AccountNumberError``."""
    text = normalise(value)
    if not text:
        raise AccountNumberError("The IBAN is empty.", reason=AccountNumberReason.EMPTY)
    country = text[:2]
    if _IBAN_SHAPE_RE.match(text) and country not in countries:
        allowed = ", ".join(sorted(countries))
        raise AccountNumberError(
            f"{country} is not an accepted IBAN country (accepted: {allowed}).", reason=AccountNumberReason.COUNTRY
        )
    if len(text) != IBAN_LENGTH:
        raise AccountNumberError(
            f"A {country or 'WAEMU'} IBAN has {IBAN_LENGTH} characters; got {len(text)}.",
            reason=AccountNumberReason.LENGTH,
        )
    match = _IBAN_RE.match(text)
    if match is None:
        raise AccountNumberError(
            "An IBAN here is a country code, two check digits, a bank code (a letter, a letter or digit, "
            "three digits) and 19 digits.",
            reason=AccountNumberReason.FORMAT,
        )
    if _mod97(text[4:] + text[:4]) != 1:
        raise AccountNumberError(
            "The IBAN check digits are wrong (ISO 7064 MOD-97-10): the number has a typo.",
            reason=AccountNumberReason.CHECKSUM,
        )
    rib = _split_rib(match.group("bban"))
    if check_rib_key and not rib.key_is_valid:
        raise AccountNumberError(
            f"The RIB key {rib.key} inside the IBAN does not match the bank, branch and account number.",
            reason=AccountNumberReason.RIB_KEY,
        )
    return Iban(value=text, country=country, check_digits=match.group("check"), rib=rib)


def parse_account(value: str) -> BankAccount:
    """An IBAN (when the text starts with a country code and check digits) or a RIB."""
    text = normalise(value)
    if _IBAN_SHAPE_RE.match(text) and len(text) != RIB_LENGTH:
        iban = parse_iban(text)
        return BankAccount(kind=AccountKind.IBAN, rib=iban.rib, iban=iban)
    if len(text) == RIB_LENGTH:
        return BankAccount(kind=AccountKind.RIB, rib=parse_rib(text))
    if not text:
        raise AccountNumberError("The account number is empty.", reason=AccountNumberReason.EMPTY)
    raise AccountNumberError(
        f"An account is an IBAN ({IBAN_LENGTH} characters) or a RIB ({RIB_LENGTH} characters); got {len(text)}.",
        reason=AccountNumberReason.LENGTH,
    )


def iban_from_rib(rib: Rib, country: str | None = None) -> Iban:
    """The IBAN of a RIB. The country defaults to the one in a BCEAO bank code (``SN010`` → SN)."""
    if country is None:
        country = rib.bank_code[:2] if rib.bank_code[:2].isalpha() else "SN"
    text = country + iban_check_digits(country, rib.value) + rib.value
    return parse_iban(text)


def is_valid_iban(value: str) -> bool:
    try:
        parse_iban(value)
    except AccountNumberError:
        return False
    return True
