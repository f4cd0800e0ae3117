"""Field encryption at rest (docs/architecture.md §9): signing secrets and provider credentials.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, authenticated) under the keys of
``settings.FIELD_ENCRYPTION_KEYS``: the first key encrypts, every key decrypts. Rotating the
key is three steps: put the new key first and keep the old one after it, run
``manage.py reencrypt_secrets`` (which calls ``reencrypt`` on every stored value), then drop
the old key.

``EncryptedTextField`` and ``EncryptedJSONField`` do this transparently for model fields: the
database column only ever holds a Fernet token (``gAAAAA…``), never the clear value. Tokens
are not deterministic, so these fields cannot be filtered on.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression


class DecryptionError(Exception):
    """A stored value cannot be decrypted with any configured key (a key was dropped too early?)."""


@functools.lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: at least one Fernet key is required.")
    try:
        return MultiFernet([Fernet(key.encode("ascii")) for key in keys])
    except (ValueError, UnicodeEncodeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must hold url-safe base64 Fernet keys of 32 bytes "
            "(make one with cryptography.fernet.Fernet.generate_key())."
        ) from exc


def _fernet() -> MultiFernet:
    # Keyed on the current setting, so a changed key list (rotation, tests) takes effect at once.
    return _multi_fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_str(value: str) -> str:
    """Encrypt ``value`` with the first key; the result is an ASCII Fernet token."""
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_str(token: str) -> str:
    """Decrypt a token made by ``encrypt_str`` with whichever configured key fits."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("value cannot be decrypted with any key of FIELD_ENCRYPTION_KEYS") from exc


def reencrypt(token: str) -> str:
    """The same clear value, encrypted again under the first (newest) key."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("value cannot be decrypted with any key of FIELD_ENCRYPTION_KEYS") from exc


def is_encrypted_with_primary(token: str) -> bool:
    """True when the first configured key alone decrypts ``token`` (nothing left to rotate)."""
    primary = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode("ascii"))
    try:
        primary.decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; Python code sees the clear string."""

    description = "Text encrypted at rest with FIELD_ENCRYPTION_KEYS"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or isinstance(value, Expression):
            return value
        return encrypt_str(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None:
            return value
        return decrypt_str(value)

    def get_lookup(self, lookup_name: str) -> Any:
        # Tokens are randomised: a lookup on the column could never match a clear value.
        if lookup_name != "isnull":
            raise NotImplementedError(f"{type(self).__name__} supports no '{lookup_name}' lookup")
        return super().get_lookup(lookup_name)


class EncryptedJSONField(models.TextField):
    """A JSON value (dict, list…) serialised then stored as a Fernet token."""

    description = "JSON encrypted at rest with FIELD_ENCRYPTION_KEYS"

    def get_prep_value(self, value: Any) -> Any:
        if value is None or isinstance(value, Expression):
            return value
        return encrypt_str(json.dumps(value, separators=(",", ":"), sort_keys=True))

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None:
            return value
        return json.loads(decrypt_str(value))

    def to_python(self, value: Any) -> Any:
        # Model instances hold the decoded value; forms may hand us its JSON text.
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise NotImplementedError(f"{type(self).__name__} supports no '{lookup_name}' lookup")
        return super().get_lookup(lookup_name)
