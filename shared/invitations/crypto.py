"""Encryption at rest of `vrchat_profile` and `instance_link` with Fernet (AES-128-CBC + HMAC-SHA256).

Keys come from INVITATIONS_ENCRYPTION_KEYS (Secret Manager in production): comma-separated Fernet
keys, newest first. MultiFernet encrypts with the first key and decrypts with any of them, so a key
is rotated by putting a new one in front, running `reencrypt_all` (shared.invitations.key_rotation re-encrypts
every row with the newest key) and then dropping the old key. `cryptography` was chosen because it
is already a dependency (PyJWT's RS256, the Cloud SQL connector) and Fernet is authenticated,
versioned and timestamped, which a hand-rolled AES scheme would not be.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from shared.config import ConfigError, settings

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

KEYS_VAR = "INVITATIONS_ENCRYPTION_KEYS"

_lock = threading.Lock()
_cached: tuple[str, MultiFernet] | None = None


def cipher(raw_keys: str | None = None) -> MultiFernet:
    """The MultiFernet of the configured keys (rebuilt only when the variable changes)."""
    global _cached
    from cryptography.fernet import Fernet, MultiFernet

    raw = raw_keys if raw_keys is not None else settings().invitations_encryption_keys
    cached = _cached
    if cached is not None and cached[0] == raw:
        return cached[1]
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    try:
        fernet = MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError):
        raise ConfigError(
            f"{KEYS_VAR} must be comma-separated Fernet keys (url-safe base64, 32 bytes)"
        ) from None
    if raw_keys is None:
        with _lock:
            _cached = (raw, fernet)
    return fernet


def encrypt(plaintext: str | None, keys: str | None = None) -> str | None:
    if plaintext is None:
        return None
    return cipher(keys).encrypt(plaintext.encode()).decode()


def decrypt(token: str | None, keys: str | None = None) -> str | None:
    """Plaintext of a stored value. A token no configured key opens is a deployment error
    (a key was dropped before its rows were re-encrypted), so it raises ConfigError."""
    if token is None:
        return None
    from cryptography.fernet import InvalidToken

    try:
        return cipher(keys).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ConfigError(f"a stored value cannot be decrypted with any key in {KEYS_VAR}") from None


def is_current(token: str | None, keys: str | None = None) -> bool:
    """Whether a stored value is already encrypted with the newest key (None counts as current)."""
    if token is None:
        return True
    from cryptography.fernet import Fernet, InvalidToken

    raw = keys if keys is not None else settings().invitations_encryption_keys
    try:
        Fernet(raw.split(",")[0].strip()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str | None, keys: str | None = None) -> str | None:
    """The same plaintext encrypted with the newest key."""
    if token is None:
        return None
    return cipher(keys).rotate(token.encode()).decode()
