"""Encryption at rest for source secrets (Fernet, keys from ``SOURCE_SECRETS_KEYS``)."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretsUnreadable(Exception):
    """The stored secrets cannot be decrypted with the configured keys."""


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.SOURCE_SECRETS_KEYS)
    if not keys:
        # Development only (settings refuse this when DEBUG is off).
        digest = hashlib.sha256(f"source-secrets:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt_secrets(secrets: dict[str, str]) -> str:
    """Encrypt a mapping of secret names to values; the first key of the list encrypts."""
    return _fernet().encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()


def decrypt_secrets(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as error:
        raise SecretsUnreadable(
            "stored secrets cannot be decrypted: check SOURCE_SECRETS_KEYS"
        ) from error


def new_key() -> str:
    return Fernet.generate_key().decode()
