"""Secrets at rest: values sealed with Fernet under keys from ``SPM_SECRET_KEYS``.

``SPM_SECRET_KEYS`` lists Fernet keys, comma-separated, newest first: values are sealed
with the first and opened with any, so a new key is put in front, ``spm-api secrets
rotate`` reseals every value with it, and the old key can then be dropped. Without the
variable nothing can be sealed or opened: a clear error, never a plain-text fallback.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ENVIRONMENT_VARIABLE = "SPM_SECRET_KEYS"


class SecretsUnavailable(RuntimeError):
    """No key, a malformed key, or a value sealed under a key no longer listed."""


def generate_key() -> str:
    """A new Fernet key (url-safe base64 of 32 random bytes)."""
    return Fernet.generate_key().decode()


@lru_cache(maxsize=4)
def _keyring(keys: str) -> MultiFernet:
    listed = [key.strip() for key in keys.split(",") if key.strip()]
    if not listed:
        raise SecretsUnavailable(f"{ENVIRONMENT_VARIABLE} is not set: contractor settings "
                                 f"cannot be sealed or opened (spm-api secrets generate-key)")
    try:
        return MultiFernet([Fernet(key.encode()) for key in listed])
    except ValueError as error:
        raise SecretsUnavailable(f"{ENVIRONMENT_VARIABLE} holds a key that is not a Fernet "
                                 f"key: {error}") from None


def keyring() -> MultiFernet:
    """The keys the environment lists now (read on every call; parsed once per value)."""
    return _keyring(os.environ.get(ENVIRONMENT_VARIABLE, ""))


def seal_json(value: Any) -> str:
    """``value`` as JSON, encrypted and authenticated under the newest key."""
    return keyring().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def open_json(sealed: str) -> Any:
    try:
        return json.loads(keyring().decrypt(sealed.encode()))
    except InvalidToken:
        raise SecretsUnavailable(f"a sealed value opens with none of the keys in "
                                 f"{ENVIRONMENT_VARIABLE}") from None


def reseal(sealed: str) -> str:
    """The same value sealed under the newest key."""
    try:
        return keyring().rotate(sealed.encode()).decode()
    except InvalidToken:
        raise SecretsUnavailable(f"a sealed value opens with none of the keys in "
                                 f"{ENVIRONMENT_VARIABLE}") from None
