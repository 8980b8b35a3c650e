"""PostgreSQL through SQLAlchemy + pg8000.

Locally a direct `DATABASE_URL` (postgresql+pg8000://...). In production, when CLOUD_SQL_INSTANCE is
set, connections go through the Cloud SQL Python Connector with IAM database authentication and the
LAZY refresh strategy (certificates refreshed on demand, which suits instances throttled between
requests).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import pg_errors
from shared.config import settings
from shared.lazy import Lazy

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine, ExceptionContext


def _server_reported(error: BaseException) -> bool:
    """An error the server sent as an ErrorResponse (it carries a SQLSTATE) and survived: pg8000
    reads on to ReadyForQuery after one, so the connection is still in step with the server. Not a
    FATAL one (a backend terminated by an administrator, a shutdown, a failover): the server closes
    the session after sending it."""
    said = pg_errors.fields(error)
    return "C" in said and said.get("S") not in ("FATAL", "PANIC")


def _invalidate_unless_server_error(context: ExceptionContext) -> None:
    """Any other failure during a statement (an encoding error half-way through a message, a socket
    timeout, a closed session, a bug) may leave bytes of a request unsent or a response unread: that
    connection must never serve another query, or its next caller reads someone else's rows. Only it
    is discarded; the rest of the pool stays."""
    if not _server_reported(context.original_exception):
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = False


TIMESTAMP_OID = 1114  # timestamp without time zone: every time column of the invitations schema


def parse_timestamp(text: str) -> Any:
    """pg8000 reads a TIMESTAMP with datetime.strptime, about 100 times slower than fromisoformat
    (a 20-row invitations page has 40 of them: half a millisecond of CPU per page on a busy
    instance). Same values: PostgreSQL's text form is ISO 8601; what fromisoformat refuses
    ('infinity', years beyond 9999, BC dates) goes to pg8000's own parser, as before."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        from pg8000.converters import timestamp_in

        return timestamp_in(text)


