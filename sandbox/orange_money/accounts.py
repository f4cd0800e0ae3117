"""Sandbox Orange Money accounts: an OAuth2 application with its retailer wallet (cash-in),
its merchant code (QR payments), its PIN, and the RSA key pair that encrypts the PIN.

The key pair is generated when the account is registered (never stored in the repository);
``om_rotate_key`` revokes it, so that PINs encrypted with the old public key are refused with
4003, as Sonatel does (docs/providers/orange_money.md §2).
"""

from __future__ import annotations

import base64
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.orange_money.common import DEFAULT_FLOAT_MINOR, PROVIDER, wallet_set
from sandbox.services import SimAccount, account_for_key, account_register

TOKEN_TTL_SECONDS = 299  # prod expires_in (docs/providers/orange_money.md §2)


def rsa_key_material() -> dict[str, str]:
    """A fresh 2048-bit pair: the private key (PEM) and the public key as Sonatel serves it
    (base64 X.509 SubjectPublicKeyInfo DER)."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "key_id": secrets.token_hex(8),
        "private_key_pem": private_pem,
        "public_key_der_b64": base64.b64encode(public_der).decode(),
    }


def om_account_register(
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    partner_msisdn: str | None = None,
    pin: str | None = None,
    merchant_code: str | None = None,
    merchant_name: str = "ADDON PARTNER SANDBOX",
    callback_url: str = "",
    callback_api_key: str | None = None,
    signing_secret: str | None = None,
    sign_callbacks: bool = True,
    token_ttl_seconds: int = TOKEN_TTL_SECONDS,
    float_minor: int = DEFAULT_FLOAT_MINOR,
) -> SimAccount:
    """Create (or reset) a sandbox application; the connector's credentials are in the result
    (``api_key`` is the client_id, ``webhook_secret`` the X-Sonatel-Signature secret)."""
    extra = {
        "client_secret": client_secret or secrets.token_urlsafe(24),
        "partner_msisdn": partner_msisdn or "77" + "".join(secrets.choice("0123456789") for _ in range(7)),
        "pin": pin or "".join(secrets.choice("0123456789") for _ in range(4)),
        "merchant_code": merchant_code or "".join(secrets.choice("0123456789") for _ in range(6)),
        "merchant_name": merchant_name,
        "callback_api_key": callback_api_key or secrets.token_urlsafe(24),
        "sign_callbacks": sign_callbacks,
        "token_ttl_seconds": token_ttl_seconds,
        **rsa_key_material(),
    }
    account = account_register(
        provider=PROVIDER,
        api_key=client_id or f"om_sandbox_{secrets.token_hex(12)}",
        webhook_secret=signing_secret or f"om_whsec_{secrets.token_urlsafe(24)}",
        callback_url=callback_url,
        extra=extra,
    )
    wallet_set(account, float_minor)
    wallet_set(account, 0, wallet="merchant")
    return account


def om_rotate_key(client_id: str) -> SimAccount:
    """Replace the account's RSA key pair; the old public key is revoked at once."""
    account = account_for_key(PROVIDER, client_id)
    if account is None:
        raise LookupError(f"no sandbox Orange Money application {client_id!r}")
    return account_register(
        provider=PROVIDER,
        api_key=account.api_key,
        webhook_secret=account.webhook_secret,
        callback_url=account.callback_url,
        extra={**account.extra, **rsa_key_material()},
    )


def om_connector_credentials(account: SimAccount) -> dict[str, str]:
    """The credentials an ``orange_money`` provider connection needs to use this sandbox
    application (demo seeding, tests). Without signed callbacks, only the Basic apiKey."""
    extra = account.extra
    credentials = {
        "client_id": account.api_key,
        "client_secret": extra["client_secret"],
        "partner_msisdn": "+221" + extra["partner_msisdn"],
        "pin": extra["pin"],
        "merchant_code": extra["merchant_code"],
        "merchant_name": extra["merchant_name"],
        "callback_api_key": extra["callback_api_key"],
    }
    if extra.get("sign_callbacks"):
        credentials["callback_signing_secret"] = account.webhook_secret
    return credentials
