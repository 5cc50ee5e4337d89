"""Encryption at rest for TOTP secrets (Fernet: AES-128-CBC with HMAC-SHA256).

The key comes from the setting TOTP_ENCRYPTION_KEY: one or more Fernet keys, comma-separated, the
first used to encrypt and all tried to decrypt (so a key can be rotated). Make one with
`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.
When the setting is empty the key is derived from SECRET_KEY with HKDF-SHA256 (info
`portal/totp-secret/v1`): then changing SECRET_KEY makes every enrolled authenticator unreadable and
each user must enrol again, so production sets TOTP_ENCRYPTION_KEY.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

HKDF_INFO = b"portal/totp-secret/v1"


def derive_key(secret_key: str) -> bytes:
    """A Fernet key derived from SECRET_KEY (used when TOTP_ENCRYPTION_KEY is not set)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        secret_key.encode("utf-8")
    )
    return base64.urlsafe_b64encode(raw)


@lru_cache(maxsize=8)
def _fernet(configured: str, secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    if not keys:
        return MultiFernet([Fernet(derive_key(secret_key))])
    try:
        return MultiFernet([Fernet(k.encode("ascii")) for k in keys])
    except ValueError as exc:
        raise RuntimeError(
            "TOTP_ENCRYPTION_KEY must hold Fernet keys (32 url-safe base64 bytes), comma-separated"
        ) from exc


def fernet_for(config) -> MultiFernet:
    return _fernet(config.get("TOTP_ENCRYPTION_KEY") or "", config["SECRET_KEY"])


def encrypt_secret(plain: str) -> str:
    return fernet_for(current_app.config).encrypt(plain.encode("ascii")).decode("ascii")


def decrypt_secret(token: str) -> str | None:
    """The secret, or None when no configured key opens it (the user must enrol again)."""
    try:
        return fernet_for(current_app.config).decrypt(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        current_app.logger.error("A TOTP secret could not be decrypted: wrong key?")
        return None