def _register_fast_timestamps(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.register_in_adapter(TIMESTAMP_OID, parse_timestamp)


# A connection checked in less than this long ago is handed out without the pre-ping: it answered
# a moment ago, and under load every checkout is such a reuse, so the ping would be a round trip on
# nearly every request for nearly no information (HikariCP skips its alive check the same way, with
# the same 500 ms default). A connection the server closes inside that window fails the one
# statement that meets it (a disconnect: it is discarded, the request answers 503 with Retry-After),
# which is what a connection closed between the ping and the statement does anyway.
PING_AFTER_IDLE_S = 0.5
_LAST_USED = "vchat_last_used"  # monotonic seconds, in the pool's per-connection info


def _note_last_used(_dbapi_connection: Any, record: Any) -> None:
    record.info[_LAST_USED] = time.monotonic()


@contextmanager
def _in_autocommit(dbapi_connection: Any) -> Iterator[None]:
    """Statements on this pg8000 connection run without a BEGIN until the block ends."""
    dbapi_connection.autocommit = True
    try:
        yield
    finally:
        dbapi_connection.autocommit = False


def _ping_outside_a_transaction(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """The pool's pre-ping, run at checkout as pool_pre_ping would, but in autocommit, and only for
    a connection idle longer than PING_AFTER_IDLE_S.

    SQLAlchemy's own pre-ping runs `SELECT 1` through pg8000 in its default mode, which sends BEGIN
    first and leaves that transaction open for the caller: every checkout paid a round trip for the
    BEGIN and every read another for the ROLLBACK at check-in. A connection that fails the ping is
    replaced (DisconnectionError: the pool discards it and checks out another)."""
    if time.monotonic() - record.info.get(_LAST_USED, 0.0) < PING_AFTER_IDLE_S:
        return
    try:
        with _in_autocommit(dbapi_connection):
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
    except Exception as error:
        from sqlalchemy.exc import DisconnectionError

        raise DisconnectionError(f"pre-ping failed: {error!r}") from error


@contextmanager
def autocommit_read(engine: Engine) -> Iterator[Connection]:
    """A connection for a read of one statement, which needs no transaction around it: the
    statement runs in autocommit (one snapshot of its own), with no BEGIN before it and no ROLLBACK
    after it: with the pre-ping, four round trips instead of eight (pg8000 sends a statement with
    parameters in three exchanges, and the ROLLBACK too). A read of several statements that must
    agree with each other takes engine.begin()."""
    with engine.connect() as connection, _in_autocommit(connection.connection.dbapi_connection):
        yield connection


def memoize_placeholder_rewrite() -> None:
    """pg8000 rewrites a statement's `%s` placeholders to `$n` by scanning its text in Python, a
    character at a time, on every execute: 0.56 ms of the invitations list query's 3 ms, measured.
    For the "format" style SQLAlchemy's dialect uses, the result depends on the text alone (the
    values pass through unchanged), so each text is rewritten once. Statement texts come from code,
    so they are few; the cache is bounded anyway. Idempotent."""
    import pg8000.legacy

    rewrite = pg8000.legacy.convert_paramstyle
    if getattr(rewrite, "memoized", False):
        return

    @functools.lru_cache(maxsize=1024)
    def rewritten(statement: str) -> str:
        return str(rewrite("format", statement, ())[0])

    def convert_paramstyle(style: str, statement: str, args: Any) -> tuple[str, Any]:
        if style == "format":
            return rewritten(statement), args
        return rewrite(style, statement, args)  # type: ignore[no-any-return]

    convert_paramstyle.memoized = True  # type: ignore[attr-defined]
    convert_paramstyle.original = rewrite  # type: ignore[attr-defined]
    pg8000.legacy.convert_paramstyle = convert_paramstyle


def pool_limits(pool_size: int) -> dict[str, int]:
    """An instance holds at most twice DB_POOL_SIZE connections, each kept once opened.

    Not DB_POOL_SIZE plus as many overflow: SQLAlchemy closes an overflow connection at check-in
    while the pool holds its size, so under steady load every burst opened new ones (a TCP and TLS
    handshake and authentication each; through the Cloud SQL connector an IAM check too). Measured
    on invitations_api at saturation: most of its CPU went to that churn. The connection budget
    (deploy/connection_budget.py, docs/operations.md) multiplies the maximum by each function's
    max_instances and checks the sum against Cloud SQL's max_connections; it is unchanged.
    """
    return {"pool_size": 2 * pool_size, "max_overflow": 0}


def max_connections_per_instance(pool_size: int) -> int:
    limits = pool_limits(pool_size)
    return limits["pool_size"] + limits["max_overflow"]


def session_limits(lock_timeout_ms: int, statement_timeout_ms: int) -> dict[str, str]:
    """Server settings every session of a function starts with, sent in the startup message (no
    round trip). Without them a statement waits for a row lock, or runs, for as long as it takes,
    holding a request thread and a pooled connection meanwhile; with them PostgreSQL ends it
    (lock_not_available, query_canceled) and the request answers 503 (shared/outages.py). A
    transaction left idle (a thread that died between two statements) is ended the same way, so its
    row locks do not outlive it."""
    return {
        "lock_timeout": str(lock_timeout_ms),
        "statement_timeout": str(statement_timeout_ms),
        "idle_in_transaction_session_timeout": str(statement_timeout_ms),
    }


def _create() -> Engine:
    import sqlalchemy

    config = settings()
    pool = {
        **pool_limits(config.db_pool_size),
        "pool_timeout": 10,
        "pool_recycle": 1800,
    }
    limits = session_limits(config.db_lock_timeout_ms, config.db_statement_timeout_ms)
    memoize_placeholder_rewrite()
    instance = config.cloud_sql_instance
    if instance is None:
        engine = sqlalchemy.create_engine(
            _pg8000_url(config.database_url), connect_args={"startup_params": limits}, **pool
        )
    else:
        from google.cloud.sql.connector import Connector, IPTypes

        connector = Connector(refresh_strategy="LAZY", ip_type=IPTypes.PRIVATE, enable_iam_auth=True)
        user, database = config.db_iam_user, config.db_name
        engine = sqlalchemy.create_engine(
            "postgresql+pg8000://",
            creator=lambda: connector.connect(
                instance, "pg8000", user=user, db=database, startup_params=limits
            ),
            **pool,
        )
    sqlalchemy.event.listen(engine, "handle_error", _invalidate_unless_server_error)
    sqlalchemy.event.listen(engine, "connect", _register_fast_timestamps)
    sqlalchemy.event.listen(engine, "connect", _note_last_used)  # just connected: no ping needed
    sqlalchemy.event.listen(engine, "checkin", _note_last_used)
    sqlalchemy.event.listen(engine, "checkout", _ping_outside_a_transaction)
    return engine


def _pg8000_url(url: str) -> str:
    return "postgresql+pg8000://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url


get_engine: Lazy[Engine] = Lazy(_create)


class PoolOutOfStep(RuntimeError):
    """A pooled connection answered a different query than the one it was sent."""


def ping() -> None:
    """Health check: a round trip through the pool that must echo a fresh nonce, so a connection out
    of step with its server (answering an earlier query) is noticed, reported and discarded."""
    import secrets

    import sqlalchemy

    nonce = secrets.token_hex(8)
    with get_engine().connect() as connection:
        echoed = connection.execute(sqlalchemy.text("SELECT CAST(:nonce AS text)"), {"nonce": nonce}).scalar()
        if echoed != nonce:
            connection.invalidate()
            raise PoolOutOfStep("a pooled PostgreSQL connection answered another query")
