"""The service's settings, read once at start from the environment and validated together.

A service that holds sockets for an hour should fail at start, not on the first connection: every
value is parsed here, and a missing or malformed one is a ConfigError naming the variable (never its
value, which may hold a password).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

DEFAULT_ISSUER = "vchat-issue-tokens"  # the same defaults as shared/tokens/ws.py (not imported: cold start)
DEFAULT_AUDIENCE = "vchat-ws"


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    redis_url: str
    jwks_url: str
    issuer: str = DEFAULT_ISSUER
    audience: str = DEFAULT_AUDIENCE
    host: str = "0.0.0.0"
    port: int = 8080
    instance_id: str = "local"
    # An unknown `kid` refetches the JWKS, but not more often than this (a flood of made-up kids must
    # not turn into a flood of fetches); a known key set is refreshed per its Cache-Control.
    jwks_min_refresh_s: float = 10.0
    motion_max_bytes: int = 8192
    motion_per_s: float = 30.0  # clients send 20/s; the slack absorbs jitter
    chat_max_chars: int = 500
    chat_per_s: float = 2.0
    chat_burst: int = 10
    queue_motion: int = 32  # per connection; past it the oldest motion frame is dropped
    queue_other: int = 256  # chat and events are never dropped: past it the client is too slow and closed
    ping_interval_s: float = 20.0
    ping_timeout_s: float = 20.0
    presence_recheck_s: float = 0.3
    motion_ttl_s: int = 60
    motion_flush_s: float = 1.0  # the cache is a late joiner's first pose; live frames follow at 20/s
    compression: bool = False

    @property
    def max_frame_bytes(self) -> int:
        # The largest text a client may send: a motion frame, or a chat of chat_max_chars 4-byte characters.
        return max(self.motion_max_bytes, self.chat_max_chars * 4 + 256)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        read = _Reader(env)
        revision = env.get("K_REVISION", "local")
        return cls(
            redis_url=read("REDIS_URL", _redis_url),
            jwks_url=read("WS_JWKS_URL", _url("http", "https")),
            issuer=read("WS_TOKEN_ISSUER", str, DEFAULT_ISSUER),
            audience=read("WS_TOKEN_AUDIENCE", str, DEFAULT_AUDIENCE),
            host=read("HOST", str, "0.0.0.0"),
            port=read("PORT", _int(1, 65535), "8080"),
            instance_id=f"{revision}-{secrets.token_hex(4)}",
            jwks_min_refresh_s=read("WS_JWKS_MIN_REFRESH_S", _float(0.0, 3600.0), "10"),
            motion_max_bytes=read("REALTIME_MOTION_MAX_BYTES", _int(256, 1 << 20), "8192"),
            motion_per_s=read("REALTIME_MOTION_PER_S", _float(1.0, 1000.0), "30"),
            chat_max_chars=read("REALTIME_CHAT_MAX_CHARS", _int(1, 10_000), "500"),
            chat_per_s=read("REALTIME_CHAT_PER_S", _float(0.01, 100.0), "2"),
            chat_burst=read("REALTIME_CHAT_BURST", _int(1, 1000), "10"),
            queue_motion=read("REALTIME_QUEUE_MOTION", _int(1, 10_000), "32"),
            queue_other=read("REALTIME_QUEUE_OTHER", _int(1, 100_000), "256"),
            ping_interval_s=read("REALTIME_PING_INTERVAL_S", _float(0.1, 3600.0), "20"),
            ping_timeout_s=read("REALTIME_PING_TIMEOUT_S", _float(0.1, 3600.0), "20"),
            presence_recheck_s=read("REALTIME_PRESENCE_RECHECK_S", _float(0.0, 10.0), "0.3"),
            motion_ttl_s=read("REALTIME_MOTION_TTL_S", _int(1, 86_400), "60"),
            motion_flush_s=read("REALTIME_MOTION_FLUSH_S", _float(0.01, 60.0), "1"),
            compression=read("REALTIME_COMPRESSION", _choice({"none": False, "deflate": True}), "none"),
        )


class _Reader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def __call__(self, name: str, parse: Callable[[str], T], default: str | None = None) -> T:
        raw = self.environ.get(name, "").strip()
        if not raw:
            if default is None:
                raise ConfigError(f"missing required environment variable {name}")
            raw = default
        try:
            return parse(raw)
        except (ValueError, KeyError) as exc:
            raise ConfigError(f"{name}: {exc}") from None


def _url(*schemes: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        parts = urlsplit(raw)
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError(f"must be a URL with scheme {' or '.join(schemes)}")
        return raw

    return parse


def _redis_url(raw: str) -> str:
    """`rediss://` (TLS) anywhere, plain `redis://` only to this machine: the same rule as the
    functions' (shared/config.py), so the service never sends its Redis password in the clear."""
    raw = _url("redis", "rediss")(raw)
    if urlsplit(raw).scheme == "redis" and urlsplit(raw).hostname not in ("127.0.0.1", "::1", "localhost"):
        raise ValueError("must use rediss:// (TLS) unless the host is loopback")
    return raw


def _int(minimum: int, maximum: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not minimum <= value <= maximum:
            raise ValueError(f"must be between {minimum} and {maximum}")
        return value

    return parse


def _float(minimum: float, maximum: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(raw)
        if not minimum <= value <= maximum:
            raise ValueError(f"must be between {minimum} and {maximum}")
        return value

    return parse


def _choice(choices: Mapping[str, T]) -> Callable[[str], T]:
    def parse(raw: str) -> T:
        if raw not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return choices[raw]

    return parse
