"""Firebase Authentication ID token verification with PyJWT.

Production: RS256 signatures checked against Google's securetoken X.509 certificates, fetched once
and cached for as long as their Cache-Control max-age says. Claims checked as Firebase documents:
`iss` = https://securetoken.google.com/<project>, `aud` = <project>, `exp` in the future, `iat` and
`auth_time` in the past, `sub` non-empty (at most 128 characters).

Emulator: the Firebase Auth emulator issues unsigned tokens (`alg: none`). They are accepted only
while FIREBASE_AUTH_EMULATOR_HOST is set and the process is not a deployed function (K_SERVICE,
which Cloud Run always sets, is absent); anywhere else they are rejected like any forgery, so a
stray emulator variable in a deployment cannot open the door.

Certificates fail safe the other way: when Google's endpoint cannot be reached after the cache
aged, the keys already held keep verifying (stale-if-error), the refetch backs off, and no request
waits on another's fetch.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import jwt

from shared import log
from shared.config import Settings, settings
from shared.errors import ApiError

CLOCK_SKEW_S = 5
MAX_TOKEN_CHARS = 8192  # Firebase ID tokens are about 1 KB; custom claims are capped at 1000 bytes
logger = log.get_logger("shared.auth")
_MAX_AGE_RE = re.compile(r"max-age=(\d+)")


class AuthError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, "unauthenticated", message)


@dataclass(frozen=True)
class Caller:
    """The verified identity behind a request."""

    uid: str
    claims: dict[str, Any] = field(repr=False)

    @property
    def email(self) -> str | None:
        return self.claims.get("email")

    @property
    def name(self) -> str | None:
        return self.claims.get("name")

    @property
    def is_staff(self) -> bool:
        return self.claims.get("staff") is True

    @property
    def discord_id(self) -> str | None:
        """The Discord user id of a member signed in through discord_auth (the `discord_id` claim)."""
        value = self.claims.get("discord_id")
        return (
            value
            if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20
            else None
        )


class _CertificateCache:
    """Google's signing certificates by key id, refreshed when their max-age runs out.

    One request at a time refreshes, without holding the lock that readers take, so nobody queues
    behind a slow fetch: they use the keys already held. A failed refresh keeps those keys and
    backs off (doubling up to MAX_BACKOFF_S); only a cache that never held the key answers 503.
    """

    MIN_BACKOFF_S = 1.0
    MAX_BACKOFF_S = 60.0

    def __init__(self) -> None:
        self._keys: dict[str, Any] = {}
        self._expires_at = 0.0
        self._fetched_at = 0.0
        self._retry_at = 0.0
        self._backoff = self.MIN_BACKOFF_S
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()

    def key(self, url: str, kid: str) -> Any:
        now = time.time()
        with self._lock:
            keys, stale = self._keys, now >= self._expires_at
            # An unknown kid may mean Google rotated keys before our cache expired: refetch, but at
            # most once a minute so that tokens with made-up kids cannot make us hammer Google.
            unknown = kid not in keys and now - self._fetched_at > 60
            due = (stale or unknown) and now >= self._retry_at
        if due:
            self._refresh(url, wait=not keys)
            with self._lock:
                keys = self._keys
        key = keys.get(kid)
        if key is not None:
            return key
        if not keys:
            raise ApiError(
                503, "auth_unavailable", "could not fetch token signing keys", headers={"Retry-After": "5"}
            )
        raise AuthError("ID token is signed with an unknown key")

    def _refresh(self, url: str, *, wait: bool) -> None:
        """Fetch the certificates. With keys in hand, a refresh already under way is not waited for."""
        if not self._refreshing.acquire(blocking=wait, timeout=6 if wait else -1):
            return
        try:
            fetched = _fetch_certificates(url)
        except (OSError, ValueError):
            with self._lock:
                self._retry_at = time.time() + self._backoff
                self._backoff = min(self._backoff * 2, self.MAX_BACKOFF_S)
            logger.warning("token certificates not refreshed; keeping the cached ones")
            return
        finally:
            self._refreshing.release()
        keys, max_age = fetched
        with self._lock:
            self._keys = keys
            self._fetched_at = time.time()
            self._expires_at = self._fetched_at + max_age
            self._retry_at = 0.0
            self._backoff = self.MIN_BACKOFF_S

    def clear(self) -> None:
        with self._lock:
            self._keys, self._expires_at, self._fetched_at, self._retry_at = {}, 0.0, 0.0, 0.0
            self._backoff = self.MIN_BACKOFF_S


def _fetch_certificates(url: str) -> tuple[dict[str, Any], int]:
    """{kid: public key} and the max-age (s) Google's Cache-Control gives them."""
    from cryptography.x509 import load_pem_x509_certificate

    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.load(response)
        cache_control = response.headers.get("Cache-Control", "")
    if not isinstance(body, dict):
        raise ValueError("certificates are not a JSON object")
    keys = {kid: load_pem_x509_certificate(pem.encode()).public_key() for kid, pem in body.items()}
    match = _MAX_AGE_RE.search(cache_control)
    return keys, int(match.group(1)) if match else 3600


