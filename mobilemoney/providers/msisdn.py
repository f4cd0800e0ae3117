"""MSISDN forms at the edge of the providers.

Inside the gateway a phone number is always E.164 (``+221771234567``, docs/glossary.md "MSISDN").
Wave speaks E.164 too (docs/providers/wave.md §2). Orange Money Sénégal wants the 9 local
digits without ``221`` (docs/providers/orange_money.md §3, pattern ``^\\d{9}$``): connectors
convert on the way out and back to E.164 on the way in, so nothing past the connector ever
sees the local form.

``msisdn_problem`` is the one rule of what a wallet number of a country looks like, applied at
intake (single cash-ins, JSON and CSV batches, checkout payers): a number no wallet can have is
refused before anything is created, rather than failing a provider batch later (issue 16).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

SENEGAL_COUNTRY_CODE = "221"

# fullmatch everywhere: ``$`` would also match before a trailing newline.
_E164_RE = re.compile(r"\+[1-9][0-9]{7,14}")
_SN_E164_RE = re.compile(r"\+221([0-9]{9})")
_SN_LOCAL_RE = re.compile(r"[0-9]{9}")


@dataclass(frozen=True)
class MobileNumbering:
    """How the mobile numbers of one country are written: the country code, the length of the
    national number, and the prefixes (first digits of the national number) of mobile ranges."""

    name: str
    country_code: str
    national_digits: int
    mobile_prefixes: tuple[str, ...]

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        prefixes = "|".join(self.mobile_prefixes)
        rest = self.national_digits - len(self.mobile_prefixes[0])
        return re.compile(rf"\+{self.country_code}(?:{prefixes})[0-9]{{{rest}}}")


# Wave and Orange Money, as connected here, serve Senegal (docs/providers/wave.md §2,
# docs/providers/orange_money.md §3). Senegal's national numbers have nine digits and mobile ones
# begin 70, 75, 76, 77 or 78 — the numbering plan's mobile ranges, given with their sources in
# docs/glossary.md "MSISDN"; 3x numbers are fixed lines (no wallet), 8x special services. With
# number portability a prefix does not tell the operator today, so it is only checked, never used
# to route. A range the regulator opens later is one more entry here (and in the glossary).
NUMBERING: dict[str, MobileNumbering] = {
    "SN": MobileNumbering(
        name="Senegal",
        country_code=SENEGAL_COUNTRY_CODE,
        national_digits=9,
        mobile_prefixes=("70", "75", "76", "77", "78"),
    ),
}


class MsisdnError(ValueError):
    """The number is not in the form the caller or the provider requires."""


def is_e164(msisdn: str) -> bool:
    return bool(_E164_RE.fullmatch(msisdn))


def msisdn_problem(msisdn: str, country: str = "SN") -> str | None:
    """Why ``msisdn`` cannot be a mobile wallet of ``country`` (a message for the partner), or
    None when it can: E.164, the country's code, the national number's length, a mobile prefix."""
    numbering = NUMBERING[country]
    if numbering.pattern.fullmatch(msisdn):
        return None
    example = f"+{numbering.country_code}{numbering.mobile_prefixes[-2]}1234567"
    if not is_e164(msisdn):
        return f"must be an E.164 number such as {example}"
    national = msisdn[1 + len(numbering.country_code) :]
    if not msisdn.startswith(f"+{numbering.country_code}"):
        return f"must be a number of {numbering.name} (+{numbering.country_code}), such as {example}"
    if len(national) != numbering.national_digits:
        return (
            f"must be +{numbering.country_code} and {numbering.national_digits} digits"
            f" ({len(national)} given), such as {example}"
        )
    return f"{national[:2]} is not a mobile prefix in {numbering.name} ({', '.join(numbering.mobile_prefixes)})"


def e164_to_sn_local(msisdn: str) -> str:
    """``+221771234567`` → ``771234567``. Refuses anything that is not a Senegalese E.164."""
    match = _SN_E164_RE.fullmatch(msisdn)
    if match is None:
        raise MsisdnError(f"{msisdn!r} is not a Senegalese number in E.164 form (+221 and 9 digits)")
    return match.group(1)


def sn_local_to_e164(local: str) -> str:
    """``771234567`` → ``+221771234567``. Tolerates a provider that already sent 221 or +221."""
    digits = local.strip()
    if digits.startswith("+"):
        digits = digits[1:]
    if len(digits) == 12 and digits.startswith(SENEGAL_COUNTRY_CODE):
        digits = digits[3:]
    if not _SN_LOCAL_RE.fullmatch(digits):
        raise MsisdnError(f"{local!r} is not a 9-digit Senegalese number")
    return f"+{SENEGAL_COUNTRY_CODE}{digits}"
