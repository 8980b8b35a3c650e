"""Ed25519 verification of interaction requests, as Discord requires of an Interactions Endpoint.

Discord signs `X-Signature-Timestamp` + the raw body with the application's key and sends the
signature hex-encoded in `X-Signature-Ed25519`. Anything that fails (a header missing, not hex, the
wrong length, a tampered body, another key) is a 401: Discord probes endpoints with bad signatures
and removes one that accepts them. A timestamp further than MAX_SKEW_S from now is refused too, so
a captured request cannot be replayed later.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from shared.errors import ApiError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MAX_SKEW_S = 300
SIGNATURE_HEADER = "X-Signature-Ed25519"
TIMESTAMP_HEADER = "X-Signature-Timestamp"

_lock = threading.Lock()
_keys: dict[str, Ed25519PublicKey] = {}


class SignatureError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, "invalid_signature", message)


def _public_key(hex_key: str) -> Ed25519PublicKey:
    key = _keys.get(hex_key)
    if key is None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))
        with _lock:
            _keys[hex_key] = key
    return key


def verify(
    public_key_hex: str,
    signature_hex: str | None,
    timestamp: str | None,
    body: bytes,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless `signature_hex` signs `timestamp + body` with the key."""
    from cryptography.exceptions import InvalidSignature

    if not signature_hex or not timestamp:
        raise SignatureError(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER}")
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise SignatureError("the signature is not hex") from None
    if len(signature) != 64:
        raise SignatureError("the signature is not an Ed25519 signature")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("the timestamp is not a Unix time")
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_SKEW_S:
        raise SignatureError("the timestamp is too old or in the future")
    try:
        _public_key(public_key_hex).verify(signature, timestamp.encode() + body)
    except InvalidSignature:
        raise SignatureError("the signature does not match") from None


def sign(seed_hex: str, timestamp: str, body: bytes) -> str:
    """The signature Discord would send (local stand-in, tests and the developer command)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    return key.sign(timestamp.encode() + body).hex()


def public_key_of(seed_hex: str) -> str:
    """The hex public key of a hex 32-byte Ed25519 seed."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
