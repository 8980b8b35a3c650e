"""Typed settings read from environment variables.

Each value is read and validated on first access, not at import: a function that never touches
PostgreSQL does not need DATABASE_URL. A missing or malformed value raises ConfigError naming the
variable; secrets never appear in messages or reprs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

# Connections an instance keeps open (shared/clients/postgres.py doubles it under a burst).
DEFAULT_DB_POOL_SIZE = 5


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


def _url_parser(*schemes: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        parts = urlsplit(raw)
        if parts.scheme not in schemes or not parts.hostname:
            raise ConfigError(
                f"{name} must be a URL with scheme {' or '.join(schemes)}, got a malformed value"
            )
        return raw

    return parse


# Hosts where a plain-text connection never leaves the machine.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def _redis_url(name: str, raw: str) -> str:
    """`rediss://` (TLS) anywhere; `redis://` only to this machine, so a production function can
    never send its Redis password and data in the clear (Upstash serves TLS)."""
    raw = _url_parser("redis", "rediss")(name, raw)
    parts = urlsplit(raw)
    if parts.scheme == "redis" and parts.hostname not in LOOPBACK_HOSTS:
        raise ConfigError(f"{name} must use rediss:// (TLS) unless the host is loopback")
    return raw


def _int_parser(minimum: int, maximum: int) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
        if not minimum <= value <= maximum:
            raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
        return value

    return parse


def _host_port(name: str, raw: str) -> str:
    host, sep, port = raw.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError(f"{name} must be HOST:PORT, got {raw!r}")
    return raw


def _text(name: str, raw: str) -> str:
    return raw


@dataclass
class Settings:
    """Process-wide settings; `settings()` returns the shared instance."""

    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _get(self, name: str, parse: Callable[[str, str], T], default: str | None = None) -> T:
        if name in self._cache:
            return self._cache[name]  # type: ignore[no-any-return]
        raw = self.environ.get(name, "").strip()
        if not raw:
            if default is None:
                raise ConfigError(f"missing required environment variable {name}")
            raw = default
        value = parse(name, raw)
        with self._lock:
            self._cache[name] = value
        return value

    def optional(self, name: str) -> str | None:
        raw = self.environ.get(name, "").strip()
        return raw or None

    def require(self, name: str) -> str:
        """A required free-form value (e.g. a secret): empty counts as missing."""
        return self._get(name, _text)

    # -- platform -------------------------------------------------------------------------------
    @property
    def project_id(self) -> str:
        for name in ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "GCP_PROJECT"):
            if self.environ.get(name):
                return self.environ[name]
        raise ConfigError("missing required environment variable GOOGLE_CLOUD_PROJECT")

    @property
    def function_name(self) -> str:
        return self.environ.get("K_SERVICE") or self.environ.get("FUNCTION_TARGET") or "local"

    # -- stores ---------------------------------------------------------------------------------
    @property
    def redis_url(self) -> str:
        return self._get("REDIS_URL", _redis_url)

    @property
    def database_url(self) -> str:
        return self._get("DATABASE_URL", _url_parser("postgresql+pg8000", "postgresql"))

    @property
    def cloud_sql_instance(self) -> str | None:
        """`project:region:instance`; when set, PostgreSQL is reached through the Cloud SQL connector."""
        value = self.optional("CLOUD_SQL_INSTANCE")
        if value is not None and value.count(":") != 2:
            raise ConfigError("CLOUD_SQL_INSTANCE must be PROJECT:REGION:INSTANCE")
        return value

    @property
    def db_iam_user(self) -> str:
        return self.require("DB_IAM_USER")

    @property
    def db_name(self) -> str:
        return self._get("DB_NAME", _text, default="vchat")

    @property
    def db_pool_size(self) -> int:
        return self._get("DB_POOL_SIZE", _int_parser(1, 100), default=str(DEFAULT_DB_POOL_SIZE))

    @property
    def firestore_emulator_host(self) -> str | None:
        value = self.optional("FIRESTORE_EMULATOR_HOST")
        return _host_port("FIRESTORE_EMULATOR_HOST", value) if value else None

    @property
    def auth_emulator_host(self) -> str | None:
        value = self.optional("FIREBASE_AUTH_EMULATOR_HOST")
        return _host_port("FIREBASE_AUTH_EMULATOR_HOST", value) if value else None

    @property
    def firebase_certs_url(self) -> str:
        return self._get(
            "FIREBASE_CERTS_URL",
            _url_parser("https", "http"),
            default="https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com",
        )

    @property
    def cors_origins(self) -> tuple[str, ...]:
        raw = self.environ.get("CORS_ALLOWED_ORIGINS", "*")
        return tuple(origin.strip() for origin in raw.split(",") if origin.strip())

    def int_setting(self, name: str, default: int, minimum: int = 0, maximum: int = 10**9) -> int:
        return self._get(name, _int_parser(minimum, maximum), default=str(default))


_settings: Settings | None = None
_settings_lock = threading.Lock()


def settings() -> Settings:
    global _settings
    if _settings is None:
        with _settings_lock:
            if _settings is None:
                _settings = Settings()
    return _settings


def reset_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Replace the process-wide settings (tests, and the local stack after it rewrites env)."""
    global _settings
    with _settings_lock:
        _settings = Settings(environ=environ if environ is not None else os.environ)
    return _settings