certificates = _CertificateCache()


def _segment(part: str) -> dict[str, Any]:
    """One base64url JSON segment of a JWT (only the header's is needed to choose a path)."""
    try:
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except ValueError:
        raise AuthError("malformed ID token") from None
    if not isinstance(value, dict):
        raise AuthError("malformed ID token")
    return value


def _header(token: str) -> dict[str, Any]:
    head, dot, _ = token.partition(".")
    if not dot or len(token) > MAX_TOKEN_CHARS:
        raise AuthError("malformed ID token")
    return _segment(head)


class _VerifiedTokens:
    """Tokens already verified, until they expire: a client sends the same ID token with every
    request for up to an hour, and verifying it again (a signature check, JSON decoding) is work a
    flood would otherwise multiply. Bounded; only for the process-wide settings."""

    SIZE = 4096

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[Caller, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, now: float) -> Caller | None:
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            caller, expires = entry
            if now > expires + CLOCK_SKEW_S:
                del self._entries[token]
                return None
            self._entries.move_to_end(token)
            return caller

    def put(self, token: str, caller: Caller) -> None:
        with self._lock:
            self._entries[token] = (caller, float(caller.claims["exp"]))
            while len(self._entries) > self.SIZE:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


verified = _VerifiedTokens()


def _decode_unsigned(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3 or parts[2]:
        raise AuthError("malformed emulator ID token")
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        raise AuthError("malformed emulator ID token") from None
    if not isinstance(claims, dict):
        raise AuthError("malformed emulator ID token")
    return claims


def _check_claims(claims: dict[str, Any], project_id: str, now: float) -> None:
    if claims.get("iss") != f"https://securetoken.google.com/{project_id}":
        raise AuthError("ID token has the wrong issuer")
    if claims.get("aud") != project_id:
        raise AuthError("ID token has the wrong audience")
    for name in ("exp", "iat", "auth_time"):
        if not isinstance(claims.get(name), int | float):
            raise AuthError(f"ID token lacks {name}")
    if claims["exp"] <= now - CLOCK_SKEW_S:
        raise AuthError("ID token has expired")
    if claims["iat"] > now + CLOCK_SKEW_S:
        raise AuthError("ID token is not valid yet")
    if claims["auth_time"] > now + CLOCK_SKEW_S:
        raise AuthError("ID token auth_time is in the future")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 128:
        raise AuthError("ID token has no valid subject")


def verify_id_token(token: str, config: Settings | None = None) -> Caller:
    """Verify a Firebase ID token and return the caller, or raise AuthError (401)."""
    if config is None:
        config = settings()
        cached = verified.get(token, time.time())
        if cached is not None:
            return cached
        caller = _verify(token, config)
        verified.put(token, caller)
        return caller
    return _verify(token, config)


def _verify(token: str, config: Settings) -> Caller:
    project_id = config.project_id
    header = _header(token)
    alg = header.get("alg")
    now = time.time()
    if alg == "none":
        if not config.auth_emulator_host or config.deployed_service:
            raise AuthError(
                "unsigned ID tokens are accepted only from the Auth emulator, never when deployed"
            )
        claims = _decode_unsigned(token)
    elif alg == "RS256":
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise AuthError("ID token has no key id")
        key = certificates.key(config.firebase_certs_url, kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=project_id,
                issuer=f"https://securetoken.google.com/{project_id}",
                leeway=CLOCK_SKEW_S,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("ID token has expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("ID token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise AuthError("ID token has the wrong audience") from None
        except jwt.InvalidIssuerError:
            raise AuthError("ID token has the wrong issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"ID token lacks {exc.claim}") from None
        except jwt.PyJWTError:
            raise AuthError("ID token failed verification") from None
    else:
        raise AuthError("ID token must be signed with RS256")
    _check_claims(claims, project_id, now)
    return Caller(uid=claims["sub"], claims=claims)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("missing Authorization: Bearer <Firebase ID token>")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Authorization header must be 'Bearer <Firebase ID token>'")
    return token.strip()
