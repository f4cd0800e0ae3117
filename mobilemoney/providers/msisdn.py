"""MSISDN forms at the edge of the providers.

Inside the gateway a phone number is always E.164 (``+221771234567``, docs/glossary.md "MSISDN").
Wave speaks E.164 too (docs/providers/wave.md §2). Orange Money Sénégal wants the 9 local
digits without ``221`` (docs/providers/orange_money.md §3, pattern ``^\\d{9}$``): connectors
convert on the way out and back to E.164 on the way in, so nothing past the connector ever
sees the local form.
"""

from __future__ import annotations

import re

SENEGAL_COUNTRY_CODE = "221"

_E164_RE = re.compile(r"^\+[1-9][0-9]{7,14}$")
_SN_E164_RE = re.compile(r"^\+221([0-9]{9})$")
_SN_LOCAL_RE = re.compile(r"^[0-9]{9}$")


class MsisdnError(ValueError):
    """The number is not in the form the caller or the provider requires."""


def is_e164(msisdn: str) -> bool:
    return bool(_E164_RE.match(msisdn))


def e164_to_sn_local(msisdn: str) -> str:
    """``+221771234567`` → ``771234567``. Refuses anything that is not a Senegalese E.164."""
    match = _SN_E164_RE.match(msisdn)
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
    if not _SN_LOCAL_RE.match(digits):
        raise MsisdnError(f"{local!r} is not a 9-digit Senegalese number")
    return f"+{SENEGAL_COUNTRY_CODE}{digits}"
