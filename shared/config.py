"""Every setting of every function: one typed property each, with its default, bounds and meaning.

Each value is read and validated on first access, not at import: a function that never touches
PostgreSQL does not need DATABASE_URL. A missing or malformed value raises ConfigError naming the
variable; secrets never appear in messages or reprs. The properties are also the catalogue the
README's configuration table is generated from (`python -m deploy.settings_table`), so a setting
cannot exist without being documented.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload
from urllib.parse import urlsplit

T = TypeVar("T")
Parser = Callable[[str, str], T]

# Connections an instance keeps open (shared/clients/postgres.py doubles it under a burst).
DEFAULT_DB_POOL_SIZE = 5
# Hosts where a plain-text connection never leaves the machine.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


# -- parsers: (variable name, raw text) -> value, or ConfigError naming the variable -------------
def _url(*schemes: str) -> Parser[str]:
    def parse(name: str, raw: str) -> str:
        parts = urlsplit(raw)
        if parts.scheme not in schemes or not parts.hostname:
            raise ConfigError(
                f"{name} must be a URL with scheme {' or '.join(schemes)}, got a malformed value"
            )
        return raw

    return parse


def _redis_url(name: str, raw: str) -> str:
    """`rediss://` (TLS) anywhere; `redis://` only to this machine, so a production function can
    never send its Redis password and data in the clear (Upstash serves TLS)."""
    raw = _url("redis", "rediss")(name, raw)
    parts = urlsplit(raw)
    if parts.scheme == "redis" and parts.hostname not in LOOPBACK_HOSTS:
        raise ConfigError(f"{name} must use rediss:// (TLS) unless the host is loopback")
    return raw


def _int(minimum: int, maximum: int) -> Parser[int]:
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


def _cloud_sql_instance(name: str, raw: str) -> str:
    if raw.count(":") != 2:
        raise ConfigError(f"{name} must be PROJECT:REGION:INSTANCE")
    return raw


def _snowflake(name: str, raw: str) -> str:
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 20):
        raise ConfigError(f"{name} must be a Discord id (1 to 20 digits)")
    return raw


def _ed25519_public_key(name: str, raw: str) -> str:
    if len(raw) != 64 or any(c not in "0123456789abcdefABCDEF" for c in raw):
        raise ConfigError(f"{name} must be the application's public key (64 hex digits)")
    return raw


def _origins(name: str, raw: str) -> tuple[str, ...]:
    return tuple(origin.strip() for origin in raw.split(",") if origin.strip())


# -- the descriptor ------------------------------------------------------------------------------
class Setting(Generic[T]):
    """One environment variable as a typed, documented, lazily parsed property of Settings.

    `default=None` with `required=True` means the variable must be set; `required=False` makes the
    property None when it is unset.
    """

    def __init__(
        self,
        name: str,
        parse: Parser[T],
        *,
        default: str | None = None,
        required: bool = True,
        secret: bool = False,
        used_by: str,
        meaning: str,
        bounds: str = "",
    ) -> None:
        self.name = name
        self.parse = parse
        self.default = default
        self.required = required
        self.secret = secret
        self.used_by = used_by
        self.meaning = meaning
        self.bounds = bounds

    @overload
    def __get__(self, obj: None, owner: type) -> Setting[T]: ...
    @overload
    def __get__(self, obj: Settings, owner: type) -> T: ...
    def __get__(self, obj: Settings | None, owner: type) -> Setting[T] | T:
        if obj is None:
            return self
        return obj.value_of(self)


def integer(
    name: str, default: int, minimum: int, maximum: int, *, used_by: str, meaning: str
) -> Setting[int]:
    return Setting(
        name,
        _int(minimum, maximum),
        default=str(default),
        used_by=used_by,
        meaning=meaning,
        bounds=f"{minimum}..{maximum}",
    )


def secret(name: str, *, used_by: str, meaning: str) -> Setting[str]:
    return Setting(name, _text, secret=True, used_by=used_by, meaning=meaning)


_UNSET = object()


@dataclass
class Settings:
    """Process-wide settings; `settings()` returns the shared instance."""

    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def value_of(self, setting: Setting[T]) -> T:
        cached = self._cache.get(setting.name, _UNSET)
        if cached is not _UNSET:
            return cached  # type: ignore[no-any-return]
        raw = self.environ.get(setting.name, "").strip() or setting.default
        if raw is None:
            if setting.required:
                raise ConfigError(f"missing required environment variable {setting.name}")
            value: Any = None
        else:
            value = setting.parse(setting.name, raw)
        with self._lock:
            self._cache[setting.name] = value
        return value  # type: ignore[no-any-return]

    @classmethod
    def catalogue(cls) -> list[Setting[Any]]:
        """Every setting, in the order the class declares them."""
        return [value for value in vars(cls).values() if isinstance(value, Setting)]

    # -- platform -------------------------------------------------------------------------------
    @property
    def project_id(self) -> str:
        for name in ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "GCP_PROJECT"):
            if self.environ.get(name):
                return self.environ[name]
        raise ConfigError("missing required environment variable GOOGLE_CLOUD_PROJECT")

    deployed_service = Setting(
        "K_SERVICE",
        _text,
        required=False,
        used_by="all",
        meaning="set by Cloud Run on every deployed function; its presence means production (the local stack never sets it)",
    )
    max_event_age_s = integer(
        "MAX_EVENT_AGE_S",
        3600,
        60,
        7 * 86400,
        used_by="event functions",
        meaning="events older than this are dropped with a log line instead of retried",
    )
    threads = integer(
        "THREADS",
        8,
        1,
        1000,
        used_by="HTTP functions",
        meaning="gunicorn threads per instance (functions-framework reads it too): the manifest's concurrency",
    )
    cors_allowed_origins = Setting(
        "CORS_ALLOWED_ORIGINS",
        _origins,
        default="*",
        used_by="HTTP functions",
        meaning="comma-separated browser origins allowed to call the API; production: Terraform "
        "`cors_allowed_origins`; the local stack: the reference app's and Vite's origins, or "
        "`VCHAT_CORS_ALLOWED_ORIGINS` (docs/frontend.md)",
    )

    # -- stores ---------------------------------------------------------------------------------
    redis_url = Setting(
        "REDIS_URL",
        _redis_url,
        secret=True,
        used_by="redis users",
        meaning="`rediss://` (TLS, Upstash) URL; plain `redis://` only to a loopback host",
    )
    database_url = Setting(
        "DATABASE_URL",
        _url("postgresql+pg8000", "postgresql"),
        secret=True,
        used_by="postgres users, locally",
        meaning="`postgresql+pg8000://user@host:port/db`",
    )
    cloud_sql_instance = Setting(
        "CLOUD_SQL_INSTANCE",
        _cloud_sql_instance,
        required=False,
        used_by="postgres users, production",
        meaning="`project:region:instance`; when set, PostgreSQL is reached through the Cloud SQL connector",
    )
    db_iam_user = Setting(
        "DB_IAM_USER",
        _text,
        used_by="postgres users, production",
        meaning="IAM database user of the function",
    )
    db_name = Setting("DB_NAME", _text, default="vchat", used_by="postgres users", meaning="database name")
    db_pool_size = integer(
        "DB_POOL_SIZE",
        DEFAULT_DB_POOL_SIZE,
        1,
        100,
        used_by="postgres users",
        meaning="half the PostgreSQL connections an instance may hold (it keeps up to twice this open)",
    )
    db_lock_timeout_ms = integer(
        "DB_LOCK_TIMEOUT_MS",
        3000,
        100,
        60_000,
        used_by="postgres users",
        meaning="longest a statement waits for rows another transaction holds; then a request answers "
        "503 `busy` with Retry-After and a job fails to be retried",
    )
    db_statement_timeout_ms = integer(
        "DB_STATEMENT_TIMEOUT_MS",
        15_000,
        1000,
        600_000,
        used_by="postgres users",
        meaning="longest a statement may run, and a transaction stay idle between statements, before "
        "PostgreSQL ends it: no query or forgotten transaction holds a worker or its locks for good",
    )
    firestore_emulator_host = Setting(
        "FIRESTORE_EMULATOR_HOST",
        _host_port,
        required=False,
        used_by="local",
        meaning="Firestore emulator address (the client library reads it too)",
    )
    pubsub_emulator_host = Setting(
        "PUBSUB_EMULATOR_HOST",
        _host_port,
        required=False,
        used_by="local",
        meaning="Pub/Sub emulator address (the client library reads it too)",
    )
    auth_emulator_host = Setting(
        "FIREBASE_AUTH_EMULATOR_HOST",
        _host_port,
        required=False,
        used_by="local",
        meaning="when set (and K_SERVICE is not), unsigned emulator ID tokens are accepted; never in production",
    )
    firestore_call_deadline_s = integer(
        "FIRESTORE_CALL_DEADLINE_S",
        10,
        1,
        300,
        used_by="firestore users",
        meaning="longest one Firestore call retries a failure (the library's own default: 60 s, 300 s for "
        "reads and queries), and longest one attempt of a write waits for an answer; then a request "
        "answers 503 with Retry-After and an event is redelivered",
    )
    firestore_read_deadline_s = integer(
        "FIRESTORE_READ_DEADLINE_S",
        300,
        1,
        300,
        used_by="firestore users",
        meaning="longest one read or query stream may last (the library's own: 300 s); Terraform and the "
        "local stack set each function's to its timeout_s (at most 300), past which nobody waits for the answer",
    )
    firestore_transaction_deadline_s = integer(
        "FIRESTORE_TRANSACTION_DEADLINE_S",
        5,
        1,
        60,
        used_by="firestore users",
        meaning="total time of one transaction, retries included; then 503 with Retry-After",
    )
    firebase_certs_url = Setting(
        "FIREBASE_CERTS_URL",
        _url("https", "http"),
        default="https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com",
        used_by="HTTP functions",
        meaning="where Google's ID token certificates are fetched",
    )

    # -- matching and presence ------------------------------------------------------------------
    matching_ticket_ttl_s = integer(
        "MATCHING_TICKET_TTL_S",
        300,
        10,
        3600,
        used_by="matching_api, matching_worker",
        meaning="how long a queue ticket lives unless the client refreshes it with another POST /queue",
    )
    matching_room_ttl_s = integer(
        "MATCHING_ROOM_TTL_S",
        7200,
        60,
        86400,
        used_by="matching_api, matching_worker",
        meaning="lifetime of a room; auto_close closes rooms past expiresAt",
    )
    matching_claim_timeout_s = integer(
        "MATCHING_CLAIM_TIMEOUT_S",
        30,
        5,
        600,
        used_by="matching_worker",
        meaning="a pair claimed by a worker that has not settled it within this time is settled by the sweep",
    )
    matching_batch_pairs = integer(
        "MATCHING_BATCH_PAIRS",
        32,
        1,
        256,
        used_by="matching_worker",
        meaning="pairs taken off the queue per script run, at most what the free threads start on at once "
        "(8 x MATCHING_PAIRS_PER_TRANSACTION)",
    )
    matching_pairs_per_transaction = integer(
        "MATCHING_PAIRS_PER_TRANSACTION",
        4,
        1,
        32,
        used_by="matching_worker",
        meaning="pairs whose rooms one Firestore transaction creates (each pair is 7 reads and 6 writes)",
    )
    matching_max_pairs_per_run = integer(
        "MATCHING_MAX_PAIRS_PER_RUN",
        512,
        1,
        100000,
        used_by="matching_worker",
        meaning="pairs one invocation settles at most (later messages take the rest)",
    )
    presence_write_interval_s = integer(
        "PRESENCE_WRITE_INTERVAL_S",
        60,
        1,
        3600,
        used_by="matching_api, auto_close",
        meaning="heartbeats write users/{uid} at most this often while the status does not change",
    )

    # -- the every-minute sweep -----------------------------------------------------------------
    auto_close_batch_size = integer(
        "AUTO_CLOSE_BATCH_SIZE",
        200,
        1,
        500,
        used_by="auto_close",
        meaning="items per part and run (the rest waits a minute)",
    )
    auto_close_waiting_max_s = integer(
        "AUTO_CLOSE_WAITING_MAX_S",
        600,
        30,
        86400,
        used_by="auto_close",
        meaning="a waiting room older than this is closed",
    )
    auto_close_presence_grace_s = integer(
        "AUTO_CLOSE_PRESENCE_GRACE_S",
        60,
        0,
        3600,
        used_by="auto_close",
        meaning="extra silence, beyond PRESENCE_WRITE_INTERVAL_S, before a user without a presence key is marked offline",
    )

    # -- tokens ---------------------------------------------------------------------------------
    livekit_url = Setting(
        "LIVEKIT_URL",
        _url("wss", "ws", "https", "http"),
        used_by="issue_tokens",
        meaning="LiveKit server URL",
    )
    livekit_api_key = secret("LIVEKIT_API_KEY", used_by="issue_tokens", meaning="LiveKit API key")
    livekit_api_secret = secret("LIVEKIT_API_SECRET", used_by="issue_tokens", meaning="LiveKit API secret")
    livekit_token_ttl_s = integer(
        "LIVEKIT_TOKEN_TTL_S",
        3600,
        60,
        3600,
        used_by="issue_tokens",
        meaning="LiveKit token lifetime, cut to the room's expiry",
    )
    ws_signing_keys = secret(
        "WS_SIGNING_KEYS",
        used_by="issue_tokens",
        meaning="JSON list of `{kid, privateKey}` (Ed25519 or P-256 PEM), oldest first; the last signs",
    )
    ws_token_ttl_s = integer(
        "WS_TOKEN_TTL_S", 300, 30, 300, used_by="issue_tokens", meaning="WebSocket token lifetime"
    )
    ws_token_issuer = Setting(
        "WS_TOKEN_ISSUER",
        _text,
        default="vchat-issue-tokens",
        used_by="issue_tokens",
        meaning="`iss` of WebSocket tokens",
    )
    ws_token_audience = Setting(
        "WS_TOKEN_AUDIENCE",
        _text,
        default="vchat-ws",
        used_by="issue_tokens",
        meaning="`aud` of WebSocket tokens",
    )
    rate_limit_livekit_per_min = integer(
        "RATE_LIMIT_LIVEKIT_PER_MIN",
        30,
        1,
        100_000,
        used_by="issue_tokens",
        meaning="per-user budget of POST /livekit-token",
    )
    rate_limit_ws_per_min = integer(
        "RATE_LIMIT_WS_PER_MIN",
        60,
        1,
        100_000,
        used_by="issue_tokens",
        meaning="per-user budget of POST /ws-token",
    )

    # -- per-user budgets of the write routes (token buckets: a full minute's allowance may burst) --
    rate_limit_queue_per_min = integer(
        "RATE_LIMIT_QUEUE_PER_MIN", 30, 1, 100_000, used_by="matching_api", meaning="POST and DELETE /queue"
    )
    rate_limit_room_create_per_min = integer(
        "RATE_LIMIT_ROOM_CREATE_PER_MIN", 10, 1, 100_000, used_by="matching_api", meaning="POST /rooms"
    )
    rate_limit_room_join_per_min = integer(
        "RATE_LIMIT_ROOM_JOIN_PER_MIN",
        10,
        1,
        100_000,
        used_by="matching_api",
        meaning="POST /rooms/join (tight: it is where room codes could be guessed)",
    )
    rate_limit_room_leave_per_min = integer(
        "RATE_LIMIT_ROOM_LEAVE_PER_MIN",
        30,
        1,
        100_000,
        used_by="matching_api",
        meaning="POST /rooms/{roomId}/leave",
    )
    rate_limit_presence_per_min = integer(
        "RATE_LIMIT_PRESENCE_PER_MIN",
        12,
        1,
        100_000,
        used_by="matching_api",
        meaning="POST /presence (a beat every ~20 s)",
    )
    rate_limit_invitation_writes_per_min = integer(
        "RATE_LIMIT_INVITATION_WRITES_PER_MIN",
        10,
        1,
        100_000,
        used_by="invitations_api, discord_interactions",
        meaning="POST /invitations, PATCH and cancel",
    )
    rate_limit_participation_per_min = integer(
        "RATE_LIMIT_PARTICIPATION_PER_MIN",
        20,
        1,
        100_000,
        used_by="invitations_api, discord_interactions",
        meaning="joining, marking interest in and leaving invitations",
    )
    rate_limit_support_tickets_per_min = integer(
        "RATE_LIMIT_SUPPORT_TICKETS_PER_MIN",
        5,
        1,
        100_000,
        used_by="invitations_api, discord_interactions",
        meaning="POST /tickets and staff's POST /tickets/{id}/close",
    )

    rate_limit_reads_per_min = integer(
        "RATE_LIMIT_READS_PER_MIN",
        300,
        1,
        100_000,
        used_by="invitations_api, account_api",
        meaning="every read route of invitations_api and account_api together, one bucket per user (lists and details): generous, so only a flood feels it",
    )
    rate_limit_reads_burst = integer(
        "RATE_LIMIT_READS_BURST",
        50,
        1,
        100_000,
        used_by="invitations_api, account_api",
        meaning="reads a user may send at once before RATE_LIMIT_READS_PER_MIN paces them (at most that)",
    )

    rate_limit_blocks_per_min = integer(
        "RATE_LIMIT_BLOCKS_PER_MIN",
        20,
        1,
        100_000,
        used_by="account_api",
        meaning="POST /blocks and DELETE /blocks/{userId}",
    )
    rate_limit_reports_per_min = integer(
        "RATE_LIMIT_REPORTS_PER_MIN", 5, 1, 100_000, used_by="account_api", meaning="POST /reports"
    )
    rate_limit_staff_actions_per_min = integer(
        "RATE_LIMIT_STAFF_ACTIONS_PER_MIN",
        60,
        1,
        100_000,
        used_by="account_api",
        meaning="staff: resolving reports, PUT and DELETE of suspensions",
    )
    rate_limit_account_per_min = integer(
        "RATE_LIMIT_ACCOUNT_PER_MIN",
        3,
        1,
        100_000,
        used_by="account_api",
        meaning="DELETE /me and GET /me/export (each reads or touches everything of the user)",
    )

    # -- safety and the account (account_api, account_deletion) -------------------------------
    reports_suspend_threshold = integer(
        "REPORTS_SUSPEND_THRESHOLD",
        3,
        2,
        1000,
        used_by="account_api",
        meaning="open reports from this many distinct users within REPORTS_SUSPEND_WINDOW_H suspend the reported user until staff review them",
    )
    reports_suspend_window_h = integer(
        "REPORTS_SUSPEND_WINDOW_H",
        24,
        1,
        720,
        used_by="account_api",
        meaning="the period (hours) the report threshold counts over",
    )
    max_blocks_per_user = integer(
        "MAX_BLOCKS_PER_USER",
        1000,
        10,
        100_000,
        used_by="account_api",
        meaning="blocks one user may hold (bounds the Redis set pair.lua checks and its rebuild)",
    )
    identity_toolkit_url = Setting(
        "IDENTITY_TOOLKIT_URL",
        _url("https"),
        default="https://identitytoolkit.googleapis.com",
        used_by="account_api, account_deletion",
        meaning="Firebase Auth admin REST API (disable a banned account, delete a deleted one); the Auth emulator replaces it locally",
    )

    # -- retention ------------------------------------------------------------------------------
    retention_closed_room_days = integer(
        "RETENTION_CLOSED_ROOM_DAYS",
        7,
        1,
        3650,
        used_by="matching_api, matching_worker, on_room_written, auto_close, account_api",
        meaning="a closed room's `deleteAt` (Firestore TTL) is its close time plus this",
    )
    retention_call_session_days = integer(
        "RETENTION_CALL_SESSION_DAYS",
        30,
        1,
        3650,
        used_by="matching_api, matching_worker, on_room_written, auto_close, account_api",
        meaning="an ended call session's `deleteAt` (Firestore TTL) is its end plus this; also how long a call can be reported",
    )
    retention_resolved_report_days = integer(
        "RETENTION_RESOLVED_REPORT_DAYS",
        365,
        1,
        3650,
        used_by="account_api",
        meaning="a resolved report's `deleteAt` (Firestore TTL) is its resolution plus this",
    )
    call_sessions_retention_months = integer(
        "CALL_SESSIONS_RETENTION_MONTHS",
        13,
        1,
        120,
        used_by="auto_close",
        meaning="PostgreSQL `call_sessions` rows that started longer ago are deleted in batches",
    )

    # -- invitations ----------------------------------------------------------------------------
    invitations_encryption_keys = secret(
        "INVITATIONS_ENCRYPTION_KEYS",
        used_by="invitations_api",
        meaning="comma-separated Fernet keys, newest first (rotation in docs/invitations.md)",
    )

    # -- Discord (docs/discord.md) ----------------------------------------------------------------
    discord_api_url = Setting(
        "DISCORD_API_URL",
        _url("https", "http"),
        default="https://discord.com/api/v10",
        used_by="discord_worker, discord_auth",
        meaning="Discord's REST API base (the local stack points it at its stand-in)",
    )
    discord_authorize_url = Setting(
        "DISCORD_AUTHORIZE_URL",
        _url("https", "http"),
        default="https://discord.com/oauth2/authorize",
        used_by="discord_auth",
        meaning="Discord's OAuth2 authorize page, handed to the web app by GET /config",
    )
    discord_application_id = Setting(
        "DISCORD_APPLICATION_ID",
        _snowflake,
        used_by="make discord-commands",
        meaning="the Discord application",
    )
    discord_client_id = Setting(
        "DISCORD_CLIENT_ID",
        _snowflake,
        used_by="discord_auth",
        meaning="the application's OAuth2 client id (its application id)",
    )
    discord_guild_id = Setting(
        "DISCORD_GUILD_ID", _snowflake, used_by="Discord functions", meaning="the community's Discord server"
    )
    discord_channel_id = Setting(
        "DISCORD_CHANNEL_ID",
        _snowflake,
        used_by="discord_interactions, discord_worker",
        meaning="the channel invitations are posted in",
    )
    discord_staff_channel_id = Setting(
        "DISCORD_STAFF_CHANNEL_ID",
        _snowflake,
        used_by="discord_worker",
        meaning="the staff-only channel told about invitations and tickets",
    )
    discord_staff_role_id = Setting(
        "DISCORD_STAFF_ROLE_ID",
        _snowflake,
        used_by="discord_interactions, discord_auth",
        meaning="the guild role that makes a member staff",
    )
    discord_public_key = Setting(
        "DISCORD_PUBLIC_KEY",
        _ed25519_public_key,
        used_by="discord_interactions",
        meaning="the application's hex Ed25519 public key; every interaction's signature is checked with it",
    )
    discord_bot_token = secret(
        "DISCORD_BOT_TOKEN", used_by="discord_worker, discord_auth", meaning="the bot's token (REST calls)"
    )
    discord_client_secret = secret(
        "DISCORD_CLIENT_SECRET", used_by="discord_auth", meaning="the OAuth2 client secret (code exchange)"
    )
    service_account_email = Setting(
        "SERVICE_ACCOUNT_EMAIL",
        _text,
        required=False,
        used_by="discord_auth",
        meaning="the function's own service account (Terraform sets it), which signs custom tokens",
    )

    # -- VRoid Hub ------------------------------------------------------------------------------
    vroid_api_url = Setting(
        "VROID_API_URL", _url("https", "http"), used_by="sync_vrm_models", meaning="VRoid Hub API base URL"
    )
    vroid_client_id = secret(
        "VROID_CLIENT_ID", used_by="sync_vrm_models", meaning="OAuth client of the curator app"
    )
    vroid_client_secret = secret("VROID_CLIENT_SECRET", used_by="sync_vrm_models", meaning="its secret")
    vroid_refresh_token = secret(
        "VROID_REFRESH_TOKEN",
        used_by="sync_vrm_models",
        meaning="the curator's refresh token (docs/vroid.md)",
    )
    vroid_page_size = integer(
        "VROID_PAGE_SIZE", 100, 1, 100, used_by="sync_vrm_models", meaning="models per API page"
    )
    vrm_sync_batch_size = integer(
        "VRM_SYNC_BATCH_SIZE", 500, 1, 500, used_by="sync_vrm_models", meaning="Firestore writes per batch"
    )
    vrm_sync_full_compare_h = integer(
        "VRM_SYNC_FULL_COMPARE_H",
        24,
        0,
        8760,
        used_by="sync_vrm_models",
        meaning="a run compares every listed document instead of trusting the content index once the last full compare is this old (hours; 0: every run), repairing documents changed behind the sync's back",
    )


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
