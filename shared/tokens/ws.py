"""Short-lived tokens for the WebSocket server (avatar motion and chat), and the JWKS that verifies them.

Asymmetric, so the WebSocket server holds only public keys. WS_SIGNING_KEYS is a JSON list of
{"kid", "privateKey" (PKCS#8 PEM, Ed25519 -> EdDSA or P-256 -> ES256)}, oldest first. Rotation:
append the new key (both are published, the newest signs); once every token signed by the old key
has expired (5 minutes) and verifiers refreshed their JWKS cache, drop the old key.
"""

from __future__ import annotations

import base64
import functools
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.config import ConfigError, settings

MAX_TTL = timedelta(minutes=5)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str  # "EdDSA" or "ES256"
    private_key: Any  # a cryptography private key object
    public_jwk: dict[str, str]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _load_key(entry: Any, index: int) -> SigningKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str) or not entry["kid"]:
        raise ConfigError(f"WS_SIGNING_KEYS[{index}] needs a non-empty string 'kid'")
    kid = entry["kid"]
    try:
        key = serialization.load_pem_private_key(str(entry.get("privateKey", "")).encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"WS_SIGNING_KEYS[{index}] ({kid}): privateKey is not a PEM private key") from exc
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
        algorithm = "EdDSA"
    elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        numbers = key.public_key().public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        }
        algorithm = "ES256"
    else:
        raise ConfigError(f"WS_SIGNING_KEYS[{index}] ({kid}): only Ed25519 and P-256 keys are supported")
    return SigningKey(kid, algorithm, key, {**jwk, "kid": kid, "alg": algorithm, "use": "sig"})


@functools.lru_cache(maxsize=4)
def _parse_keys(raw: str) -> tuple[SigningKey, ...]:
    try:
        entries = json.loads(raw)
    except ValueError as exc:
        raise ConfigError("WS_SIGNING_KEYS is not JSON") from exc
    if not isinstance(entries, list) or not entries:
        raise ConfigError("WS_SIGNING_KEYS must be a non-empty JSON list of {kid, privateKey}")
    keys = tuple(_load_key(entry, index) for index, entry in enumerate(entries))
    if len({key.kid for key in keys}) != len(keys):
        raise ConfigError("WS_SIGNING_KEYS has a duplicate kid")
    return keys


def signing_keys() -> tuple[SigningKey, ...]:
    """Every configured key, oldest first (parsed once per distinct value)."""
    return _parse_keys(settings().ws_signing_keys)


def jwks() -> dict[str, list[dict[str, str]]]:
    """The public half of every key, newest first (verifiers pick by kid)."""
    return {"keys": [key.public_jwk for key in reversed(signing_keys())]}


@dataclass(frozen=True)
class WsTokenSettings:
    issuer: str
    audience: str
    ttl: timedelta

    @classmethod
    def from_settings(cls) -> WsTokenSettings:
        config = settings()
        return cls(
            issuer=config.ws_token_issuer,
            audience=config.ws_token_audience,
            ttl=timedelta(seconds=config.ws_token_ttl_s),
        )


def sign_ws_token(
    uid: str, now: datetime, room_id: str | None = None, token_settings: WsTokenSettings | None = None
) -> tuple[str, datetime]:
    """A token for `uid` signed with the newest key; returns (token, expiresAt)."""
    import jwt

    config = token_settings or WsTokenSettings.from_settings()
    key = signing_keys()[-1]
    issued = int(now.timestamp())
    expires_at = datetime.fromtimestamp(issued, now.tzinfo) + config.ttl
    claims: dict[str, Any] = {
        "iss": config.issuer,
        "aud": config.audience,
        "sub": uid,
        "jti": uuid.uuid4().hex,
        "iat": issued,
        "exp": int(expires_at.timestamp()),
    }
    if room_id is not None:
        claims["room"] = room_id
    token = jwt.encode(claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid})
    return token, expires_at
