"""The WebSocket token (minted by issue_tokens) verified against issue_tokens' published JWKS.

The key set is cached per its `Cache-Control: max-age` and refetched when it goes stale or when a
token names a `kid` the cache does not hold (a rotation added a key), at most once per
`min_refresh_s` for unknown kids, so made-up kids cannot turn into a fetch each. Concurrent callers
share one fetch. If a refetch fails, the last good key set keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt

log = logging.getLogger("realtime.tokens")

ALGORITHMS = ("EdDSA", "ES256")  # what issue_tokens signs with; never HS* (the public key is public)
DEFAULT_MAX_AGE_S = 300.0
MAX_AGE_RANGE_S = (5.0, 3600.0)
_MAX_AGE = re.compile(r"max-age=(\d+)")

Fetch = Callable[[str], Awaitable[tuple[dict[str, Any], float | None]]]


class TokenError(Exception):
    """The token is not acceptable; `reason` is safe to send to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeysUnavailable(Exception):
    """No key set could be fetched yet: a server-side problem, the client should retry."""


@dataclass(frozen=True)
class Claims:
    uid: str
    jti: str
    room: str | None
    exp: int


async def fetch_jwks(url: str) -> tuple[dict[str, Any], float | None]:
    """GET the JWKS (in a thread: one small request per refresh does not justify an HTTP client library)."""

    def get() -> tuple[dict[str, Any], float | None]:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            body = json.loads(response.read())
            match = _MAX_AGE.search(response.headers.get("Cache-Control", ""))
            return body, float(match.group(1)) if match else None

    return await asyncio.to_thread(get)


class JwksCache:
    def __init__(
        self,
        url: str,
        *,
        min_refresh_s: float = 10.0,
        fetch: Fetch = fetch_jwks,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.min_refresh_s = min_refresh_s
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._expires_at = 0.0
        self._inflight: asyncio.Task[None] | None = None
        self.fetches = 0

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    async def key(self, kid: str) -> jwt.PyJWK | None:
        now = self._clock()
        stale = self._fetched_at is None or now >= self._expires_at
        unknown = kid not in self._keys
        may_refetch = self._fetched_at is None or now - self._fetched_at >= self.min_refresh_s
        if stale or (unknown and may_refetch):
            await self._refresh()
        if not self._keys and self._fetched_at is None:
            raise KeysUnavailable(self.url)
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        if self._inflight is None:
            self._inflight = asyncio.create_task(self._load())
        task = self._inflight
        try:
            await asyncio.shield(task)
        finally:
            if task.done() and self._inflight is task:
                self._inflight = None

    async def _load(self) -> None:
        self.fetches += 1
        try:
            body, max_age = await self._fetch(self.url)
            keys = _parse_jwks(body)
        except Exception as exc:  # network, HTTP or JSON: keep serving what we had
            log.warning(
                "jwks fetch failed",
                extra={"fields": {"url": self.url, "error": f"{type(exc).__name__}: {exc}"}},
            )
            if self._fetched_at is not None:
                # Retry after min_refresh_s rather than on every connection.
                self._expires_at = self._clock() + self.min_refresh_s
            return
        low, high = MAX_AGE_RANGE_S
        age = min(max(max_age if max_age is not None else DEFAULT_MAX_AGE_S, low), high)
        now = self._clock()
        self._keys, self._fetched_at, self._expires_at = keys, now, now + age
        log.info("jwks loaded", extra={"fields": {"kids": sorted(keys), "maxAgeS": age}})


def _parse_jwks(body: Any) -> dict[str, jwt.PyJWK]:
    if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
        raise ValueError("not a JWK set")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in body["keys"]:
        if not isinstance(entry, dict) or entry.get("alg") not in ALGORITHMS or not entry.get("kid"):
            continue  # a key of another kind is not ours to use; skip it rather than fail the set
        try:
            keys[str(entry["kid"])] = jwt.PyJWK(entry)
        except jwt.PyJWKError:
            continue
    return keys


class TokenVerifier:
    def __init__(self, cache: JwksCache, *, issuer: str, audience: str) -> None:
        self.cache = cache
        self.issuer = issuer
        self.audience = audience

    async def verify(self, token: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise TokenError("malformed token") from None
        kid, alg = header.get("kid"), header.get("alg")
        if not isinstance(kid, str) or alg not in ALGORITHMS:
            raise TokenError("token has no kid or an unsupported algorithm")
        key = await self.cache.key(kid)
        if key is None:
            raise TokenError("unknown signing key")
        if key.algorithm_name != alg:
            raise TokenError("algorithm does not match the key")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("token expired") from None
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"invalid token: {type(exc).__name__}") from None
        uid, jti, room = claims.get("sub"), claims.get("jti"), claims.get("room")
        if not isinstance(uid, str) or not uid or not isinstance(jti, str) or not jti:
            raise TokenError("token lacks sub or jti")
        if room is not None and not isinstance(room, str):
            raise TokenError("room claim is not a string")
        return Claims(uid=uid, jti=jti, room=room, exp=int(claims["exp"]))
